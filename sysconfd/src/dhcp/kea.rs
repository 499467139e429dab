//! The subset of Kea DHCPv4's JSON configuration telbox writes, as types.
//! Serialized with serde_json; field names follow Kea's (kebab-case).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The whole `kea-dhcp4.conf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeaConfig {
    #[serde(rename = "Dhcp4")]
    pub dhcp4: Dhcp4,
}

/// The `Dhcp4` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Dhcp4 {
    pub interfaces_config: InterfacesConfig,
    pub control_socket: ControlSocket,
    pub lease_database: LeaseDatabase,
    /// Answer NAK to requests for addresses this server does not know.
    pub authoritative: bool,
    /// Lease time in seconds.
    pub valid_lifetime: u32,
    pub option_def: Vec<OptionDef>,
    pub option_data: Vec<OptionData>,
    pub client_classes: Vec<ClientClass>,
    pub subnet4: Vec<Subnet4>,
    pub loggers: Vec<Logger>,
}

/// Which interfaces Kea listens on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InterfacesConfig {
    pub interfaces: Vec<String>,
    /// `raw`: answers clients that have no address yet on a directly attached link.
    pub dhcp_socket_type: String,
    /// Attempts at opening an interface's socket before giving up on it.
    pub service_sockets_max_retries: u32,
    /// Pause between those attempts, in milliseconds.
    pub service_sockets_retry_wait_time: u32,
}

/// The unix socket Kea takes commands on (`config-reload`, `config-test`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ControlSocket {
    pub socket_type: String,
    pub socket_name: PathBuf,
}

/// Where leases are kept: the memfile CSV, which survives restarts and reloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LeaseDatabase {
    #[serde(rename = "type")]
    pub kind: String,
    pub persist: bool,
    pub name: PathBuf,
    /// Seconds between lease file cleanups.
    pub lfc_interval: u32,
}

/// A custom option definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OptionDef {
    pub name: String,
    pub code: u8,
    #[serde(rename = "type")]
    pub kind: String,
    pub space: String,
}

/// One option value, by Kea's option name, in Kea's CSV text form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionData {
    pub name: String,
    pub data: String,
}

impl OptionData {
    pub fn new(name: &str, data: impl Into<String>) -> Self {
        OptionData {
            name: name.to_owned(),
            data: data.into(),
        }
    }

    /// A text option; commas are escaped so Kea takes the text as one value.
    pub fn text(name: &str, text: &str) -> Self {
        OptionData::new(name, text.replace(',', "\\,"))
    }
}

/// A client class: packets for which `test` is true belong to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientClass {
    pub name: String,
    pub test: String,
}

/// A subnet with its pools, options and reservations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Subnet4 {
    /// Stable id: leases refer to their subnet by it.
    pub id: u32,
    pub subnet: String,
    pub pools: Vec<Pool>,
    pub option_data: Vec<OptionData>,
    pub reservations: Vec<HostReservation>,
}

/// An address range, optionally open only to one client class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Pool {
    /// `first - last`.
    pub pool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_class: Option<String>,
}

/// A fixed address for one MAC address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostReservation {
    pub hw_address: String,
    pub ip_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

/// A logger; telbox logs to stdout (the journal under systemd, the
/// supervisor's output otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logger {
    pub name: String,
    pub output_options: Vec<LogOutput>,
    pub severity: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogOutput {
    pub output: String,
}
