//! What sysconfd's read-only methods answer, as types both sides share:
//! sysconfd builds these and serializes them; clients deserialize them and
//! never pick keys out of untyped JSON. `docs/dbus.md` shows each as JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::config::network::Role;
use crate::config::values::{Ipv4Cidr, MacAddr};

/// The route protocol number sysconfd marks its routes with (`proto 207`).
pub const TELBOX_RTPROTO: u8 = 207;

/// How a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Recorded by older builds while an apply ran.
    Applying,
    /// Applied, waiting for `Confirm` before its deadline.
    Pending,
    /// Applied and in force (or replaced since by a newer one).
    Applied,
    /// Applied, then replaced by a rollback.
    RolledBack,
    /// Failed to apply; the previous generation stayed in force.
    Failed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Outcome::Applying => "applying",
            Outcome::Pending => "pending",
            Outcome::Applied => "applied",
            Outcome::RolledBack => "rolled-back",
            Outcome::Failed => "failed",
        })
    }
}

/// A daemon sysconfd runs, as its service manager reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    Active,
    Reloading,
    /// Starting, or waiting to be started again after a crash.
    Activating,
    Deactivating,
    Inactive,
    Failed,
    /// sysconfd does not run daemons here (`--services none`).
    Unmanaged,
    /// A state the service manager reports that telbox does not know.
    #[serde(untagged)]
    Other(String),
}

impl ServiceState {
    pub fn is_running(&self) -> bool {
        matches!(self, ServiceState::Active | ServiceState::Reloading)
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self {
            ServiceState::Active => "active",
            ServiceState::Reloading => "reloading",
            ServiceState::Activating => "activating",
            ServiceState::Deactivating => "deactivating",
            ServiceState::Inactive => "inactive",
            ServiceState::Failed => "failed",
            ServiceState::Unmanaged => "not managed by sysconfd",
            ServiceState::Other(s) => s,
        };
        f.pad(word)
    }
}

/// The parts of `Status.Status` beyond the generation: daemons and telephony.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSections {
    /// Each daemon by name (`dhcp`, `ntp`).
    #[serde(default)]
    pub services: BTreeMap<String, ServiceState>,
    #[serde(default)]
    pub telephony: TelephonySummary,
}

/// Cards found and each span's alarms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelephonySummary {
    pub cards: usize,
    /// Span number → alarms (`OK`, `RED`, `RED/BLUE`…).
    #[serde(default)]
    pub spans: BTreeMap<u32, String>,
    /// The TC400 transcoders, with the channels of their configured mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcoders: Vec<TranscoderInfo>,
}

/// A TC400 transcoder and what the mode configured for it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscoderInfo {
    /// `pci:0000:05:00.0`.
    pub location: String,
    pub description: String,
    /// Whether the configuration in force names this card.
    pub configured: bool,
    /// The driver's `mode`: `g729`, `g723` or `mixed` (its default).
    pub mode: String,
    /// Transcoding channels in that mode (120 G.729a, 92 G.723.1, 92 mixed).
    pub channels: u32,
    /// `G.729a`, `G.723.1` or `G.729a and G.723.1`.
    pub codecs: String,
    /// Whether its firmware (`dahdi-fw-tc400m.bin`) is in /lib/firmware.
    pub firmware_installed: bool,
}

/// `Status.Network`: the links and routes as the kernel has them, and what
/// differs from the configuration in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkView {
    /// False when sysconfd leaves the network alone (`--no-network`); then nothing else is set.
    pub managed: bool,
    #[serde(default)]
    pub links: Vec<LinkInfo>,
    #[serde(default)]
    pub routes: Vec<RouteInfo>,
    /// The role the configuration gives each link, by name.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// Plan lines that would bring the network back to the configuration.
    #[serde(default)]
    pub differs: Vec<String>,
    /// The DHCP client's lease on each link that uses `method = "dhcp"`.
    #[serde(default)]
    pub dhcp_leases: BTreeMap<String, ClientLease>,
}

/// A network link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Administratively up.
    pub up: bool,
    /// Operational state as the kernel names it (`up`, `down`, `lowerlayerdown`…).
    pub oper: String,
    pub mtu: u32,
    /// Link kind (`veth`, `vlan`, `bridge`…); absent for plain hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<u16>,
    pub ipv4: Vec<Ipv4Cidr>,
}

/// An IPv4 route of the main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInfo {
    pub destination: Ipv4Cidr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// Route protocol number; [`TELBOX_RTPROTO`] for sysconfd's own.
    pub protocol: u8,
    pub metric: u32,
}

impl RouteInfo {
    /// Who made the route, in words: `telbox`, or the protocol number.
    pub fn origin(&self) -> String {
        match self.protocol {
            TELBOX_RTPROTO => "telbox".to_owned(),
            2 => "kernel".to_owned(),
            3 => "boot".to_owned(),
            4 => "static".to_owned(),
            16 => "dhcp".to_owned(),
            n => n.to_string(),
        }
    }
}

