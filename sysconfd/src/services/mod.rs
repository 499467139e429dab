//! Services: systemd units over D-Bus, or a built-in supervisor where there is no systemd.
