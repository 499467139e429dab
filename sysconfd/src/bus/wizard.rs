//! `org.telbox.Sysconfd1.Wizard`: what the first-boot web wizard needs.
//!
//! The wizard's own user (`telbox-wizard`) may call these methods, held to
//! the wizard's rules: `Preview` and `Complete` only while the wizard has
//! not completed, `Confirm` only for the generation its own `Complete`
//! made. A `Complete` with a confirm timeout counts as done only once that
//! generation is confirmed; when it rolls back, the wizard may try again.
//! Those rules are the engine's ([`crate::engine::wizard`]); this adapts.

use std::sync::Arc;

use appliance::views::DiscoverReport;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{interface, Connection};

use super::access::{require_wizard, WizardCaller};
use super::config::confirm_timeout;
use super::error::{bounded, BusError};
use super::Shared;
use crate::engine::{ApplyRequest, EngineError, FirstBoot, NotTheWizards};
use crate::replies;

pub struct WizardIface {
    shared: Arc<Shared>,
}

impl WizardIface {
    pub fn new(shared: Arc<Shared>) -> Self {
        WizardIface { shared }
    }

    /// The wizard's completion record, read without waiting for the engine.
    fn first_boot(&self) -> FirstBoot {
        FirstBoot::under(&self.shared.state_dir)
    }
}

/// A refused `Wizard.Confirm`, as the caller sees it: the wizard's user is
/// denied; an admin is told to use `Config.Confirm`.
fn refused_confirm(caller: WizardCaller, refused: NotTheWizards) -> BusError {
    let NotTheWizards { generation, .. } = refused;
    let why = refused.why();
    match caller {
        WizardCaller::Wizard(uid) => BusError::AccessDenied(format!(
            "Wizard.Confirm of generation {generation} refused for uid {uid}: {why}"
        )),
        WizardCaller::Admin(_) => BusError::NotPending(format!(
            "generation {generation} is not the wizard's: {why}; use Config.Confirm"
        )),
    }
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
        self.first_boot().refuse_completed()?;
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
        let req = ApplyRequest {
            text: toml,
            base: None,
            confirm_timeout: confirm_timeout(confirm_timeout_s)?,
            caller_uid: caller.uid(),
        };
        let done = self
            .shared
            .engine
            .write()
            .await
            .complete_wizard(req)
            .await?;
        if done.completed {
            self.completed_changed(&emitter).await?;
        }
        let applied = done.applied;
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
        let confirmed = self.shared.engine.write().await.confirm_wizard(generation);
        match confirmed {
            Err(EngineError::NotTheWizards(refused)) => {
                return Err(refused_confirm(caller, refused))
            }
            other => other?,
        }
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
        self.first_boot().completed()
    }
}