/// What the box's own DHCP client was given on a link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientLease {
    /// Address and prefix length; none before the first lease.
    pub address: Option<Ipv4Cidr>,
    #[serde(default)]
    pub routers: Vec<Ipv4Addr>,
    #[serde(default)]
    pub nameservers: Vec<Ipv4Addr>,
    /// The client's own time stamp of the lease's end (UTC).
    pub expire: Option<String>,
}

/// `Status.Leases`: one phone's lease from the box's DHCP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneLease {
    pub ip: Ipv4Addr,
    pub mac: Option<MacAddr>,
    /// The phone vendor its MAC prefix belongs to.
    pub vendor: Option<String>,
    pub hostname: Option<String>,
    /// End of the lease, seconds since the Unix epoch.
    pub expires: u64,
    pub subnet_id: u32,
}

/// `Status.Ntp`: chronyd's clock and sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtpView {
    pub tracking: NtpTracking,
    pub sources: Vec<NtpSource>,
}

/// Reference id chronyd gives its own local clock.
pub const LOCAL_CLOCK_REFID: &str = "7F7F0101";

/// The clock's sync state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtpTracking {
    /// Reference id in hex; [`LOCAL_CLOCK_REFID`] is the local clock.
    pub reference_id: String,
    /// Address of the reference, empty for the local clock.
    pub reference: String,
    pub stratum: u8,
    /// System clock minus true time, in seconds.
    pub system_offset: f64,
    /// `Normal`, `Insert second`, `Delete second` or `Not synchronised`.
    pub leap_status: String,
    pub synchronized: bool,
}

/// A time source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtpSource {
    /// `server`, `peer` or `local`.
    pub mode: String,
    /// `selected`, `candidate`, `unreachable`… as chronyd names them.
    pub state: String,
    pub address: String,
    pub stratum: u8,
    /// Polling interval as a power of two, in seconds.
    pub poll: i8,
    /// Reachability register of the last eight polls.
    pub reach: u8,
}

/// `Status.Hardware`: the telephony cards found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareView {
    pub cards: Vec<CardInfo>,
    /// The transcoders among them, with the channels of their configured mode.
    #[serde(default)]
    pub transcoders: Vec<TranscoderInfo>,
}

/// A telephony card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardInfo {
    /// `pci:0000:01:0b.0` or `usb:001/002`.
    pub location: String,
    /// Vendor and device id, such as `d161:1420`.
    pub id: String,
    /// The driver dahdi-tools expects.
    pub driver: String,
    /// The driver bound now; none when it is not loaded.
    pub bound_driver: Option<String>,
    pub description: String,
    /// Spans its DAHDI device registered (0 when none is registered).
    pub spans: usize,
}

/// `Status.Spans`: one span's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanInfo {
    pub number: u32,
    pub name: String,
    pub description: String,
    /// `E1`, `T1`, `J1`, `BRI`… when the kernel tells.
    pub span_type: Option<String>,
    /// The alarms as `dahdi_tool` writes them: `OK`, `RED`, `RED/BLUE`.
    pub alarms: String,
    pub clock_source: bool,
    pub channels: usize,
}

/// `Wizard.Discover`: what the first-boot wizard shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverReport {
    pub interfaces: Vec<Nic>,
    pub cards: Vec<CardSummary>,
}

/// A network interface as the wizard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    pub name: String,
    pub mac: Option<String>,
    pub operstate: String,
    pub mtu: u32,
    pub addresses: Vec<Ipv4Cidr>,
}

/// A card as the wizard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    pub location: String,
    pub driver: String,
    pub description: String,
    pub spans: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_service_states_read_as_sysconfd_writes_them() {
        let o: Vec<Outcome> =
            serde_json::from_str(r#"["applied","rolled-back","failed"]"#).unwrap();
        assert_eq!(o, [Outcome::Applied, Outcome::RolledBack, Outcome::Failed]);
        assert_eq!(Outcome::RolledBack.to_string(), "rolled-back");
        let s: Vec<ServiceState> =
            serde_json::from_str(r#"["active","unmanaged","maintenance"]"#).unwrap();
        assert_eq!(s[2], ServiceState::Other("maintenance".into()));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["active","unmanaged","maintenance"]"#
        );
    }

    #[test]
    fn span_numbers_are_json_object_keys() {
        let t = TelephonySummary {
            cards: 1,
            spans: [(1, "RED".to_owned())].into(),
            transcoders: Vec::new(),
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"cards":1,"spans":{"1":"RED"}}"#);
        assert_eq!(serde_json::from_str::<TelephonySummary>(&json).unwrap(), t);
    }
}
