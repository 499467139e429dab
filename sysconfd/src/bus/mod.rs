//! The D-Bus face of sysconfd: thin interfaces over the engine. Mutating
//! calls are checked twice (bus policy, then [`access::require_admin`]) and
//! run one at a time through the engine's lock.

pub mod access;
mod config;
pub mod error;
mod firmware;
mod ha;
mod status;
mod watch;
mod wizard;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use appliance::dbus::{BUS_NAME, OBJECT_PATH};
use tokio::sync::broadcast;

use crate::engine::confirm::{Expired, SharedEngine};

pub use config::ConfigIface;
pub use firmware::FirmwareIface;
pub use ha::{follow_config, settings_of, HaIface};
pub use status::StatusIface;
pub use wizard::WizardIface;

/// State the interfaces share.
pub struct Shared {
    pub engine: SharedEngine,
    pub state_dir: PathBuf,
    pub ha: Arc<crate::ha::Ha>,
}

/// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured), serves
/// every interface and takes the well-known name.
pub async fn serve(shared: Arc<Shared>) -> zbus::Result<zbus::Connection> {
    let expiries = shared.engine.read().await.expiries();
    let conn = zbus::connection::Builder::system()?
        .serve_at(OBJECT_PATH, ConfigIface::new(shared.clone()))?
        .serve_at(OBJECT_PATH, WizardIface::new(shared.clone()))?
        .serve_at(OBJECT_PATH, StatusIface::new(shared.clone()))?
        .serve_at(OBJECT_PATH, FirmwareIface::new(shared.clone()))?
        .serve_at(OBJECT_PATH, HaIface::new(shared.ha.clone()))?
        .name(BUS_NAME)?
        .build()
        .await?;
    shared.ha.set_connection(conn.clone());
    announce_expiries(conn.clone(), expiries);
    watch::spawn(conn.clone(), shared);
    Ok(conn)
}

/// Inputs above this size make sysconfd give memory back once answered.
const LARGE_INPUT: usize = 1024 * 1024;

/// Checks a configuration text's size before anything reads it. A text far
/// over the limit has already cost the daemon the bus message's copies;
/// once the call is answered, that memory goes back to the system instead
/// of staying in the allocator's free lists.
pub(crate) fn check_input(toml: &str) -> Result<(), error::BusError> {
    if toml.len() > LARGE_INPUT {
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // SAFETY: malloc_trim only returns free memory to the system.
            unsafe {
                libc::malloc_trim(0);
            }
        });
    }
    Ok(appliance::config::limits::check_size(toml)?)
}

/// Resolves, with the reason, once sysconfd cannot be reached on the bus
/// any more: its connection closed or failed, or its well-known name was
/// taken from it. The daemon then exits non-zero, so its service manager
/// starts it again, rather than running on where no client can reach it.
pub async fn lost(conn: &zbus::Connection) -> String {
    use futures::StreamExt;
    let name_lost = async {
        let proxy = match zbus::fdo::DBusProxy::new(conn).await {
            Ok(p) => p,
            Err(e) => return format!("watching the bus name failed: {e}"),
        };
        match proxy.receive_name_lost_with_args(&[(0, BUS_NAME)]).await {
            Ok(mut lost) => {
                if lost.next().await.is_some() {
                    format!("lost the name {BUS_NAME} on the bus")
                } else {
                    "the bus connection closed".to_owned()
                }
            }
            Err(e) => format!("watching the bus name failed: {e}"),
        }
    };
    let closed = async {
        let mut messages = zbus::MessageStream::from(conn);
        while let Some(message) = messages.next().await {
            if let Err(e) = message {
                return format!("the bus connection failed: {e}");
            }
        }
        "the bus connection closed".to_owned()
    };
    futures::pin_mut!(name_lost, closed);
    match futures::future::select(name_lost, closed).await {
        futures::future::Either::Left((why, _)) | futures::future::Either::Right((why, _)) => why,
    }
}

/// Announces every generation the engine rolls back because its confirm
/// window closed.
fn announce_expiries(conn: zbus::Connection, mut expiries: broadcast::Receiver<Expired>) {
    tokio::spawn(async move {
        loop {
            match expiries.recv().await {
                Ok(e) => config::announce_rollback(&conn, e.generation, &e.reason).await,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "rollbacks went unannounced");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}
