//! Host identity: host name, /etc/hostname, /etc/hosts, /etc/resolv.conf.
