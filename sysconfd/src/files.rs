//! Generated files: what a domain wants on disk, and the atomic write that
//! puts it there (temp file, fsync, rename, fsync of the directory).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::root::Root;

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

/// Writes `contents` to `path` atomically: a crash leaves the old or the new file, never a mix.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("path has no file name"))?;
    let tmp = dir.join(format!(".{}.telbox-tmp", name.to_string_lossy()));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
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
