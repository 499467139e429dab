//! `org.telbox.Sysconfd1.Config`: validate, plan, apply, confirm, roll back, read.

use std::sync::Arc;
use std::time::Duration;

use appliance::config::{self, limits};
use appliance::dbus::{
    HistoryEntry, HistoryPage, PlanReport, DEFAULT_HISTORY_PAGE, HISTORY_PLAN_LINES,
    HISTORY_REASON_CHARS, MAX_HISTORY_PAGE, OBJECT_PATH,
};
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{interface, Connection};

use super::access::require_admin;
use super::error::{bounded, BusError, MAX_REPLY_BYTES};
use super::Shared;
use crate::engine::ApplyRequest;
use crate::store::Generation;

pub struct ConfigIface {
    shared: Arc<Shared>,
}

impl ConfigIface {
    pub fn new(shared: Arc<Shared>) -> Self {
        ConfigIface { shared }
    }
}

/// The confirm window a client asked for in seconds (0: none); one longer
/// than [`limits::MAX_CONFIRM_TIMEOUT_S`] is refused.
pub(super) fn confirm_timeout(seconds: u32) -> Result<Option<Duration>, BusError> {
    if seconds > limits::MAX_CONFIRM_TIMEOUT_S {
        return Err(BusError::Invalid(format!(
            "a confirm timeout of {seconds} s is longer than the maximum, {} s; give a shorter one (0 applies without a confirm)",
            limits::MAX_CONFIRM_TIMEOUT_S
        )));
    }
    Ok((seconds > 0).then(|| Duration::from_secs(seconds.into())))
}

/// The session address a client passed, if any.
pub(super) fn parse_session_address(text: &str) -> Result<Option<std::net::IpAddr>, BusError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        BusError::Invalid(format!(
            "session address `{}` is not an IP address",
            text.chars().take(64).collect::<String>()
        ))
    })
}

/// A generation as a history page shows it: its plan's first lines, its reason cut short.
fn history_entry(g: Generation) -> HistoryEntry {
    let plan_length = g.plan.len();
    let mut plan = g.plan;
    plan.truncate(HISTORY_PLAN_LINES);
    let mut reason = g.reason;
    if let Some((cut, _)) = reason.char_indices().nth(HISTORY_REASON_CHARS) {
        reason.truncate(cut);
        reason.push('…');
    }
    HistoryEntry {
        id: g.id,
        created_at: g.created_at,
        caller_uid: g.caller_uid,
        base: g.base,
        outcome: g.outcome,
        reason,
        plan,
        plan_length,
    }
}

/// As many of `lines` as fit in `budget` bytes; a last line counts the rest.
fn fit_lines(mut lines: Vec<String>, budget: usize) -> Vec<String> {
    let mut used = 0;
    let fit = lines
        .iter()
        .position(|l| {
            used += l.len() + 8;
            used > budget
        })
        .unwrap_or(lines.len());
    let left = lines.len() - fit;
    lines.truncate(fit);
    if left > 0 {
        lines.push(format!("… {left} more actions are not shown"));
    }
    lines
}

/// Emits `GenerationConfirmed`, from outside the Config interface.
pub async fn announce_confirmed(conn: &Connection, generation: u64) {
    let Ok(iface) = conn
        .object_server()
        .interface::<_, ConfigIface>(OBJECT_PATH)
        .await
    else {
        return;
    };
    let _ = ConfigIface::generation_confirmed(iface.signal_emitter(), generation).await;
}

/// Emits `GenerationRolledBack` and the property change, from outside a method call.
pub async fn announce_rollback(conn: &Connection, generation: u64, reason: &str) {
    let Ok(iface) = conn
        .object_server()
        .interface::<_, ConfigIface>(OBJECT_PATH)
        .await
    else {
        return;
    };
    let emitter = iface.signal_emitter();
    let _ = ConfigIface::generation_rolled_back(emitter, generation, reason).await;
    let _ = iface.get().await.current_generation_changed(emitter).await;
}

#[interface(name = "org.telbox.Sysconfd1.Config")]
impl ConfigIface {
    /// Checks a configuration. Returns (valid, JSON array of problems with
    /// file, line, column, message, help). A text over the size limit, or a
    /// section over its count, is `Error.TooLarge`.
    async fn validate(&self, toml: String) -> Result<(bool, String), BusError> {
        super::check_input(&toml)?;
        let checked = tokio::task::spawn_blocking(move || config::load(&toml, "appliance.toml"))
            .await
            .map_err(|e| BusError::Invalid(format!("validation stopped: {e}")))?;
        match checked {
            Ok(_) => Ok((true, "[]".to_owned())),
            Err(report) => match report.too_large {
                Some(big) => Err(big.into()),
                None => Ok((
                    false,
                    bounded(serde_json::to_string(&report).unwrap_or_default())?,
                )),
            },
        }
    }

