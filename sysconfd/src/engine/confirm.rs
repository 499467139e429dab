//! The confirm window: a generation applied with a confirm timeout stays
//! only when `Confirm` arrives in time; otherwise the engine brings the
//! previous generation back by itself. The window is on disk ([`Pending`]),
//! so a restart inside it rolls back too ([`Engine::open`]); while sysconfd
//! runs, [`enforce`] watches its deadline.
//!
//! [`Pending`]: super::Pending

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch, RwLock};
use tokio::time::Instant;

use super::Engine;

/// The engine as the daemon shares it: one lock, held across an apply.
pub type SharedEngine = Arc<RwLock<Engine>>;

/// How many rollbacks may wait unread for a slow listener.
const EXPIRED_BACKLOG: usize = 16;

/// An open confirm window: `generation` goes back at `deadline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub generation: u64,
    pub deadline: Instant,
    /// The timeout the caller asked for, named in the rollback's reason.
    pub length: Duration,
}

impl Window {
    fn reason(&self) -> String {
        format!(
            "not confirmed within {} s; the previous generation came back",
            self.length.as_secs()
        )
    }
}

/// A generation the engine rolled back because its window closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub generation: u64,
    pub reason: String,
}

/// The engine's side of the window: what is open, and who hears of expiries.
pub(super) struct Windows {
    open: watch::Sender<Option<Window>>,
    expired: broadcast::Sender<Expired>,
}

impl Windows {
    pub(super) fn new() -> Windows {
        Windows {
            open: watch::Sender::new(None),
            expired: broadcast::Sender::new(EXPIRED_BACKLOG),
        }
    }

    pub(super) fn open(&self, generation: u64, length: Duration) {
        self.open.send_replace(Some(Window {
            generation,
            deadline: Instant::now() + length,
            length,
        }));
    }

    /// Closes the window of `generation`, if it is the one open.
    pub(super) fn close(&self, generation: u64) {
        self.open.send_if_modified(|w| match w {
            Some(open) if open.generation == generation => {
                *w = None;
                true
            }
            _ => false,
        });
    }
}

impl Engine {
    /// The confirm window open now, if any.
    pub fn confirm_window(&self) -> Option<Window> {
        *self.windows.open.borrow()
    }

    /// Hears of every generation rolled back because its window closed.
    pub fn expiries(&self) -> broadcast::Receiver<Expired> {
        self.windows.expired.subscribe()
    }

    /// Rolls `window`'s generation back if it still waits for its confirm.
    async fn expire(&mut self, window: Window) -> Option<Expired> {
        let waiting = self
            .pending()
            .is_some_and(|p| p.generation == window.generation);
        // A window that failed to roll back is not tried again.
        self.windows.close(window.generation);
        if !waiting {
            return None;
        }
        let reason = window.reason();
        match self.expire_pending(&reason).await {
            Ok(Some(generation)) => {
                let expired = Expired { generation, reason };
                let _ = self.windows.expired.send(expired.clone());
                Some(expired)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(generation = window.generation, error = %e, "automatic rollback failed");
                None
            }
        }
    }
}

/// Watches the engine's confirm windows for as long as it lives, rolling
/// back each generation whose window closes without a confirm.
pub fn enforce(engine: SharedEngine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut windows = engine.read().await.windows.open.subscribe();
        loop {
            let open = *windows.borrow_and_update();
            let Some(window) = open else {
                if windows.changed().await.is_err() {
                    return;
                }
                continue;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(window.deadline) => {
                    engine.write().await.expire(window).await;
                }
                changed = windows.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    })
}
