//! The apply journal: written before the first action, removed after the
//! last. Found at start, it means an apply was interrupted; it holds what
//! every touched file was before, so the apply can be undone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::network::NetAction;
use crate::os::files::{overwrite_in_place, remove_if_exists, write_atomic, write_replace};
use crate::os::{FileState, Os};

/// A file as it was before an apply touched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub path: PathBuf,
    /// `None` when the file did not exist.
    pub contents: Option<String>,
    pub mode: u32,
}

impl Backup {
    /// The file at `path` as it was observed (`found`), before an apply.
    pub fn from_observed(path: &Path, found: Option<&FileState>) -> Backup {
        Backup {
            path: path.to_owned(),
            contents: found.and_then(|f| String::from_utf8(f.contents.clone()).ok()),
            mode: found.map_or(0o644, |f| f.mode),
        }
    }

    /// Takes the file at `path` as it is now.
    pub fn take(os: &dyn Os, path: &Path) -> Backup {
        Backup::from_observed(path, os.read_file(path).ok().flatten().as_ref())
    }

    /// Whether the file is as it was (content and mode).
    pub fn in_place(&self, os: &dyn Os) -> bool {
        match (&self.contents, os.read_file(&self.path)) {
            (None, Ok(None)) => true,
            (Some(c), Ok(Some(now))) => now.is(c.as_bytes(), self.mode),
            _ => false,
        }
    }

    /// Puts the file back as it was. A file still as it was is left alone,
    /// and one the apply kept ([`files::keep`]) is renamed back: an undo on
    /// a full disk needs no room, on a read-only one fails only where it
    /// must write.
    pub fn restore(&self, os: &dyn Os) -> io::Result<()> {
        if self.in_place(os) {
            return self.drop_kept(os);
        }
        match &self.contents {
            Some(c) if os.put_back_kept(&self.path, c.as_bytes(), self.mode)? => Ok(()),
            Some(c) => os.write_file(&self.path, c.as_bytes(), self.mode, true),
            None => match os.remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }
}

impl Backup {
    /// Lets go of the file the apply kept to put back ([`Os::keep_file`]).
    pub fn drop_kept(&self, os: &dyn Os) -> io::Result<()> {
        os.drop_kept(&self.path)
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
    /// The kernel host name before a plan that sets it: put back when
    /// there is no previous generation to converge to.
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

/// Why an apply failed, kept beside its journal until the generation's row
/// says so (the store may be what failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The error that stopped the apply.
    pub cause: String,
    /// Why putting the previous generation back did not complete, the last
    /// time it was tried.
    #[serde(default)]
    pub restore: Option<String>,
}

/// Room kept beside a journal for the [`Failure`] of its apply, taken when
/// the journal is written: a disk that fills up later can still hold it.
const NOTE_ROOM: usize = 4096;

impl Failure {
    /// An apply found by its journal alone: the process stopped in the middle.
    pub fn interrupted() -> Failure {
        Failure {
            cause: "interrupted: sysconfd stopped during the apply".into(),
            restore: None,
        }
    }

