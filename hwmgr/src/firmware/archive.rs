//! Extracting a verified `.tar.gz` into temporary files beside their
//! targets, so that moving them into place is a rename. Temporary names
//! start with a dot: the kernel is never asked for them, and a kill mid-way
//! leaves no partial `dahdi-fw-*.bin`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use super::catalog::Package;
use super::fsutil::hex;
use super::FirmwareError;

/// Largest firmware file accepted from an archive.
const MAX_MEMBER: u64 = 32 * 1024 * 1024;

/// The temporary files of an install carry this in their names.
pub const PART_MARK: &str = ".telbox-part-";

/// Environment variable that stops the process (SIGSTOP) halfway through
/// writing the first firmware file, when set to `extract`: tests kill it there.
pub const PAUSE_ENV: &str = "TELBOX_FIRMWARE_PAUSE";

/// A firmware file written under its temporary name.
#[derive(Debug)]
pub struct Staged {
    pub name: String,
    pub temp: PathBuf,
    pub target: PathBuf,
    pub sha256: String,
    pub size: u64,
}

/// What an archive gave.
#[derive(Debug, Default)]
pub struct Extracted {
    pub staged: Vec<Staged>,
    /// Members that are not files of the package.
    pub skipped: Vec<String>,
}

impl Extracted {
    /// Removes every temporary file (after a failure or a refusal).
    pub fn discard(&mut self) {
        for s in self.staged.drain(..) {
            let _ = std::fs::remove_file(&s.temp);
        }
    }
}

/// The temporary name of `name` in `dir`.
pub fn temp_name(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}{PART_MARK}{}", std::process::id()))
}

/// What a member is, read from its header.
enum Member {
    /// A regular file of the package, with its size.
    Wanted(String, u64),
    /// Anything else, with why it is left out.
    Skipped(String),
}

fn classify(entry: &tar::Entry<'_, impl Read>, package: &Package) -> Result<Member, String> {
    let path = entry.path().map_err(|e| e.to_string())?.into_owned();
    let shown = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let wanted = package.files.contains(&name);
    let safe = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let kind = entry.header().entry_type();
    if !wanted {
        return Ok(Member::Skipped(shown));
    }
    if !safe {
        return Err(format!("member {shown:?} leaves the archive's directory"));
    }
    if !kind.is_file() {
        return Err(format!("member {shown:?} is not a regular file"));
    }
    let size = entry.header().size().map_err(|e| e.to_string())?;
    if size > MAX_MEMBER {
        return Err(format!(
            "member {shown:?} is larger than {MAX_MEMBER} bytes"
        ));
    }
    Ok(Member::Wanted(name, size))
}

fn open(archive: &Path) -> io::Result<tar::Archive<GzDecoder<File>>> {
    Ok(tar::Archive::new(GzDecoder::new(File::open(archive)?)))
}

/// Extracts `package`'s files from `archive` into temporary files in `dir`.
/// A first pass checks the whole archive (every file of the package there
/// once, as a regular file); only then is anything written.
/// `progress(done, total)` follows the bytes written.
pub fn extract(
    archive: &Path,
    package: &Package,
    dir: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Extracted, FirmwareError> {
    let bad = |why: String| FirmwareError::Archive {
        package: package.name.clone(),
        why,
    };
    let io_bad = |e: io::Error| bad(format!("not a readable .tar.gz: {e}"));
    let mut sizes: Vec<(String, u64)> = Vec::new();
    let mut skipped = Vec::new();
    for entry in open(archive).map_err(io_bad)?.entries().map_err(io_bad)? {
        let entry = entry.map_err(io_bad)?;
        match classify(&entry, package).map_err(bad)? {
            Member::Wanted(name, size) => {
                if sizes.iter().any(|(n, _)| *n == name) {
                    return Err(bad(format!("it holds {name} twice")));
                }
                sizes.push((name, size));
            }
            Member::Skipped(shown) => skipped.push(shown),
        }
    }
    if let Some(missing) = package
        .files
        .iter()
        .find(|f| !sizes.iter().any(|(n, _)| n == *f))
    {
        return Err(bad(format!("it does not hold {missing}")));
    }
    let total: u64 = sizes.iter().map(|(_, s)| s).sum();
    std::fs::create_dir_all(dir)
        .map_err(|e| FirmwareError::io(format!("creating {}", dir.display()), e))?;
    let mut out = Extracted {
        staged: Vec::new(),
        skipped,
    };
    let mut done = 0u64;
    progress(0, total);
    let result = (|| {
        for entry in open(archive).map_err(io_bad)?.entries().map_err(io_bad)? {
            let mut entry = entry.map_err(io_bad)?;
            let Member::Wanted(name, size) = classify(&entry, package).map_err(bad)? else {
                continue;
            };
            let temp = temp_name(dir, &name);
            let staged = write_member(&mut entry, &name, size, &temp, &mut |n| {
                done += n;
                progress(done, total);
            })
            .map_err(|e| FirmwareError::io(format!("writing {}", temp.display()), e));
            let (sha256, size) = match staged {
                Ok(v) => v,
                Err(e) => {
                    let _ = std::fs::remove_file(&temp);
                    return Err(e);
                }
            };
            out.staged.push(Staged {
                target: dir.join(&name),
                name,
                temp,
                sha256,
                size,
            });
        }
        Ok(())
    })();
    if let Err(e) = result {
        out.discard();
        return Err(e);
    }
    Ok(out)
}

/// Writes one member, hashing it; the file is on disk (fsync) when this returns.
fn write_member(
    entry: &mut impl Read,
    name: &str,
    size: u64,
    temp: &Path,
    written: &mut dyn FnMut(u64),
) -> io::Result<(String, u64)> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(temp)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    let pause_at = (std::env::var(PAUSE_ENV).as_deref() == Ok("extract")).then_some(size / 2);
    loop {
        let n = entry.read(&mut buf)?;
        if n == 0 {
            break;
        }
        f.write_all(&buf[..n])?;
        hasher.update(&buf[..n]);
        len += n as u64;
        written(n as u64);
        if pause_at.is_some_and(|at| len >= at && len < size) {
            f.sync_all()?;
            pause(name);
        }
    }
    f.sync_all()?;
    Ok((hex(&hasher.finalize()), len))
}

/// Stops this process, once, until it is continued or killed (fault injection).
fn pause(name: &str) {
    static PAUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if PAUSED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    eprintln!("firmware: fault injection: pausing while writing {name}");
    // SAFETY: raising a signal at our own process has no other effect.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
}

/// Removes the temporary files an interrupted install left in `dir`.
pub fn clean_parts(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            && name.contains(PART_MARK)
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed.push(e.path());
        }
    }
    removed
}
