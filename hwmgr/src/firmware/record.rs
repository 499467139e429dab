//! What telbox installed: one JSON record per package under the state
//! directory, naming every file written with its SHA-256. `remove` and
//! `upgrade` act on exactly these files, and only while they still hold
//! what was written.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use appliance::firmware::{FileState, Installed, InstalledFile};

use super::catalog::is_package_name;
use super::fsutil::{self, hash_file};
use super::FirmwareError;
use crate::Root;

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    pub version: String,
    pub archive: String,
    pub archive_sha256: String,
    pub source: String,
    pub installed_at: i64,
    /// False from the moment the files start moving into place until they all
    /// have: a crash in between leaves some of them written, all of them listed.
    pub complete: bool,
    /// The install created `/lib/firmware`; removing the last package removes it if empty.
    #[serde(default)]
    pub created_dir: bool,
    pub files: Vec<RecordedFile>,
}

/// A file of an installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFile {
    /// Absolute system path.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// The same content was there before: `remove` leaves it.
    #[serde(default)]
    pub preexisting: bool,
}

impl RecordedFile {
    /// How the file under `root` compares with what was written.
    pub fn state(&self, root: &Root) -> Result<FileState, FirmwareError> {
        let path = root.path(&self.path);
        let current = hash_file(&path)
            .map_err(|e| FirmwareError::io(format!("reading {}", path.display()), e))?;
        Ok(match current {
            None => FileState::Missing,
            Some((sum, _)) if sum == self.sha256 => FileState::Intact,
            Some(_) => FileState::Changed,
        })
    }
}

impl Record {
    /// The contract's view, with each file's state now.
    pub fn installed(&self, root: &Root) -> Result<Installed, FirmwareError> {
        let files = self
            .files
            .iter()
            .map(|f| {
                Ok(InstalledFile {
                    path: f.path.clone(),
                    sha256: f.sha256.clone(),
                    size: f.size,
                    state: f.state(root)?,
                    preexisting: f.preexisting,
                })
            })
            .collect::<Result<_, FirmwareError>>()?;
        Ok(Installed {
            version: self.version.clone(),
            installed_at: self.installed_at,
            source: self.source.clone(),
            archive_sha256: self.archive_sha256.clone(),
            files,
        })
    }
}

/// The records directory.
pub struct Records {
    dir: PathBuf,
}

impl Records {
    pub fn under(state_dir: &Path) -> Records {
        Records {
            dir: state_dir.join("firmware/installed"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    pub fn load(&self, name: &str) -> Result<Option<Record>, FirmwareError> {
        if !is_package_name(name) {
            return Ok(None);
        }
        let path = self.path(name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| FirmwareError::Record {
                        path: path.clone(),
                        why: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FirmwareError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Every record, by package name.
    pub fn all(&self) -> Result<Vec<Record>, FirmwareError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(FirmwareError::io(
                    format!("reading {}", self.dir.display()),
                    e,
                ))
            }
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json").map(str::to_owned)
            })
            .filter(|n| is_package_name(n))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            out.extend(self.load(&name)?);
        }
        Ok(out)
    }

    pub fn save(&self, record: &Record) -> Result<(), FirmwareError> {
        let path = self.path(&record.name);
        let mut text = serde_json::to_string_pretty(record).unwrap_or_default();
        text.push('\n');
        fsutil::write_atomic(&path, text.as_bytes(), 0o644)
            .map_err(|e| FirmwareError::io(format!("writing {}", path.display()), e))
    }

    pub fn delete(&self, name: &str) -> Result<(), FirmwareError> {
        let path = self.path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => fsutil::sync_dir(&self.dir)
                .map_err(|e| FirmwareError::io(format!("syncing {}", self.dir.display()), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(FirmwareError::io(format!("removing {}", path.display()), e)),
        }
    }
}
