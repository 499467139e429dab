//! The D-Bus contract between sysconfd and its clients: names, the shapes
//! of the JSON documents some methods return, and client proxies.
//!
//! Every interface lives at [`OBJECT_PATH`] on the bus name [`BUS_NAME`];
//! `docs/dbus.md` describes each method.

use serde::{Deserialize, Serialize};

use crate::views::{Outcome, StatusSections};

pub const BUS_NAME: &str = "org.telbox.Sysconfd1";
pub const OBJECT_PATH: &str = "/org/telbox/Sysconfd1";
pub const CONFIG_INTERFACE: &str = "org.telbox.Sysconfd1.Config";
pub const WIZARD_INTERFACE: &str = "org.telbox.Sysconfd1.Wizard";
pub const STATUS_INTERFACE: &str = "org.telbox.Sysconfd1.Status";
/// Prefix of the error names sysconfd returns (`…Error.AccessDenied`, `…Error.Invalid`, …).
pub const ERROR_PREFIX: &str = "org.telbox.Sysconfd1.Error";
/// Members of this group (and root) may call the mutating methods.
pub const ADMIN_GROUP: &str = "telbox-admin";

/// One step of a plan as a client sees it (file contents are never sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    pub kind: String,
    pub summary: String,
}

/// The structured answer of `Config.Plan`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanReport {
    /// Empty when nothing would change.
    pub actions: Vec<PlanItem>,
    /// Things the admin must know before applying (e.g. a removed management address).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Most generations one `Config.History` page holds; a larger `limit` is cut to it.
pub const MAX_HISTORY_PAGE: u32 = 100;
/// Page size when `Config.History` is called with `limit` 0.
pub const DEFAULT_HISTORY_PAGE: u32 = 50;
/// Plan lines a history entry carries; `Config.GenerationPlan` gives them all.
pub const HISTORY_PLAN_LINES: usize = 20;
/// Characters of a generation's reason a history entry carries.
pub const HISTORY_REASON_CHARS: usize = 1000;

/// One generation, as `Config.History` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: u64,
    /// Unix time, seconds.
    pub created_at: i64,
    pub caller_uid: u32,
    pub base: Option<u64>,
    pub outcome: Outcome,
    pub reason: String,
    /// The plan's first [`HISTORY_PLAN_LINES`] lines.
    pub plan: Vec<String>,
    /// How many actions the whole plan has.
    #[serde(default)]
    pub plan_length: usize,
}

/// One page of `Config.History`: newest first, starting `offset` generations from the newest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// How many generations there are in all.
    pub total: u64,
    pub offset: u64,
    pub entries: Vec<HistoryEntry>,
}

/// A generation waiting for `Confirm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingReport {
    pub generation: u64,
    pub previous: Option<u64>,
    /// Seconds left before the previous generation comes back by itself.
    pub seconds_left: f64,
}

/// A failed apply sysconfd could not finish: the system is not exactly in
/// the previous generation, or history does not record the failure yet.
/// The next apply, or the next start, tries again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Degraded {
    /// The generation whose apply failed.
    pub generation: u64,
    /// The generation that should be in force (none before the first).
    pub previous: Option<u64>,
    /// Why the apply failed.
    pub cause: String,
    /// Why the previous generation could not be put back, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_error: Option<String>,
    /// Why history could not record the failure, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_error: Option<String>,
    /// What still differs from the previous generation, as plan lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
}

/// The overview `Status.Status` returns; `appliance status` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub version: String,
    pub hostname: String,
    pub current_generation: u64,
    pub pending: Option<PendingReport>,
    pub wizard_completed: bool,
    /// Set when a failed apply could not be finished (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<Degraded>,
    /// The daemons and the telephony hardware.
    #[serde(default)]
    pub sections: StatusSections,
}

/// Client side of `org.telbox.Sysconfd1.Config`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Config",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Config {
    /// Returns (valid, JSON array of problems).
    fn validate(&self, toml: &str) -> zbus::Result<(bool, String)>;
    /// Returns (human-readable plan, JSON [`PlanReport`]). `session_address`
    /// is the box's address a remote session arrives on, "" for none.
    fn plan(&self, toml: &str, session_address: &str) -> zbus::Result<(String, String)>;
    /// Returns the generation now in force. `base_generation` 0 means "the first apply".
    fn apply(&self, toml: &str, base_generation: u64, confirm_timeout_s: u32) -> zbus::Result<u64>;
    fn confirm(&self, generation: u64) -> zbus::Result<()>;
    fn rollback(&self, generation: u64) -> zbus::Result<u64>;
    /// The configuration in force, secrets redacted.
    fn get(&self) -> zbus::Result<String>;
    /// JSON [`HistoryPage`]: at most `limit` generations (0: the default page),
    /// newest first, skipping the `offset` newest.
    fn history(&self, offset: u32, limit: u32) -> zbus::Result<String>;
    /// Every line of generation `generation`'s plan.
    fn generation_plan(&self, generation: u64) -> zbus::Result<Vec<String>>;
    #[zbus(property)]
    fn current_generation(&self) -> zbus::Result<u64>;
    /// The generation waiting for a confirm, 0 when none.
    #[zbus(property)]
    fn pending_confirmation(&self) -> zbus::Result<u64>;
}

/// Client side of `org.telbox.Sysconfd1.Wizard`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Wizard",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Wizard {
    /// JSON: network interfaces (name, MAC, link state, addresses) and detected cards.
    fn discover(&self) -> zbus::Result<String>;
    /// Applies the first-boot settings once; refused afterwards.
    fn complete(&self, toml: &str) -> zbus::Result<u64>;
    #[zbus(property)]
    fn completed(&self) -> zbus::Result<bool>;
}

/// Client side of `org.telbox.Sysconfd1.Status`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Status",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Status {
    /// JSON [`StatusReport`].
    fn status(&self) -> zbus::Result<String>;
    /// JSON: links, addresses, routes, roles, and what differs from the configuration.
    fn network(&self) -> zbus::Result<String>;
    /// JSON array of DHCP leases.
    fn leases(&self) -> zbus::Result<String>;
    /// JSON: chronyd's tracking and sources.
    fn ntp(&self) -> zbus::Result<String>;
    /// JSON: the telephony cards found.
    fn hardware(&self) -> zbus::Result<String>;
    /// JSON: every span's alarms, counters and channels.
    fn spans(&self) -> zbus::Result<String>;
    /// TOML: a [telephony] section for the hardware found.
    fn propose(&self) -> zbus::Result<String>;
}
