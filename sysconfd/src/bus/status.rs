//! `org.telbox.Sysconfd1.Status`: the overview `appliance status` prints.

use std::sync::Arc;

use appliance::dbus::{PendingReport, StatusReport};
use zbus::interface;
use zbus::object_server::SignalEmitter;

use super::error::{bounded, BusError};
use super::Shared;
use crate::services::Service;

pub struct StatusIface {
    shared: Arc<Shared>,
}

impl StatusIface {
    pub fn new(shared: Arc<Shared>) -> Self {
        StatusIface { shared }
    }
}

/// `{"cards": N, "spans": {"1": "OK", "2": "RED"}}` from sysfs and /proc/dahdi.
fn telephony_section(engine: &crate::engine::Engine) -> serde_json::Value {
    let cards = engine.hardware().map(|inv| inv.cards.len()).unwrap_or(0);
    let spans: serde_json::Map<String, serde_json::Value> = engine
        .spans()
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.number.to_string(), s.alarms.to_string().into()))
        .collect();
    serde_json::json!({ "cards": cards, "spans": spans })
}

/// `{"dhcp": "active", "ntp": "inactive"}`, or `"unmanaged"` when sysconfd does not run daemons.
async fn services_section(engine: &crate::engine::Engine) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for service in Service::ALL {
        let state = match engine.edges().service_state(service).await {
            Some(s) => serde_json::to_value(s).unwrap_or_default(),
            None => "unmanaged".into(),
        };
        out.insert(service.to_string(), state);
    }
    out.into()
}

#[interface(name = "org.telbox.Sysconfd1.Status")]
impl StatusIface {
    /// JSON overview: version, host name, generation in force, pending
    /// confirm, wizard state, and a failed apply not finished (`degraded`).
    async fn status(&self) -> Result<String, BusError> {
        let engine = self.shared.engine.read().await;
        let pending = engine.pending().map(|p| PendingReport {
            generation: p.generation,
            previous: p.previous,
            seconds_left: p.remaining(),
        });
        let report = StatusReport {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            hostname: engine
                .configured_hostname()
                .or_else(|| crate::host::current_hostname().ok())
                .unwrap_or_default(),
            current_generation: engine.current_generation()?,
            pending,
            wizard_completed: self.shared.state_dir.join("wizard-completed").exists(),
            degraded: engine.degraded(),
            sections: Default::default(),
        };
        let mut report = report;
        report
            .sections
            .insert("services".into(), services_section(&engine).await);
        report
            .sections
            .insert("telephony".into(), telephony_section(&engine));
        bounded(serde_json::to_string(&report).unwrap_or_default())
    }

    /// JSON: links, addresses, routes, roles, and what differs from the configuration.
    async fn network(&self) -> Result<String, BusError> {
        let view = self.shared.engine.read().await.network_view().await?;
        bounded(view.to_string())
    }

    /// JSON array of the DHCP server's leases: ip, mac, vendor, hostname, expires.
    async fn leases(&self) -> Result<String, BusError> {
        bounded(to_json(&self.shared.engine.read().await.leases()?))
    }

    /// JSON: chronyd's tracking and sources.
    async fn ntp(&self) -> Result<String, BusError> {
        bounded(to_json(&self.shared.engine.read().await.ntp_status()?))
    }

    /// JSON: the telephony cards found (PCI/USB, driver, spans).
    async fn hardware(&self) -> Result<String, BusError> {
        bounded(to_json(&self.shared.engine.read().await.hardware()?))
    }

    /// JSON: every span's alarms, counters and channels.
    async fn spans(&self) -> Result<String, BusError> {
        bounded(to_json(&self.shared.engine.read().await.spans()?))
    }

    /// TOML: a [telephony] section for the hardware found (nothing is applied).
    async fn propose(&self) -> Result<String, BusError> {
        bounded(self.shared.engine.read().await.propose()?)
    }

    /// A span's alarms changed: its number and the new alarms (`OK`, `RED`, `RED/BLUE`…).
    #[zbus(signal)]
    pub async fn span_alarms_changed(
        emitter: &SignalEmitter<'_>,
        span: u32,
        alarms: &str,
    ) -> zbus::Result<()>;

    /// A telephony card appeared or went: the locations of the cards present now.
    #[zbus(signal)]
    pub async fn cards_changed(emitter: &SignalEmitter<'_>, cards: Vec<String>)
        -> zbus::Result<()>;
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
