//! Generated files: what a domain wants on disk. The writes that put them
//! there are in [`crate::os::files`] (re-exported here).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::root::Root;

pub use crate::os::files::{
    drop_kept, keep, kept_path, put_back_kept, write_atomic, write_replace,
};

/// A file a domain wants to exist with exactly this content and mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    /// Absolute system path, such as `/etc/resolv.conf` (the root prefix is applied later).
    pub path: PathBuf,
    pub contents: String,
    /// Permission bits, such as 0o644; secrets are 0o600.
    pub mode: u32,
}

impl FileSpec {
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<String>, mode: u32) -> Self {
        FileSpec {
            path: path.into(),
            contents: contents.into(),
            mode,
        }
    }

    /// Whether the file under `root` already has this content and mode.
    pub fn is_current(&self, root: &Root) -> bool {
        let path = root.path(&self.path);
        let same_mode = fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o7777 == self.mode)
            .unwrap_or(false);
        same_mode
            && fs::read(&path)
                .map(|c| c == self.contents.as_bytes())
                .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_content_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let spec = FileSpec::new("/etc/telbox/secret", "k", 0o600);
        assert!(!spec.is_current(&root));
        write_atomic(&root.path(&spec.path), spec.contents.as_bytes(), spec.mode).unwrap();
        assert!(spec.is_current(&root));
        let mode = fs::metadata(root.path(&spec.path))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}
