//! Watches the telephony hardware: a span whose alarms change, or a card
//! that appears or goes, is announced with a signal on the Status interface.
//! Cards are only reported (and proposed by `Propose`), never configured
//! behind the admin's back.
//!
//! A network interface that appears or goes is announced too, so the
//! wizard's `Discover` can be asked again.
//!
//! On the real root the watch listens to udev ([`crate::os::uevents`]): an
//! event says when to look, and sysfs, /proc/dahdi and netlink say what
//! changed; a slow poll ([`FALLBACK_PERIOD`]) catches a missed event. On a
//! test root, or without udev, it reads the same files every [`PERIOD`],
//! so it works unchanged on a test tree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use appliance::dbus::OBJECT_PATH;
use tokio::sync::mpsc;

use super::{Shared, StatusIface};
use crate::os::uevents::{self, Kind, Uevent};

/// How often sysfs is read without udev.
pub const PERIOD: Duration = Duration::from_secs(1);
/// How often it is read anyway when udev events arrive.
pub const FALLBACK_PERIOD: Duration = Duration::from_secs(30);
/// Events come in bursts (a card registers its spans and channels): wait
/// this long after one before looking.
const SETTLE: Duration = Duration::from_millis(200);

/// What the last look saw.
#[derive(Default, PartialEq, Eq)]
struct Seen {
    cards: Vec<String>,
    alarms: BTreeMap<u32, String>,
}

async fn look(shared: &Shared) -> Seen {
    let engine = shared.engine.read().await;
    // Cards by location, then DAHDI devices without a known card (dynamic
    // spans, unknown boards) by their sysfs name.
    let cards = engine
        .hardware()
        .map(|inv| {
            let cards = inv.cards.iter().map(|c| c.location());
            let others = inv
                .other_devices
                .iter()
                .map(|d| format!("dahdi:{}", d.sysfs_name));
            cards.chain(others).collect()
        })
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

/// The network interfaces the kernel has now (but `lo`).
async fn interfaces(shared: &Shared) -> Vec<String> {
    let engine = shared.engine.read().await;
    let mut names: Vec<String> = engine
        .links()
        .await
        .map(|links| links.into_iter().map(|l| l.name).collect())
        .unwrap_or_default();
    names.retain(|n| n != "lo");
    names.sort();
    names
}

/// Why the watch looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Poll,
    Udev(Kind),
}

impl Cause {
    fn source(self) -> &'static str {
        match self {
            Cause::Poll => "sysfs poll",
            Cause::Udev(_) => "udev event",
        }
    }
}

/// Waits for the next reason to look: a udev event (and the burst that
/// follows it) or the end of the poll period.
async fn next(events: &mut Option<mpsc::Receiver<Uevent>>) -> Cause {
    let Some(rx) = events else {
        tokio::time::sleep(PERIOD).await;
        return Cause::Poll;
    };
    let first = tokio::select! {
        e = rx.recv() => e,
        _ = tokio::time::sleep(FALLBACK_PERIOD) => return Cause::Poll,
    };
    let Some(first) = first else {
        tracing::warn!(
            "udev monitor ended; polling sysfs every {} s",
            PERIOD.as_secs()
        );
        *events = None;
        return Cause::Poll;
    };
    tracing::info!("udev: {first}");
    let mut kind = first.kind;
    tokio::time::sleep(SETTLE).await;
    while let Ok(e) = rx.try_recv() {
        tracing::debug!("udev: {e}");
        if e.kind == Kind::Dahdi {
            kind = Kind::Dahdi;
        }
    }
    Cause::Udev(kind)
}

/// Runs for the life of the daemon.
pub fn spawn(conn: zbus::Connection, shared: Arc<Shared>) {
    tokio::spawn(async move {
        let system = shared.engine.read().await.root_dir() == Path::new("/");
        let mut events = if system {
            match uevents::monitor() {
                Ok(rx) => {
                    tracing::info!(
                        "hardware watch: udev events, sysfs every {} s as a fallback",
                        FALLBACK_PERIOD.as_secs()
                    );
                    Some(rx)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no udev; polling sysfs every {} s", PERIOD.as_secs());
                    None
                }
            }
        } else {
            None
        };
        let mut last = look(&shared).await;
        let mut last_nics = interfaces(&shared).await;
        loop {
            let cause = next(&mut events).await;
            if cause != Cause::Udev(Kind::Dahdi) {
                let nics = interfaces(&shared).await;
                if nics != last_nics {
                    announce_interfaces(&conn, &nics, cause).await;
                    last_nics = nics;
                }
            }
            if cause != Cause::Udev(Kind::Net) {
                let now = look(&shared).await;
                if now != last {
                    announce(&conn, &last, &now, cause).await;
                    last = now;
                }
            }
        }
    });
}

async fn announce_interfaces(conn: &zbus::Connection, nics: &[String], cause: Cause) {
    tracing::info!(interfaces = ?nics, source = cause.source(),
        "network interfaces changed (from a {})", cause.source());
    let Ok(iface) = conn
        .object_server()
        .interface::<_, StatusIface>(OBJECT_PATH)
        .await
    else {
        return;
    };
    let _ = StatusIface::interfaces_changed(iface.signal_emitter(), nics.to_vec()).await;
}

async fn announce(conn: &zbus::Connection, last: &Seen, now: &Seen, cause: Cause) {
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
            tracing::info!(span, alarms = %alarms, source = cause.source(), "span alarms changed");
            let _ = StatusIface::span_alarms_changed(emitter, *span, alarms).await;
        }
    }
    if now.cards != last.cards {
        tracing::info!(cards = ?now.cards, source = cause.source(),
            "telephony cards changed (from a {})", cause.source());
        let _ = StatusIface::cards_changed(emitter, now.cards.clone()).await;
    }
}
