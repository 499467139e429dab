//! `org.telbox.Sysconfd1.Wizard`: what the first-boot web wizard needs.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use zbus::message::Header;
use zbus::{interface, Connection};

use super::access::require_admin;
use super::error::BusError;
use super::Shared;
use crate::engine::ApplyRequest;
use crate::files::write_atomic;

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

/// A network interface as the wizard shows it.
#[derive(Debug, Serialize)]
pub struct NicInfo {
    pub name: String,
    pub mac: String,
    pub operstate: String,
    pub mtu: u32,
}

/// Interfaces of the namespace sysconfd runs in, from /sys/class/net.
fn discover_nics() -> Vec<NicInfo> {
    let read = |p: PathBuf| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let mut nics: Vec<NicInfo> = std::fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let dir = e.path();
            NicInfo {
                name: e.file_name().to_string_lossy().into_owned(),
                mac: read(dir.join("address")),
                operstate: read(dir.join("operstate")),
                mtu: read(dir.join("mtu")).parse().unwrap_or(0),
            }
        })
        .filter(|n| n.name != "lo")
        .collect();
    nics.sort_by(|a, b| a.name.cmp(&b.name));
    nics
}

/// A card as the wizard lists it: where it sits, what it is, how many spans.
fn card_summary(card: hwmgr::detect::Card) -> serde_json::Value {
    serde_json::json!({
        "location": card.location().to_string(),
        "driver": card.driver().name(),
        "description": card.description(),
        "spans": card.span_count(),
    })
}

#[interface(name = "org.telbox.Sysconfd1.Wizard")]
impl WizardIface {
    /// JSON {"interfaces": [{name, mac, operstate, mtu}], "cards": [...]}.
    async fn discover(&self) -> String {
        let cards = self.shared.engine.lock().await.hardware().ok();
        let cards: Vec<serde_json::Value> = cards
            .into_iter()
            .flat_map(|inv| inv.cards)
            .map(card_summary)
            .collect();
        let doc = serde_json::json!({ "interfaces": discover_nics(), "cards": cards });
        doc.to_string()
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
        let mut engine = self.shared.engine.lock().await;
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
