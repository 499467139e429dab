//! NTP (chrony): time for the box and the phones.
