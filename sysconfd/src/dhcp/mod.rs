//! DHCP server for IP phones (Kea DHCPv4).
