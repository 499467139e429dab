//! Network links, addresses and routes through rtnetlink.
