//! The D-Bus face of sysconfd: thin interfaces over the engine. Mutating
//! calls are checked twice (bus policy, then [`access::require_admin`]) and
//! run one at a time through the engine's lock.

pub mod access;
mod config;
pub mod error;
mod status;
mod watch;
mod wizard;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use appliance::dbus::{BUS_NAME, OBJECT_PATH};
use tokio::sync::Mutex;

use crate::engine::Engine;

pub use config::ConfigIface;
pub use status::StatusIface;
pub use wizard::WizardIface;

/// State the interfaces share.
pub struct Shared {
    pub engine: Mutex<Engine>,
    pub state_dir: PathBuf,
}

/// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured), serves
/// every interface and takes the well-known name.
pub async fn serve(shared: Arc<Shared>) -> zbus::Result<zbus::Connection> {
    let conn = zbus::connection::Builder::system()?
        .serve_at(OBJECT_PATH, ConfigIface::new(shared.clone()))?
        .serve_at(OBJECT_PATH, WizardIface::new(shared.clone()))?
        .serve_at(OBJECT_PATH, StatusIface::new(shared.clone()))?
        .name(BUS_NAME)?
        .build()
        .await?;
    watch::spawn(conn.clone(), shared);
    Ok(conn)
}

/// Rolls generation `generation` back when its confirm window ends without a confirm.
pub fn arm_confirm_timer(
    conn: zbus::Connection,
    shared: Arc<Shared>,
    generation: u64,
    after: Duration,
) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let rolled = {
            let mut engine = shared.engine.lock().await;
            match engine.pending() {
                Some(p) if p.generation == generation => {
                    let reason = format!(
                        "not confirmed within {} s; the previous generation came back",
                        after.as_secs()
                    );
                    engine
                        .expire_pending(&reason)
                        .await
                        .map(|g| g.map(|g| (g, reason)))
                }
                _ => Ok(None),
            }
        };
        match rolled {
            Ok(Some((g, reason))) => config::announce_rollback(&conn, g, &reason).await,
            Ok(None) => {}
            Err(e) => tracing::error!(generation, error = %e, "automatic rollback failed"),
        }
    });
}
