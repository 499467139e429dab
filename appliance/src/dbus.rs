//! The D-Bus contract between sysconfd and its clients: names, the shapes
//! of the JSON documents some methods return (the client proxies are
//! `telbox-client`'s).
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
/// The system user the first-boot web wizard runs as: it may call the
/// `Wizard` methods (and `Config.Validate`), `Complete` only until the
/// wizard has completed, and `Confirm` only for the generation its own
/// `Complete` made.
pub const WIZARD_USER: &str = "telbox-wizard";
/// Where the wizard keeps what it makes at its first start (its own
/// state, not sysconfd's): the setup token, the certificate and its key.
pub const WIZARD_STATE_DIR: &str = "/var/lib/telbox-wizard";
/// The setup token, in [`WIZARD_STATE_DIR`] (mode 0600).
pub const WIZARD_TOKEN_FILE: &str = "setup-token";
/// The SHA-256 fingerprint of the wizard's certificate, in [`WIZARD_STATE_DIR`].
pub const WIZARD_FINGERPRINT_FILE: &str = "cert-fingerprint";

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

/// The first boot's seed (`/data/seed/appliance.toml`), as
/// `telbox-firstboot.service` recorded its apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedReport {
    /// The seed file, kept for a retry.
    pub path: String,
    pub outcome: SeedOutcome,
    /// Why it failed (sysconfd's own words), when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// Whether the seed was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedOutcome {
    Applied,
    Failed,
}

impl SeedReport {
    /// Reads the record `firstboot-seed` writes: `seed:`, `at:`,
    /// `outcome:` and `cause:` lines, then sysconfd's output. `None` when
    /// the record says neither applied nor failed.
    pub fn parse(record: &str) -> Option<SeedReport> {
        let field = |name: &str| {
            record.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|v| v.trim().to_owned())
            })
        };
        let outcome = match field("outcome")?.as_str() {
            "applied" => SeedOutcome::Applied,
            "failed" => SeedOutcome::Failed,
            _ => return None,
        };
        Some(SeedReport {
            path: field("seed").unwrap_or_default(),
            outcome,
            cause: field("cause").filter(|c| !c.is_empty()),
        })
    }
}

/// The overview `Status.Status` returns; `appliance status` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub version: String,
    pub hostname: String,
    pub current_generation: u64,
    pub pending: Option<PendingReport>,
    pub wizard_completed: bool,
    /// What became of the installer's seed at first boot (absent on a box
    /// that had none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<SeedReport>,
    /// Set when a failed apply could not be finished (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<Degraded>,
    /// The daemons and the telephony hardware.
    #[serde(default)]
    pub sections: StatusSections,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_seed_record_gives_its_cause() {
        let record = "seed: /data/seed/appliance.toml\nat: 2026-12-07T10:00:00Z\n\
                      outcome: failed\ncause: Kea refused: interface 'eth9' doesn't exist\n\
                      sysconfd: the apply failed\n";
        let seed = SeedReport::parse(record).unwrap();
        assert_eq!(seed.outcome, SeedOutcome::Failed);
        assert_eq!(seed.path, "/data/seed/appliance.toml");
        assert_eq!(
            seed.cause.as_deref(),
            Some("Kea refused: interface 'eth9' doesn't exist")
        );
    }

    #[test]
    fn an_applied_seed_has_no_cause_and_a_record_without_outcome_is_none() {
        let seed = SeedReport::parse("seed: /s.toml\noutcome: applied\n").unwrap();
        assert_eq!(seed.outcome, SeedOutcome::Applied);
        assert_eq!(seed.cause, None);
        assert_eq!(SeedReport::parse("seed: /s.toml\n"), None);
        assert_eq!(SeedReport::parse("outcome: maybe\n"), None);
    }
}
