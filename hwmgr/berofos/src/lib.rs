//! Client for beroNet Berofos failover switches.
//!
//! A Berofos switches ISDN lines from port A either to B (relay mode 1, the
//! master's side) or to D (mode 0, the slave's side; also where the relays
//! rest without power). It speaks two protocols:
//!
//! * UDP "GBL4" on port 50123 ([`gbl4`]): scan, netconf, ping, watchdog kick,
//!   reset and firmware flash, addressed by MAC;
//! * HTTP on port 80: `GET /config.txt` reads every setting ([`Settings`]),
//!   `GET /?cmd=N&param=value` writes one ([`Setting`]), optionally behind a
//!   `user:password` login answered with Digest or Basic, as the device asks.
//!
//! [`Berofos`] is one device; [`scan`] finds devices; [`BnfosConf`] is the
//! `/etc/bnfos.conf` file the `bnfos` tool reads and writes;
//! [`read_secret_file`] reads a password file only its owner may read. Every
//! request is bounded by a timeout and every error names the device and the
//! request. Blocking I/O only (std sockets for UDP, `ureq` for HTTP): no
//! async runtime.

mod client;
pub mod conf;
mod device;
mod error;
pub mod gbl4;
mod http;
mod relay;
mod secret;
mod setting;
mod settings;
mod status;
mod udp;

pub use client::{scan, scan_broadcast, Berofos, DEFAULT_RESET_TIMEOUT, DEFAULT_TIMEOUT};
pub use conf::{BnfosConf, ConfDevice};
pub use device::{Login, Mac, Password};
pub use error::{DeviceLabel, Error, Result, Seconds};
pub use gbl4::DEFAULT_PORT as DEFAULT_UDP_PORT;
pub use gbl4::{DeviceInfo, NetConf, PhyConf, PhyState, Version};
pub use http::DEFAULT_PORT as DEFAULT_HTTP_PORT;
pub use relay::{RelayMode, Scenario, Watchdog, WatchdogState};
pub use secret::read_secret_file;
pub use setting::{PowerPort, Setting, ADMIN_PASSWORD_MAX};
pub use settings::{Mail, Network, Settings, Syslog};
pub use status::Status;
