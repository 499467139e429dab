//! The HA part of the D-Bus contract: `org.telbox.Sysconfd1.Ha` and the
//! JSON documents its methods return.
//!
//! keepalived (VRRP) tells which box of a pair holds the service; sysconfd
//! follows it through keepalived's notify FIFO and does what keepalived
//! cannot: start and stop the services, throw the Berofos relays, feed
//! keepalived its health checks. `docs/dbus.md` describes each method;
//! the proxy is `telbox_client::HaProxy`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::views::ServiceState;

pub const HA_INTERFACE: &str = "org.telbox.Sysconfd1.Ha";

/// One thing a transition did, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaAction {
    /// `start asterisk`, `berofos fos1 A--D`.
    pub what: String,
    pub ok: bool,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A change of the box's part: it became active, or went back to standby.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaTransition {
    /// Numbered from 1 on this box, never reused.
    pub seq: u64,
    /// `active` or `standby`.
    pub to: String,
    pub reason: String,
    /// Unix time (seconds) keepalived's news that caused it reached sysconfd.
    pub noticed_at: f64,
    /// Unix time (seconds) every action was done.
    pub done_at: f64,
    pub actions: Vec<HaAction>,
}

/// One VRRP path to the peer, as this box's keepalived sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaPath {
    /// `advert` (the path the service follows) or `second` (the split-brain guard's).
    pub name: String,
    pub interface: String,
    pub peer: String,
    /// keepalived's state on it: MASTER, BACKUP, FAULT, STOP or unknown.
    pub vrrp: String,
    /// The peer's adverts arrive (it holds the role on this path). Only
    /// the box holding a role sends adverts, so an active box hears none
    /// from a standby peer.
    pub peer_advertising: bool,
}

/// What `Ha.Status` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaStatus {
    /// `master`, `slave` or `disabled`.
    pub role: String,
    /// `active`, `standby`, `demoted` or `off` (no HA on this box).
    pub state: String,
    pub healthy: bool,
    /// What failed, when not healthy.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unhealthy: String,
    pub paths: Vec<HaPath>,
    /// Set while the split-brain guard keeps the box from taking over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// Seconds a recovered master still waits before it takes the service back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failback_in_s: Option<f64>,
    /// The services HA starts and stops, and their state now.
    pub services: BTreeMap<String, ServiceState>,
    /// The Berofos this box throws (or, standalone, whose watchdog it kicks).
    pub berofos: Vec<String>,
    /// Watchdog kicks sent (standalone box with a Berofos in bypass scenario).
    #[serde(default)]
    pub watchdog_kicks: u64,
    /// How often keepalived saw a second master with a lower priority (a healed partition).
    #[serde(default)]
    pub two_masters_seen: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition: Option<HaTransition>,
}
