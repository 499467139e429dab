//! `org.telbox.Sysconfd1.Wizard`: what the first-boot web wizard needs.
//!
//! The wizard's own user (`telbox-wizard`) may call these methods, held to
//! the wizard's rules: `Preview` and `Complete` only while the wizard has
//! not completed, `Confirm` only for the generation its own `Complete`
//! made. A `Complete` with a confirm timeout counts as done only once that
//! generation is confirmed; when it rolls back, the wizard may try again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use appliance::views::DiscoverReport;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{interface, Connection};

use super::access::{require_wizard, WizardCaller};
use super::config::check_confirm_timeout;
use super::error::{bounded, BusError};
use super::Shared;
use crate::engine::ApplyRequest;
use crate::files::write_atomic;
use crate::replies;

pub struct WizardIface {
    shared: Arc<Shared>,
}

impl WizardIface {
    pub fn new(shared: Arc<Shared>) -> Self {
        WizardIface { shared }
    }

    fn marker(&self) -> PathBuf {
        completed_marker(&self.shared.state_dir)
    }

    fn pending_marker(&self) -> PathBuf {
        pending_marker(&self.shared.state_dir)
    }

    fn wizard_generation(&self) -> Option<u64> {
        wizard_generation(&self.shared.state_dir)
    }

    fn refuse_completed(&self) -> Result<(), BusError> {
        if self.marker().exists() {
            return Err(BusError::AlreadyCompleted(
                "the first-boot wizard has already completed; use Config.Apply".into(),
            ));
        }
        Ok(())
    }

    fn mark_completed(&self, generation: u64) -> Result<(), BusError> {
        mark_completed(&self.shared.state_dir, generation)
    }
}

fn completed_marker(state_dir: &Path) -> PathBuf {
    state_dir.join("wizard-completed")
}

/// Holds the generation a `Complete` with a confirm timeout made.
fn pending_marker(state_dir: &Path) -> PathBuf {
    state_dir.join("wizard-pending")
}

fn wizard_generation(state_dir: &Path) -> Option<u64> {
    std::fs::read_to_string(pending_marker(state_dir))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn mark_completed(state_dir: &Path, generation: u64) -> Result<(), BusError> {
    write_atomic(
        &completed_marker(state_dir),
        format!("{generation}\n").as_bytes(),
        0o644,
    )
    .map_err(|e| BusError::ApplyFailed(format!("recording wizard completion: {e}")))?;
    let _ = crate::os::files::remove_if_exists(&pending_marker(state_dir));
    Ok(())
}

/// An admin's `Config.Confirm` of the generation the wizard's `Complete`
/// made completes the wizard as its own `Confirm` would.
pub(super) fn confirmed(state_dir: &Path, generation: u64) -> Result<(), BusError> {
    if wizard_generation(state_dir) == Some(generation) {
        mark_completed(state_dir, generation)?;
    }
    Ok(())
}

#[interface(name = "org.telbox.Sysconfd1.Wizard")]
impl WizardIface {
    /// JSON {"interfaces": [{name, mac, operstate, mtu, addresses}], "cards": [{location, driver, description, spans}]}.
    async fn discover(&self) -> Result<String, BusError> {
        let engine = self.shared.engine.read().await;
        let cards = engine
            .hardware()
            .map(|inv| inv.cards.iter().map(replies::card_summary).collect())
            .unwrap_or_default();
        let links = engine.links().await.unwrap_or_default();
        let interfaces = links
            .into_iter()
            .filter(|l| l.name != "lo")
            .map(replies::nic)
            .collect();
        let report = DiscoverReport { interfaces, cards };
        bounded(serde_json::to_string(&report).unwrap_or_default())
    }

    /// Plans the first-boot configuration against the system as it is now,
    /// touching nothing; as `Config.Plan`, for the wizard until it completes.
    async fn preview(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        toml: String,
        session_address: String,
    ) -> Result<(String, String), BusError> {
        require_wizard(conn, &header, "Preview").await?;
        super::check_input(&toml)?;
        self.refuse_completed()?;
        super::config::plan_reply(&self.shared, &toml, &session_address).await
    }

    /// Applies the first-boot configuration (host name, domain, VoIP address,
    /// gateway, DNS) once. Refused once the wizard has completed. With
    /// `confirm_timeout_s` > 0 the previous generation comes back unless
    /// `Confirm` keeps this one in time, and only that confirm completes the wizard.
    async fn complete(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        toml: String,
        confirm_timeout_s: u32,
    ) -> Result<u64, BusError> {
        let caller = require_wizard(conn, &header, "Complete").await?;
        super::check_input(&toml)?;
        check_confirm_timeout(confirm_timeout_s)?;
        let timeout =
            (confirm_timeout_s > 0).then(|| Duration::from_secs(confirm_timeout_s.into()));
        let mut engine = self.shared.engine.write().await;
        self.refuse_completed()?;
        let req = ApplyRequest {
            text: toml,
            base: None,
            confirm_timeout: timeout,
            caller_uid: caller.uid(),
        };
        let applied = engine.apply(req).await?;
        let waiting = timeout.filter(|_| applied.changed);
        match waiting {
            Some(after) => {
                write_atomic(
                    &self.pending_marker(),
                    format!("{}\n", applied.generation).as_bytes(),
                    0o644,
                )
                .map_err(|e| {
                    BusError::ApplyFailed(format!("recording the wizard's generation: {e}"))
                })?;
                drop(engine);
                super::arm_confirm_timer(
                    conn.clone(),
                    self.shared.clone(),
                    applied.generation,
                    after,
                );
            }
            None => {
                self.mark_completed(applied.generation)?;
                drop(engine);
                self.completed_changed(&emitter).await?;
            }
        }
        tracing::info!(
            generation = applied.generation,
            uid = caller.uid(),
            confirm_timeout_s,
            "first-boot wizard applied its configuration"
        );
        Ok(applied.generation)
    }

    /// Keeps the generation the wizard's `Complete` made; the wizard has then
    /// completed. The wizard's user may confirm no other generation.
    async fn confirm(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        generation: u64,
    ) -> Result<(), BusError> {
        let caller = require_wizard(conn, &header, "Confirm").await?;
        let mut engine = self.shared.engine.write().await;
        let made = self.wizard_generation();
        if made != Some(generation) {
            let why = match made {
                Some(g) => format!("the wizard's Complete made generation {g}"),
                None => "no Complete of the wizard waits for a confirm".to_owned(),
            };
            return Err(match caller {
                WizardCaller::Wizard(uid) => BusError::AccessDenied(format!(
                    "Wizard.Confirm of generation {generation} refused for uid {uid}: {why}"
                )),
                WizardCaller::Admin(_) => BusError::NotPending(format!(
                    "generation {generation} is not the wizard's: {why}; use Config.Confirm"
                )),
            });
        }
        engine.confirm(generation)?;
        self.mark_completed(generation)?;
        drop(engine);
        tracing::info!(
            generation,
            uid = caller.uid(),
            "first-boot wizard confirmed"
        );
        self.completed_changed(&emitter).await?;
        super::config::announce_confirmed(conn, generation).await;
        Ok(())
    }

    #[zbus(property)]
    async fn completed(&self) -> bool {
        self.marker().exists()
    }
}
