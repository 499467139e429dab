//! Generated files: what a domain wants on disk, and the atomic writes that
//! put it there: [`write_atomic`] (temp file, fsync, rename, fsync of the
//! directory) for what must survive a power cut as written, and
//! [`write_replace`] (temp file, rename) for files derived from the
//! generation store, which sysconfd writes again at start when they differ.

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

/// The second name under which [`keep`] holds the file at `path`.
pub fn kept_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.telbox-prev"))
}

/// Keeps the file at `path` under a second name (a hard link to the same
/// inode) before an apply replaces or removes it, until the apply ends:
/// putting it back is then a rename, which needs no room on a full disk.
/// Nothing is kept when there is no file.
pub fn keep(path: &Path) -> io::Result<()> {
    let kept = kept_path(path);
    drop_kept(path)?;
    match fs::hard_link(path, &kept) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Puts the file [`keep`] held back at `path` when it has exactly
/// `contents` and `mode`; says whether it did.
pub fn put_back_kept(path: &Path, contents: &[u8], mode: u32) -> io::Result<bool> {
    let kept = kept_path(path);
    let same_mode = fs::metadata(&kept).is_ok_and(|m| m.permissions().mode() & 0o7777 == mode);
    if !same_mode || !fs::read(&kept).is_ok_and(|c| c == contents) {
        return Ok(false);
    }
    fs::rename(&kept, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(true)
}

/// Lets go of the file [`keep`] held for `path`, if any.
pub fn drop_kept(path: &Path) -> io::Result<()> {
    match fs::remove_file(kept_path(path)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes `contents` to `path` atomically: a crash leaves the old or the new file, never a mix.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_via_temp(path, contents, mode, true)
}

/// Replaces `path` through a temp file and a rename, without waiting for the
/// disk: a crash of the process leaves the old or the new file; a power cut
/// may leave either one or an empty file, which the next start re-derives.
pub fn write_replace(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_via_temp(path, contents, mode, false)
}

fn write_via_temp(path: &Path, contents: &[u8], mode: u32, durable: bool) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("path has no file name"))?;
    let tmp = dir.join(format!(".{}.telbox-tmp", name.to_string_lossy()));
    let written = write_new(&tmp, contents, mode, durable).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        // A full disk or a failing rename leaves no half-written temp file behind.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if durable {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn write_new(tmp: &Path, contents: &[u8], mode: u32, durable: bool) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(tmp)?;
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    f.write_all(contents)?;
    if durable {
        f.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_sets_content_and_mode_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/hosts");
        write_replace(&path, b"one", 0o644).unwrap();
        write_replace(&path, b"two", 0o640).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["hosts"]);
    }

    #[test]
    fn a_write_that_fails_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("in-the-way"), "").unwrap();
        assert!(write_replace(&path, b"one", 0o644).is_err());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["hosts"]);
    }

    #[test]
    fn a_kept_file_comes_back_by_a_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        keep(&path).unwrap();
        assert!(!kept_path(&path).exists(), "nothing to keep");
        write_replace(&path, b"old", 0o640).unwrap();
        keep(&path).unwrap();
        write_replace(&path, b"new", 0o644).unwrap();
        assert!(!put_back_kept(&path, b"other", 0o640).unwrap());
        assert!(!put_back_kept(&path, b"old", 0o644).unwrap());
        assert!(put_back_kept(&path, b"old", 0o640).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(!kept_path(&path).exists());

        keep(&path).unwrap();
        assert!(kept_path(&path).exists());
        drop_kept(&path).unwrap();
        assert!(!kept_path(&path).exists());
        assert_eq!(fs::read(&path).unwrap(), b"old");
    }

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