    /// This failure as JSON padded to `NOTE_ROOM` bytes, its texts cut
    /// short when they would not fit.
    fn padded(&self) -> Vec<u8> {
        let mut keep = NOTE_ROOM;
        loop {
            let cut = Failure {
                cause: clip(&self.cause, keep),
                restore: self.restore.as_deref().map(|r| clip(r, keep)),
            };
            let mut text = serde_json::to_vec(&cut).unwrap_or_default();
            if text.len() <= NOTE_ROOM {
                text.resize(NOTE_ROOM, b' ');
                return text;
            }
            keep /= 2;
        }
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
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

    fn note_path(state_dir: &Path) -> PathBuf {
        state_dir.join("apply.failure")
    }

    /// Records the start of an apply. The journal is there for a process
    /// that dies mid-apply, which leaves the page cache whole; a power cut
    /// also wipes the kernel's network state, and the next start converges
    /// to the generation in force, deriving every generated file again from
    /// the store. Secrets alone cannot be derived again (the store holds
    /// them redacted): with `durable`, for a plan that touches one, the
    /// journal is on disk before this returns.
    ///
    /// Beside it, room for the apply's [`Failure`] is taken (see [`Journal::note`]).
    /// When either cannot be written, neither is left.
    pub fn begin(&self, state_dir: &Path, durable: bool) -> io::Result<()> {
        let text = serde_json::to_vec(self).map_err(io::Error::other)?;
        let write = if durable { write_atomic } else { write_replace };
        let room = [b' '; NOTE_ROOM];
        let begun = write(&Self::path(state_dir), &text, 0o600)
            .and_then(|()| write_replace(&Self::note_path(state_dir), &room, 0o600));
        if begun.is_err() {
            let _ = Self::clear(state_dir);
        }
        begun
    }

    /// Keeps why the apply failed beside its journal, for the next start.
    /// It is written over the room [`Journal::begin`] took, in place, so it
    /// needs no more space on the disk.
    pub fn note(state_dir: &Path, failure: &Failure) -> io::Result<()> {
        overwrite_in_place(&Self::note_path(state_dir), &failure.padded())
    }

    /// The failure noted beside the journal, if any was.
    pub fn noted(state_dir: &Path) -> Option<Failure> {
        let bytes = fs::read(Self::note_path(state_dir)).ok()?;
        serde_json::from_slice(bytes.trim_ascii()).ok()
    }

    /// The journal of an interrupted apply, if any.
    pub fn find(state_dir: &Path) -> io::Result<Option<Journal>> {
        match fs::read(Self::path(state_dir)) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lets go of every file the apply kept to put back: once it ended,
    /// committed or undone.
    pub fn drop_kept(&self, os: &dyn Os) {
        for b in &self.backups {
            if let Err(e) = b.drop_kept(os) {
                tracing::warn!(path = %b.path.display(), error = %e, "could not remove a kept file");
            }
        }
    }

    /// Removes the journal, then the failure noted beside it.
    pub fn clear(state_dir: &Path) -> io::Result<()> {
        remove_if_exists(&Self::path(state_dir))?;
        remove_if_exists(&Self::note_path(state_dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::root::Root;

    fn journal() -> Journal {
        Journal {
            generation: 2,
            previous: Some(1),
            backups: Vec::new(),
            caller_uid: 0,
            config: String::new(),
            plan: Vec::new(),
            network: Vec::new(),
            hostname_before: None,
            services_started: Vec::new(),
            dhcp_clients_started: Vec::new(),
        }
    }

    #[test]
    fn a_noted_failure_takes_only_the_room_kept_at_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        journal().begin(state, false).unwrap();
        assert_eq!(Journal::noted(state), None, "nothing noted yet");
        let failure = Failure {
            cause: "x".repeat(10 * NOTE_ROOM),
            restore: Some("restoring /etc/hosts: Read-only file system\n\"quoted\"".into()),
        };
        Journal::note(state, &failure).unwrap();
        let size = fs::metadata(Journal::note_path(state)).unwrap().len();
        assert_eq!(size, NOTE_ROOM as u64);
        let noted = Journal::noted(state).unwrap();
        assert!(noted.cause.starts_with("xxx") && noted.cause.ends_with("..."));
        assert_eq!(noted.restore, failure.restore);
        Journal::clear(state).unwrap();
        assert_eq!(Journal::find(state).unwrap(), None);
        assert_eq!(Journal::noted(state), None);
    }

    #[tokio::test]
    async fn a_file_still_as_it_was_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let os = crate::os::RealOs::open(false, crate::os::ServicesMode::None, &root, dir.path())
            .await
            .unwrap();
        write_replace(&root.path("/etc/hosts"), b"old", 0o644).unwrap();
        let backup = Backup::take(&os, Path::new("/etc/hosts"));
        let before = fs::metadata(root.path("/etc/hosts")).unwrap();
        backup.restore(&os).unwrap();
        let after = fs::metadata(root.path("/etc/hosts")).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(before.ino(), after.ino(), "rewritten although unchanged");

        write_replace(&root.path("/etc/hosts"), b"new", 0o600).unwrap();
        assert!(!backup.in_place(&os));
        backup.restore(&os).unwrap();
        assert!(backup.in_place(&os));
        assert_eq!(fs::read(root.path("/etc/hosts")).unwrap(), b"old");
    }
}
