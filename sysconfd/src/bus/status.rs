//! `org.telbox.Sysconfd1.Status`: the overview `appliance status` prints.

use std::collections::BTreeMap;
use std::sync::Arc;

use appliance::dbus::{PendingReport, StatusReport};
use appliance::views::{ServiceState, StatusSections, TelephonySummary};
use zbus::interface;
use zbus::object_server::SignalEmitter;

use super::error::{bounded, BusError};
use super::Shared;
use crate::replies;
use crate::services::Service;

pub struct StatusIface {
    shared: Arc<Shared>,
}

impl StatusIface {
    pub fn new(shared: Arc<Shared>) -> Self {
        StatusIface { shared }
    }
}

/// Cards found and each span's alarms, from sysfs and /proc/dahdi.
fn telephony_section(engine: &crate::engine::Engine) -> TelephonySummary {
    let cards = engine.hardware().map(|inv| inv.cards.len()).unwrap_or(0);
    let spans = engine
        .spans()
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.number, s.alarms.to_string()))
        .collect();
    TelephonySummary {
        cards,
        spans,
        transcoders: engine.transcoders().unwrap_or_default(),
    }
}

/// Each daemon's state, or `Unmanaged` when sysconfd does not run daemons.
async fn services_section(engine: &crate::engine::Engine) -> BTreeMap<String, ServiceState> {
    let mut out = BTreeMap::new();
    for service in Service::ALL {
        let state = match engine.os().service_state(service).await {
            Some(s) => s,
            None => ServiceState::Unmanaged,
        };
        out.insert(service.to_string(), state);
    }
    out
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
                .or_else(|| engine.os().hostname().ok())
                .unwrap_or_default(),
            current_generation: engine.current_generation()?,
            pending,
            wizard_completed: engine.first_boot().completed(),
            seed: engine.first_boot().seed(),
            degraded: engine.degraded(),
            sections: StatusSections {
                services: services_section(&engine).await,
                telephony: telephony_section(&engine),
            },
        };
        bounded(serde_json::to_string(&report).unwrap_or_default())
    }

    /// JSON: links, addresses, routes, roles, and what differs from the configuration.
    async fn network(&self) -> Result<String, BusError> {
        let view = self.shared.engine.read().await.network_view().await?;
        bounded(to_json(&view))
    }

    /// JSON array of the DHCP server's leases: ip, mac, vendor, hostname, expires.
    async fn leases(&self) -> Result<String, BusError> {
        let leases = self.shared.engine.read().await.leases()?;
        let leases: Vec<_> = leases.into_iter().map(replies::phone_lease).collect();
        bounded(to_json(&leases))
    }

    /// JSON: chronyd's tracking and sources.
    async fn ntp(&self) -> Result<String, BusError> {
        let status = self.shared.engine.read().await.ntp_status()?;
        bounded(to_json(&replies::ntp(status)))
    }

    /// JSON: the telephony cards found (PCI/USB, driver, spans), and the
    /// transcoders with the channels of their configured mode.
    async fn hardware(&self) -> Result<String, BusError> {
        let engine = self.shared.engine.read().await;
        let mut view = replies::hardware(engine.hardware()?);
        view.transcoders = engine.transcoders()?;
        bounded(to_json(&view))
    }

    /// JSON: every span's alarms, counters and channels.
    async fn spans(&self) -> Result<String, BusError> {
        let spans = self.shared.engine.read().await.spans()?;
        let spans: Vec<_> = spans.into_iter().map(replies::span).collect();
        bounded(to_json(&spans))
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

    /// A telephony card appeared or went: the locations of the cards present
    /// now, then DAHDI devices without a known card as `dahdi:NAME`
    /// (`dahdi:dynamic:loc:0`).
    #[zbus(signal)]
    pub async fn cards_changed(emitter: &SignalEmitter<'_>, cards: Vec<String>)
        -> zbus::Result<()>;

    /// A network interface appeared or went (a NIC plugged in, a VLAN made):
    /// the interfaces the kernel has now, but `lo`. `Wizard.Discover` and
    /// `Network` show them at once.
    #[zbus(signal)]
    pub async fn interfaces_changed(
        emitter: &SignalEmitter<'_>,
        interfaces: Vec<String>,
    ) -> zbus::Result<()>;
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
