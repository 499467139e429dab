//! The apply journal: written before the first action, removed after the
//! last. Found at start, it means an apply was interrupted; it holds what
//! every touched file was before, so the apply can be undone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::{write_atomic, write_replace};
use crate::network::NetAction;
use crate::root::Root;

/// A file as it was before an apply touched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub path: PathBuf,
    /// `None` when the file did not exist.
    pub contents: Option<String>,
    pub mode: u32,
}

impl Backup {
    pub fn take(root: &Root, path: &Path) -> Backup {
        use std::os::unix::fs::PermissionsExt;
        let real = root.path(path);
        let contents = fs::read_to_string(&real).ok();
        let mode = fs::metadata(&real)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        Backup {
            path: path.to_owned(),
            contents,
            mode,
        }
    }

    /// Puts the file back as it was.
    pub fn restore(&self, root: &Root) -> io::Result<()> {
        let real = root.path(&self.path);
        match &self.contents {
            Some(c) => write_atomic(&real, c.as_bytes(), self.mode),
            None => match fs::remove_file(&real) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }
}

/// An apply in progress. It also carries what the generation's row will
/// say, which is written when the apply ends (or by the recovery that
/// undoes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub generation: u64,
    pub previous: Option<u64>,
    pub backups: Vec<Backup>,
    #[serde(default)]
    pub caller_uid: u32,
    /// The config, redacted.
    #[serde(default)]
    pub config: String,
    #[serde(default)]
    pub plan: Vec<String>,
    /// The plan's network actions: taken back, last first, when there is
    /// no previous generation to converge to.
    #[serde(default)]
    pub network: Vec<NetAction>,
}

impl Journal {
    /// The generation's row as the store records it.
    pub fn attempt(&self) -> crate::store::Attempt<'_> {
        crate::store::Attempt {
            id: self.generation,
            caller_uid: self.caller_uid,
            base: self.previous,
            config: &self.config,
            plan: &self.plan,
        }
    }

    fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("apply.journal")
    }

    /// Records the start of an apply. The journal is there for a process
    /// that dies mid-apply, which leaves the page cache whole; a power cut
    /// also wipes the kernel's network state, and the next start converges
    /// to the generation in force, deriving every generated file again from
    /// the store. Secrets alone cannot be derived again (the store holds
    /// them redacted): with `durable`, for a plan that touches one, the
    /// journal is on disk before this returns.
    pub fn begin(&self, state_dir: &Path, durable: bool) -> io::Result<()> {
        let text = serde_json::to_vec(self).map_err(io::Error::other)?;
        let write = if durable { write_atomic } else { write_replace };
        write(&Self::path(state_dir), &text, 0o600)
    }

    /// The journal of an interrupted apply, if any.
    pub fn find(state_dir: &Path) -> io::Result<Option<Journal>> {
        match fs::read(Self::path(state_dir)) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Restores every file in reverse order.
    pub fn undo_files(&self, root: &Root) -> io::Result<()> {
        self.backups.iter().rev().try_for_each(|b| b.restore(root))
    }

    pub fn clear(state_dir: &Path) -> io::Result<()> {
        match fs::remove_file(Self::path(state_dir)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