    /// Plans a configuration against the system as it is now; touches nothing.
    /// `session_address` is the box's address the caller's remote session
    /// arrives on ("" for none): a plan that takes it away says so in its
    /// warnings. Returns (human-readable plan, JSON {"actions": [...], "warnings": [...]}).
    async fn plan(
        &self,
        toml: String,
        session_address: String,
    ) -> Result<(String, String), BusError> {
        super::check_input(&toml)?;
        plan_reply(&self.shared, &toml, &session_address).await
    }

    /// Applies a configuration on top of `base_generation` (refused when another
    /// generation is in force). With `confirm_timeout_s` > 0 the previous
    /// generation comes back unless `Confirm` arrives in time. Returns the generation in force.
    async fn apply(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        toml: String,
        base_generation: u64,
        confirm_timeout_s: u32,
    ) -> Result<u64, BusError> {
        let uid = require_admin(conn, &header, "Apply").await?;
        super::check_input(&toml)?;
        let req = ApplyRequest {
            text: toml,
            base: Some(base_generation),
            confirm_timeout: confirm_timeout(confirm_timeout_s)?,
            caller_uid: uid,
        };
        let applied = self.shared.engine.write().await.apply(req).await?;
        if applied.changed {
            Self::generation_applied(&emitter, applied.generation).await?;
            self.current_generation_changed(&emitter).await?;
        }
        Ok(applied.generation)
    }

    /// Keeps a generation applied with a confirm timeout.
    async fn confirm(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        generation: u64,
    ) -> Result<(), BusError> {
        require_admin(conn, &header, "Confirm").await?;
        self.shared.engine.write().await.confirm(generation)?;
        Self::generation_confirmed(&emitter, generation).await?;
        Ok(())
    }

    /// Applies generation `generation`'s configuration again, as a new generation.
    async fn rollback(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        generation: u64,
    ) -> Result<u64, BusError> {
        let uid = require_admin(conn, &header, "Rollback").await?;
        let applied = self
            .shared
            .engine
            .write()
            .await
            .rollback_to(generation, uid)
            .await?;
        let reason = format!("rolled back to generation {generation} on request");
        Self::generation_rolled_back(&emitter, generation, &reason).await?;
        self.current_generation_changed(&emitter).await?;
        Ok(applied.generation)
    }

    /// The configuration in force, secrets redacted.
    async fn get(&self) -> Result<String, BusError> {
        bounded(self.shared.engine.read().await.current_config()?)
    }

    /// JSON {"total", "offset", "entries"}: at most `limit` generations (0:
    /// the default page; at most 100), newest first, skipping the `offset`
    /// newest. Each entry carries its plan's first lines; `GenerationPlan`
    /// gives a whole plan.
    async fn history(&self, offset: u32, limit: u32) -> Result<String, BusError> {
        let limit = match limit {
            0 => DEFAULT_HISTORY_PAGE,
            n => n.min(MAX_HISTORY_PAGE),
        };
        let (total, rows) = self
            .shared
            .engine
            .read()
            .await
            .history(offset.into(), limit.into())?;
        let page = HistoryPage {
            total,
            offset: offset.into(),
            entries: rows.into_iter().map(history_entry).collect(),
        };
        bounded(serde_json::to_string(&page).unwrap_or_default())
    }

    /// Every line of a generation's plan (as many as fit in one reply; a
    /// last line then says how many were left out).
    async fn generation_plan(&self, generation: u64) -> Result<Vec<String>, BusError> {
        let plan = self.shared.engine.read().await.generation(generation)?.plan;
        Ok(fit_lines(plan, MAX_REPLY_BYTES - 1024))
    }

    #[zbus(property)]
    async fn current_generation(&self) -> u64 {
        self.shared
            .engine
            .read()
            .await
            .current_generation()
            .unwrap_or(0)
    }

    #[zbus(property)]
    async fn pending_confirmation(&self) -> u64 {
        self.shared
            .engine
            .read()
            .await
            .pending()
            .map_or(0, |p| p.generation)
    }

    #[zbus(signal)]
    async fn generation_applied(emitter: &SignalEmitter<'_>, generation: u64) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn generation_confirmed(emitter: &SignalEmitter<'_>, generation: u64)
        -> zbus::Result<()>;

    #[zbus(signal)]
    async fn generation_rolled_back(
        emitter: &SignalEmitter<'_>,
        generation: u64,
        reason: &str,
    ) -> zbus::Result<()>;
}

/// The reply of a plan (`Config.Plan`, `Wizard.Preview`): its numbered
/// lines and the JSON [`PlanReport`], with a warning when it would cut the
/// session arriving on `session_address`.
pub(super) async fn plan_reply(
    shared: &Shared,
    toml: &str,
    session_address: &str,
) -> Result<(String, String), BusError> {
    let session = parse_session_address(session_address)?;
    let engine = shared.engine.read().await;
    let plan = engine.plan(toml).await?;
    let warnings = match session {
        Some(local) => engine
            .session_cut(&plan, local)
            .await?
            .into_iter()
            .collect(),
        None => Vec::new(),
    };
    drop(engine);
    let report = PlanReport {
        actions: plan.items(),
        warnings,
    };
    Ok((
        bounded(plan.to_string())?,
        bounded(serde_json::to_string(&report).unwrap_or_default())?,
    ))
}
