//! A generation applied with a confirm timeout, waiting for `Confirm`.
//! Kept on disk so a restart or reboot inside the window rolls back too.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::journal::Backup;
use crate::network::NetAction;
use crate::os::files::{remove_if_exists, write_atomic};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub generation: u64,
    /// The generation that comes back without a confirm.
    pub previous: Option<u64>,
    /// Unix time (seconds, fractional) by which `Confirm` must arrive.
    pub deadline: f64,
    /// The files as they were before this generation, restored on rollback.
    pub backups: Vec<Backup>,
    /// The generation's network actions, taken back when there is no
    /// previous generation.
    #[serde(default)]
    pub network: Vec<NetAction>,
    /// The kernel host name before, put back when there is no previous generation.
    #[serde(default)]
    pub hostname_before: Option<String>,
    /// The daemons the plan started (they did not run before): stopped
    /// again when there is no previous generation to converge to.
    #[serde(default)]
    pub services_started: Vec<crate::services::Service>,
    /// The DHCP clients the plan started: stopped again likewise.
    #[serde(default)]
    pub dhcp_clients_started: Vec<String>,
}

impl Pending {
    fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("pending-confirm.json")
    }

    pub fn save(&self, state_dir: &Path) -> io::Result<()> {
        let text = serde_json::to_vec(self).map_err(io::Error::other)?;
        write_atomic(&Self::path(state_dir), &text, 0o600)
    }

    pub fn load(state_dir: &Path) -> io::Result<Option<Pending>> {
        match fs::read(Self::path(state_dir)) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn clear(state_dir: &Path) -> io::Result<()> {
        remove_if_exists(&Self::path(state_dir))
    }

    /// Seconds left before the rollback (0 when past).
    pub fn remaining(&self) -> f64 {
        (self.deadline - unix_now()).max(0.0)
    }
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
