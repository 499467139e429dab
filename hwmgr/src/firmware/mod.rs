//! The firmware life cycle of the telephony cards, the way a package
//! manager would do it: a catalog of Digium's packages, what the cards and
//! the kernel log say is needed, and install / remove / upgrade into
//! `/lib/firmware` (under a [`Root`]) that are verified, recorded and exact.
//!
//! * An archive's sums are checked before anything is written.
//! * Files are extracted under temporary names beside their targets,
//!   synced, then renamed; a kill mid-way leaves no partial firmware file.
//! * Every file written is recorded with its SHA-256 under the state
//!   directory; `remove` and `upgrade` touch exactly those files, and refuse
//!   (unless forced) when one was changed since.
//!
//! sysconfd runs these (it owns `/lib/firmware`); the renderer only gets a
//! [`FirmwarePresence`], observed once.

mod archive;
pub mod catalog;
mod fsutil;
mod install;
pub mod kernlog;
mod needs;
mod present;
mod record;
mod source;

use std::path::{Path, PathBuf};

use appliance::firmware::{FirmwareList, NeededReport, FIRMWARE_DIR};

pub use archive::PAUSE_ENV;
pub use catalog::{Catalog, Package, CATALOG_FILE};
pub use install::{InstallRequest, Progress};
pub use needs::Wanted;
pub use present::FirmwarePresence;
pub use record::{Record, RecordedFile};
pub use source::Source;

use crate::detect::Inventory;
use crate::Root;

/// Why a firmware operation did nothing (or, where it says so, less than asked).
#[derive(Debug, thiserror::Error)]
pub enum FirmwareError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("firmware catalog {origin}: {why}")]
    Catalog { origin: String, why: String },
    #[error("installed-firmware record {}: {why}", path.display())]
    Record { path: PathBuf, why: String },
    #[error("no firmware package `{0}` in the catalog (`appliance firmware list` shows them)")]
    UnknownPackage(String),
    #[error("package `{0}` is not installed")]
    NotInstalled(String),
    #[error("source {0}")]
    Source(String),
    #[error("fetching {location}: {why}")]
    Fetch { location: String, why: String },
    #[error("{location} is not an archive the catalog knows (neither its name nor its checksums match a package); give the package with --package NAME")]
    Unidentified { location: String },
    #[error("{location} does not match package {package}: {algorithm} is {got}, the catalog says {expected}; nothing was installed")]
    ChecksumMismatch {
        package: String,
        location: String,
        algorithm: String,
        expected: String,
        got: String,
    },
    #[error("the catalog has no checksum for package {package} ({note}); nothing was installed. If you trust this archive, install it again with --sha256 {sha256}")]
    NoChecksum {
        package: String,
        sha256: String,
        note: String,
    },
    #[error("the archive of package {package} is unusable: {why}; nothing was installed")]
    Archive { package: String, why: String },
    #[error("package {package}: {}; nothing was changed{}", problems.join("; "), if *forceable { " (--force goes ahead anyway)" } else { "" })]
    Refused {
        package: String,
        problems: Vec<String>,
        forceable: bool,
    },
    #[error("package {package} {installed} is installed and the catalog now has {available}; use `appliance firmware upgrade`")]
    OtherVersion {
        package: String,
        installed: String,
        available: String,
    },
    #[error("{done}; then {error}")]
    Partly {
        done: String,
        error: Box<FirmwareError>,
    },
}

impl FirmwareError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        FirmwareError::Io {
            what: what.into(),
            source,
        }
    }
}

/// The firmware of one box: its root, its state directory, its catalog.
#[derive(Debug, Clone)]
pub struct Firmware {
    root: Root,
    state_dir: PathBuf,
    catalog: Catalog,
}

impl Firmware {
    /// The box under `root`, with its catalog ([`CATALOG_FILE`] or the built-in one).
    pub fn open(root: &Root, state_dir: &Path) -> Result<Firmware, FirmwareError> {
        Ok(Firmware::with_catalog(
            root,
            state_dir,
            Catalog::for_root(root)?,
        ))
    }

    pub fn with_catalog(root: &Root, state_dir: &Path, catalog: Catalog) -> Firmware {
        Firmware {
            root: root.clone(),
            state_dir: state_dir.to_owned(),
            catalog,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// `/lib/firmware` under the root.
    fn dir(&self) -> PathBuf {
        self.root.path(FIRMWARE_DIR)
    }

    fn records(&self) -> record::Records {
        record::Records::under(&self.state_dir)
    }

    fn downloads(&self) -> PathBuf {
        self.state_dir.join("firmware/downloads")
    }

    /// The firmware files present now.
    pub fn presence(&self) -> Result<FirmwarePresence, FirmwareError> {
        FirmwarePresence::observe(&self.root, &self.catalog)
    }

    /// Every catalog package, with what is installed of it.
    pub fn list(&self) -> Result<FirmwareList, FirmwareError> {
        let records = self.records().all()?;
        let mut list = FirmwareList::default();
        for package in &self.catalog.packages {
            let mut info = package.info();
            if let Some(r) = records.iter().find(|r| r.name == package.name) {
                info.installed = Some(r.installed(&self.root)?);
            }
            list.packages.push(info);
        }
        list.unknown_installed = records
            .iter()
            .filter(|r| self.catalog.get(&r.name).is_none())
            .map(|r| format!("{} {}", r.name, r.version))
            .collect();
        Ok(list)
    }

    /// What the cards in `inventory` and the lines of `kernel_log` need.
    pub fn needed(
        &self,
        inventory: &Inventory,
        kernel_log: &str,
        wanted: Wanted,
    ) -> Result<NeededReport, FirmwareError> {
        Ok(needs::needed(
            inventory,
            &self.presence()?,
            kernel_log,
            wanted,
        ))
    }

    /// Removes what an interrupted install left: temporary firmware files
    /// and downloads. Returns the files removed.
    pub fn clean_interrupted(&self) -> Vec<PathBuf> {
        let mut removed = archive::clean_parts(&self.dir());
        if let Ok(entries) = std::fs::read_dir(self.downloads()) {
            for e in entries.flatten() {
                if std::fs::remove_file(e.path()).is_ok() {
                    removed.push(e.path());
                }
            }
        }
        removed
    }
}

/// The kernel log as `/dev/kmsg` under `root` gives it now (empty when it
/// cannot be read). Read without blocking: every record there, then stop.
pub fn read_kernel_log(root: &Root) -> String {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    const MAX: usize = 4 * 1024 * 1024;
    let Ok(mut f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(root.path("/dev/kmsg"))
    else {
        return String::new();
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while out.len() < MAX {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if !out.ends_with(b"\n") && n < buf.len() {
                    // /dev/kmsg gives one record per read, ending in a newline.
                    out.push(b'\n');
                }
            }
            // A record overwritten while reading: go on with the next one.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
