//! Which firmware files `/lib/firmware` holds: observed state, read once
//! and handed to the renderer, which never looks at the disk itself.

use std::collections::{BTreeMap, BTreeSet};

use appliance::firmware::FIRMWARE_DIR;

use super::catalog::{is_firmware_file_name, Catalog};
use super::FirmwareError;
use crate::Root;

/// The firmware files present, and which catalog package provides each name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirmwarePresence {
    present: BTreeSet<String>,
    providers: BTreeMap<String, String>,
}

impl FirmwarePresence {
    /// `files` present, with the packages of `catalog`.
    pub fn new<S: Into<String>>(files: impl IntoIterator<Item = S>, catalog: &Catalog) -> Self {
        let providers = catalog
            .packages
            .iter()
            .flat_map(|p| p.files.iter().map(|f| (f.clone(), p.name.clone())))
            .collect();
        FirmwarePresence {
            present: files.into_iter().map(Into::into).collect(),
            providers,
        }
    }

    /// Reads `/lib/firmware` under `root` (absent: nothing is present).
    /// Only regular files (or links to them) with plain names count: the
    /// temporary names of an install in progress start with a dot.
    pub fn observe(root: &Root, catalog: &Catalog) -> Result<Self, FirmwareError> {
        let dir = root.path(FIRMWARE_DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::new(Vec::<String>::new(), catalog))
            }
            Err(e) => return Err(FirmwareError::io(format!("reading {}", dir.display()), e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| FirmwareError::io(format!("reading {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_firmware_file_name(&name)
                && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file())
            {
                files.push(name);
            }
        }
        Ok(Self::new(files, catalog))
    }

    pub fn has(&self, file: &str) -> bool {
        self.present.contains(file)
    }

    /// The catalog package providing `file`.
    pub fn package_for(&self, file: &str) -> Option<&str> {
        self.providers.get(file).map(String::as_str)
    }
}
