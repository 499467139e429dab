//! Watches the telephony hardware: a span whose alarms change, or a card
//! that appears or goes, is announced with a signal on the Status interface.
//! Cards are only reported (and proposed by `Propose`), never configured
//! behind the admin's back.
//!
//! The watch reads sysfs and /proc/dahdi under the root prefix every
//! [`PERIOD`], the same files udev events point at, so it works unchanged
//! on a test root.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use appliance::dbus::OBJECT_PATH;

use super::{Shared, StatusIface};

pub const PERIOD: Duration = Duration::from_secs(1);

/// What the last look saw.
#[derive(Default, PartialEq, Eq)]
struct Seen {
    cards: Vec<String>,
    alarms: BTreeMap<u32, String>,
}

async fn look(shared: &Shared) -> Seen {
    let engine = shared.engine.read().await;
    let cards = engine
        .hardware()
        .map(|inv| inv.cards.iter().map(|c| c.location().to_string()).collect())
        .unwrap_or_default();
    let alarms = engine
        .spans()
        .map(|spans| {
            spans
                .into_iter()
                .map(|s| (s.number, s.alarms.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Seen { cards, alarms }
}

/// Runs for the life of the daemon.
pub fn spawn(conn: zbus::Connection, shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut last = look(&shared).await;
        loop {
            tokio::time::sleep(PERIOD).await;
            let now = look(&shared).await;
            if now != last {
                announce(&conn, &last, &now).await;
                last = now;
            }
        }
    });
}

async fn announce(conn: &zbus::Connection, last: &Seen, now: &Seen) {
    let Ok(iface) = conn
        .object_server()
        .interface::<_, StatusIface>(OBJECT_PATH)
        .await
    else {
        return;
    };
    let emitter = iface.signal_emitter();
    for (span, alarms) in &now.alarms {
        if last.alarms.get(span) != Some(alarms) {
            tracing::info!(span, alarms = %alarms, "span alarms changed");
            let _ = StatusIface::span_alarms_changed(emitter, *span, alarms).await;
        }
    }
    if now.cards != last.cards {
        tracing::info!(cards = ?now.cards, "telephony cards changed");
        let _ = StatusIface::cards_changed(emitter, now.cards.clone()).await;
    }
}
