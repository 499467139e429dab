//! File primitives: the atomic writes, renames and removals every file
//! change of sysconfd goes through — [`write_atomic`] (temp file, fsync,
//! rename, fsync of the directory) for what must survive a power cut as
//! written, and [`write_replace`] (temp file, rename) for files derived from
//! the generation store, which sysconfd writes again at start when they
//! differ. The machine's files are reached through [`super::Os`]; sysconfd's
//! own state directory (journal, pending confirm, store) through these.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// Reads a file's bytes and permission bits; `None` when there is none.
pub fn read(path: &Path) -> io::Result<Option<super::FileState>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
    Ok(Some(super::FileState::new(bytes, mode)))
}

/// Removes `path`; one already gone is fine.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes `contents` over the start of the existing file at `path`, in
/// place: it needs no more room on the disk than the file already has.
pub fn overwrite_in_place(path: &Path, contents: &[u8]) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(contents)
}

/// Appends one line to `path`, creating it and its directory when missing.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{line}")
}

/// Makes the file at `tmp` durable, renames it to `path` and makes the
/// rename durable.
pub fn rename_durable(tmp: &Path, path: &Path) -> io::Result<()> {
    File::open(tmp)?.sync_all()?;
    fs::rename(tmp, path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Writes `contents` to a new file `name` in a fresh temporary directory
/// (for a daemon's check of text not yet written); the file goes when the
/// returned directory is dropped.
pub fn scratch(name: &str, contents: &[u8]) -> io::Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(name);
    fs::write(&path, contents)?;
    Ok((dir, path))
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
}
