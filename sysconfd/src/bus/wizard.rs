//! `org.telbox.Sysconfd1.Wizard`: what the first-boot web wizard needs.

use std::path::PathBuf;
use std::sync::Arc;

use appliance::views::DiscoverReport;
use zbus::message::Header;
use zbus::{interface, Connection};

use super::access::require_admin;
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
        self.shared.state_dir.join("wizard-completed")
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

    /// Applies the first-boot configuration (host name, domain, VoIP address,
    /// gateway, DNS) once. Refused once the wizard has completed.
    async fn complete(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        toml: String,
    ) -> Result<u64, BusError> {
        let uid = require_admin(conn, &header, "Complete").await?;
        super::check_input(&toml)?;
        let mut engine = self.shared.engine.write().await;
        if self.marker().exists() {
            return Err(BusError::AlreadyCompleted(
                "the first-boot wizard has already completed; use Config.Apply".into(),
            ));
        }
        let req = ApplyRequest {
            text: toml,
            base: None,
            confirm_timeout: None,
            caller_uid: uid,
        };
        let applied = engine.apply(req).await?;
        write_atomic(
            &self.marker(),
            format!("{}\n", applied.generation).as_bytes(),
            0o644,
        )
        .map_err(|e| BusError::ApplyFailed(format!("recording wizard completion: {e}")))?;
        Ok(applied.generation)
    }

    #[zbus(property)]
    async fn completed(&self) -> bool {
        self.marker().exists()
    }
}
