//! `org.telbox.Sysconfd1.Config`: validate, plan, apply, confirm, roll back, read.

use std::sync::Arc;
use std::time::Duration;

use appliance::config;
use appliance::dbus::{HistoryEntry, PlanReport, OBJECT_PATH};
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{interface, Connection};

use super::access::require_admin;
use super::error::BusError;
use super::Shared;
use crate::engine::ApplyRequest;

pub struct ConfigIface {
    shared: Arc<Shared>,
}

impl ConfigIface {
    pub fn new(shared: Arc<Shared>) -> Self {
        ConfigIface { shared }
    }
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
    /// Checks a configuration. Returns (valid, JSON array of problems with file, line, column, message, help).
    async fn validate(&self, toml: String) -> (bool, String) {
        match config::load(&toml, "appliance.toml") {
            Ok(_) => (true, "[]".to_owned()),
            Err(report) => (false, serde_json::to_string(&report).unwrap_or_default()),
        }
    }

    /// Plans a configuration against the system as it is now; touches nothing.
    /// Returns (human-readable plan, JSON {"actions": [...], "warnings": [...]}).
    async fn plan(&self, toml: String) -> Result<(String, String), BusError> {
        let plan = self.shared.engine.lock().await.plan(&toml).await?;
        let report = PlanReport {
            actions: plan.items(),
            warnings: Vec::new(),
        };
        Ok((
            plan.to_string(),
            serde_json::to_string(&report).unwrap_or_default(),
        ))
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
        let timeout =
            (confirm_timeout_s > 0).then(|| Duration::from_secs(confirm_timeout_s.into()));
        let req = ApplyRequest {
            text: toml,
            base: Some(base_generation),
            confirm_timeout: timeout,
            caller_uid: uid,
        };
        let applied = self.shared.engine.lock().await.apply(req).await?;
        if applied.changed {
            Self::generation_applied(&emitter, applied.generation).await?;
            self.current_generation_changed(&emitter).await?;
            if let Some(t) = timeout {
                super::arm_confirm_timer(conn.clone(), self.shared.clone(), applied.generation, t);
            }
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
        self.shared.engine.lock().await.confirm(generation)?;
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
            .lock()
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
        Ok(self.shared.engine.lock().await.current_config()?)
    }

    /// Every generation, newest first, as a JSON array.
    async fn history(&self) -> Result<String, BusError> {
        let rows = self.shared.engine.lock().await.history()?;
        let entries: Vec<HistoryEntry> = rows
            .into_iter()
            .map(|g| HistoryEntry {
                id: g.id,
                created_at: g.created_at,
                caller_uid: g.caller_uid,
                base: g.base,
                outcome: serde_json::to_value(g.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                reason: g.reason,
                plan: g.plan,
            })
            .collect();
        Ok(serde_json::to_string(&entries).unwrap_or_default())
    }

    #[zbus(property)]
    async fn current_generation(&self) -> u64 {
        self.shared
            .engine
            .lock()
            .await
            .current_generation()
            .unwrap_or(0)
    }

    #[zbus(property)]
    async fn pending_confirmation(&self) -> u64 {
        self.shared
            .engine
            .lock()
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
