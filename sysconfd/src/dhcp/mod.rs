//! DHCP server for IP phones (Kea DHCPv4).
//!
//! The engine calls, in this order:
//!
//! * [`render`]`(cfg, voip_if, &KeaPaths::under(state_dir))` → the
//!   [`FileSpec`](crate::files::FileSpec) of `/etc/kea/kea-dhcp4.conf`,
//!   built as a typed [`KeaConfig`] and serialized with serde_json. It
//!   listens on the VoIP interface and `dhcp.interfaces`; serves the VoIP
//!   subnet and every `[[dhcp.subnet]]` site with its own router and pool;
//!   gives routers, DNS, the box as NTP server, TFTP server name or
//!   provisioning URL (options 66 and 160); carries the reservations; keeps
//!   leases in a memfile CSV and takes commands on a unix socket.
//!   [`KeaError::Disabled`] when `dhcp.enabled = false`: stop the service.
//! * [`check_contents`]`(&spec.contents, InterfaceCheck::Skip)` at plan time
//!   (the interfaces may not exist yet), or [`check`]`(path)` on a written
//!   file: `kea-dhcp4 -t`; [`KeaError::Rejected`] carries Kea's message.
//! * After writing the file: [`reload`] over the control socket (what
//!   [`crate::services::Services::reload`] does for the DHCP service). Kea
//!   keeps its leases and, if it refuses the file, its old configuration.
//! * [`leases`]`(&paths.lease_file)` for `appliance dhcp leases`.
//!
//! Known phones come from `data/phone-vendors.toml` ([`vendors`]): each vendor
//! becomes a Kea client class testing the MAC prefix and the vendor-class
//! identifier (option 60); the pools admit only the class
//! [`ADMITTED_CLASS`] (a known phone, or a device with a reservation) unless
//! `dhcp.unknown_clients = true`.

mod check;
mod control;
pub mod kea;
mod leases;
mod render;
pub mod vendors;

use std::path::PathBuf;

pub use check::{check, check_contents, InterfaceCheck};
#[doc(hidden)]
pub use control::parse_answer;
pub use control::{command, is_running, reload, Answer};
pub use kea::KeaConfig;
pub use leases::{leases, parse_kea_leases, KeaLease};
pub use render::{kea_config, render, KeaPaths, ADMITTED_CLASS, KEA_CONF};

/// What can go wrong generating, checking or driving the DHCP server.
#[derive(Debug, thiserror::Error)]
pub enum KeaError {
    #[error("DHCP is disabled (`dhcp.enabled = false`)")]
    Disabled,
    #[error("no interface has `role = \"voip\"`")]
    NoVoipLink,
    #[error("the VoIP interface has no static address")]
    NoVoipAddress,
    #[error("the VoIP pool (`dhcp.pool_start`, `dhcp.pool_end`) is not set")]
    NoPool,
    #[error("Kea refused the configuration: {0}")]
    Rejected(String),
    #[error("could not run {program}: {source}")]
    Run {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("Kea's control socket {} does not answer: {source}", socket.display())]
    Control {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("Kea refused `{command}`: {text}")]
    Command { command: String, text: String },
    #[error("phone vendor list: {0}")]
    VendorList(String),
    #[error("lease file: {0}")]
    LeaseFile(String),
    #[error("JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("{0}")]
    Io(#[source] std::io::Error),
}

#[cfg(test)]
mod tests;
