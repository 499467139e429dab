//! `org.telbox.Sysconfd1.Ha`: the HA pair as this box sees it — Status,
//! History, Promote and Demote for maintenance, and a Transition signal
//! after each change. The work is the HA runtime's (`crate::ha`).

use std::sync::Arc;

use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{interface, Connection};

use super::access::require_admin;
use super::error::{bounded, BusError};
use crate::ha::Ha;

pub struct HaIface {
    ha: Arc<Ha>,
}

impl HaIface {
    pub fn new(ha: Arc<Ha>) -> Self {
        HaIface { ha }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, BusError> {
    bounded(serde_json::to_string(value).unwrap_or_default())
}

#[interface(name = "org.telbox.Sysconfd1.Ha")]
impl HaIface {
    /// JSON `HaStatus`: role, state, keepalived's state and the peer on
    /// each path, health, the guard, the failback wait, the last transition.
    async fn status(&self) -> Result<String, BusError> {
        to_json(&self.ha.status().await)
    }

    /// JSON array of `HaTransition`, newest first.
    async fn history(&self) -> Result<String, BusError> {
        to_json(&self.ha.history())
    }

    /// Ends a demotion and takes the service now (a master skips its
    /// failback wait; a slave outranks the master until it is active).
    async fn promote(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<String, BusError> {
        let uid = require_admin(conn, &header, "Promote").await?;
        self.ha.promote(uid).await.map_err(BusError::Ha)
    }

    /// Hands the service to the peer and keeps this box out until Promote.
    async fn demote(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<String, BusError> {
        let uid = require_admin(conn, &header, "Demote").await?;
        self.ha.demote(uid).await.map_err(BusError::Ha)
    }

    /// A transition was carried out: the JSON `HaTransition`.
    #[zbus(signal)]
    pub async fn transition(emitter: &SignalEmitter<'_>, transition: &str) -> zbus::Result<()>;
}

/// Tells the HA runtime when the configuration in force changes (apply,
/// rollback, an expired confirm, the wizard): it looks once a second.
pub fn follow_config(shared: Arc<super::Shared>) {
    tokio::spawn(async move {
        let mut last: Option<String> = None;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let (text, root) = {
                let engine = shared.engine.read().await;
                (
                    engine.current_config().unwrap_or_default(),
                    crate::root::Root::new(engine.root_dir()),
                )
            };
            if last.as_ref() == Some(&text) {
                continue;
            }
            let settings = settings_of(&text, &root);
            last = Some(text);
            shared.ha.reconfigure(settings);
        }
    });
}

/// The HA settings of a configuration text (none when it has no pair, or
/// cannot be read: the engine refuses such a config before it is in force).
pub fn settings_of(text: &str, root: &crate::root::Root) -> Option<crate::ha::HaSettings> {
    if text.is_empty() {
        return None;
    }
    let config = appliance::config::load(text, "current").ok()?;
    match crate::ha::settings_for(&config, root) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "HA settings of the configuration in force");
            None
        }
    }
}
