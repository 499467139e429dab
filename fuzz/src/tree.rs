//! A file tree written from fuzz input, for the parsers that read sysfs and
//! `/proc` under a root directory.
//!
//! The input is a list of entries, each starting on a line of its own:
//!
//! ```text
//! ==> sys/bus/pci/devices/0000:02:00.0 -> sys/devices/pci0000:00/0000:02:00.0
//! ==> sys/devices/pci0000:00/0000:02:00.0/vendor
//! 0xd161
//! ```
//!
//! `==> PATH` makes a file holding the lines up to the next entry,
//! `==> PATH/` an empty directory and `==> PATH -> TARGET` a symbolic link
//! to `TARGET`. Paths are relative
//! to the root; a component that is empty, `.` or `..` drops the entry, and a
//! link points at its target's absolute path under the root, so nothing the
//! input writes or links leaves the root.

use std::path::{Path, PathBuf};
use std::sync::Once;

/// Entries after this many are ignored.
const MAX_ENTRIES: usize = 256;
/// Components a path may have.
const MAX_DEPTH: usize = 12;

/// One entry of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    File { path: PathBuf, contents: &'a [u8] },
    Dir { path: PathBuf },
    Link { path: PathBuf, target: PathBuf },
}

/// Reads the entries of `data`; malformed ones are skipped.
pub fn entries(data: &[u8]) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    // Text before the first entry is ignored.
    let mut rest = if data.starts_with(b"==> ") {
        data
    } else {
        match find(data, b"\n==> ") {
            Some(at) => &data[at + 1..],
            None => return out,
        }
    };
    while out.len() < MAX_ENTRIES {
        let Some(body) = rest.strip_prefix(b"==> ") else {
            break;
        };
        let (header, after) = split_line(body);
        let (contents, next) = if after.starts_with(b"==> ") {
            (&after[..0], after)
        } else {
            match find(after, b"\n==> ") {
                Some(at) => (&after[..=at], &after[at + 1..]),
                None => (after, &after[after.len()..]),
            }
        };
        rest = next;
        let Ok(header) = std::str::from_utf8(header) else {
            continue;
        };
        let entry = match header.split_once(" -> ") {
            Some((path, target)) => clean(path)
                .zip(clean(target))
                .map(|(path, target)| Entry::Link { path, target }),
            None => match header.strip_suffix('/') {
                Some(dir) => clean(dir).map(|path| Entry::Dir { path }),
                None => clean(header).map(|path| Entry::File { path, contents }),
            },
        };
        out.extend(entry);
    }
    out
}

/// Writes the entries under `root` (which must exist); entries the file
/// system refuses (a file where a directory is, say) are skipped.
pub fn write(root: &Path, entries: &[Entry<'_>]) {
    for entry in entries {
        match entry {
            Entry::File { path, contents } => {
                let path = root.join(path);
                if let Some(parent) = path.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::fs::write(&path, contents);
            }
            Entry::Dir { path } => {
                let _ = std::fs::create_dir_all(root.join(path));
            }
            Entry::Link { path, target } => {
                let path = root.join(path);
                if let Some(parent) = path.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::os::unix::fs::symlink(root.join(target), &path);
            }
        }
    }
}

/// An empty directory for one input, the same one each time in a process;
/// it is removed when the process exits.
pub fn fresh_root() -> PathBuf {
    static CLEANUP: Once = Once::new();
    let root = root_dir();
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("creating the fuzz root");
    CLEANUP.call_once(|| {
        // SAFETY: registers a plain function, which only removes a directory.
        unsafe { atexit(remove_root) };
    });
    root
}

fn root_dir() -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(format!("telbox-fuzz-{}", std::process::id()))
}

extern "C" fn remove_root() {
    let _ = std::fs::remove_dir_all(root_dir());
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

fn clean(path: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = path.trim_end_matches('\r').split('/').collect();
    let ok = !parts.is_empty()
        && parts.len() <= MAX_DEPTH
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\0'));
    ok.then(|| parts.iter().collect())
}

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &data[data.len()..]),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_links_and_drops_escapes() {
        let e = entries(
            b"==> a/b\nx\ny\n==> c -> a\n==> ../etc/passwd\nz\n==> d -> /etc\n==> e/\n==> f\n",
        );
        assert_eq!(
            e,
            [
                Entry::File {
                    path: "a/b".into(),
                    contents: b"x\ny\n"
                },
                Entry::Link {
                    path: "c".into(),
                    target: "a".into()
                },
                Entry::Dir { path: "e".into() },
                Entry::File {
                    path: "f".into(),
                    contents: b""
                },
            ]
        );
    }
}
