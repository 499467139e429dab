//! The firmware package catalog: which archive provides which
//! `dahdi-fw-*.bin`, where to get it and what it must hash to.
//!
//! The built-in catalog (`catalog.toml`, compiled in) holds Digium's
//! packages with upstream's names, versions and published sums. A box may
//! carry its own catalog at [`CATALOG_FILE`] under the root (a local
//! mirror, a site's packages); it then replaces the built-in one.

use serde::Deserialize;

use appliance::firmware::NeededBy;

use super::FirmwareError;
use crate::Root;

/// A catalog that replaces the built-in one when present.
pub const CATALOG_FILE: &str = "/etc/telbox/firmware-catalog.toml";

const BUILTIN: &str = include_str!("catalog.toml");

/// Largest archive telbox accepts when the catalog gives no size.
pub const MAX_ARCHIVE: u64 = 64 * 1024 * 1024;

/// One package: an archive and the firmware files it provides.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub description: String,
    /// The archive's file name.
    pub archive: String,
    /// An http(s) URL, a `file://` URL or an absolute path.
    pub url: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub sha1: Option<String>,
    #[serde(default)]
    pub md5: Option<String>,
    #[serde(default)]
    pub checksum_note: Option<String>,
    /// `dahdi-fw-*.bin` names, installed into `/lib/firmware`.
    pub files: Vec<String>,
    #[serde(default)]
    pub needed_by: NeededBy,
}

impl Package {
    /// Whether the catalog gives any sum to check an archive against.
    pub fn has_checksum(&self) -> bool {
        self.sha256.is_some() || self.sha1.is_some() || self.md5.is_some()
    }

    /// The contract's view of this entry (without install state).
    pub fn info(&self) -> appliance::firmware::PackageInfo {
        appliance::firmware::PackageInfo {
            name: self.name.clone(),
            version: self.version.clone(),
            description: self.description.clone(),
            archive: self.archive.clone(),
            url: self.url.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            sha1: self.sha1.clone(),
            md5: self.md5.clone(),
            checksum_note: self.checksum_note.clone(),
            files: self.files.clone(),
            needed_by: self.needed_by.clone(),
            installed: None,
        }
    }
}

/// Every package telbox can install.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(default, rename = "package")]
    pub packages: Vec<Package>,
}

impl Catalog {
    /// The catalog compiled into telbox.
    pub fn builtin() -> Catalog {
        Catalog::parse(BUILTIN, "built-in catalog").expect("the built-in catalog is valid")
    }

    /// The box's catalog: [`CATALOG_FILE`] under `root` when it exists, else the built-in one.
    pub fn for_root(root: &Root) -> Result<Catalog, FirmwareError> {
        let path = root.path(CATALOG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Catalog::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog::builtin()),
            Err(e) => Err(FirmwareError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Reads and checks a catalog text.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog, FirmwareError> {
        let bad = |why: String| FirmwareError::Catalog {
            origin: origin.to_owned(),
            why,
        };
        let catalog: Catalog = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for (i, p) in catalog.packages.iter().enumerate() {
            check_package(p).map_err(|why| bad(format!("package `{}`: {why}", p.name)))?;
            if catalog.packages[..i].iter().any(|q| q.name == p.name) {
                return Err(bad(format!("package `{}` is listed twice", p.name)));
            }
            for file in &p.files {
                if let Some(other) = catalog.packages[..i]
                    .iter()
                    .find(|q| q.files.contains(file))
                {
                    return Err(bad(format!(
                        "{file} is provided by both `{}` and `{}`",
                        other.name, p.name
                    )));
                }
            }
        }
        Ok(catalog)
    }

    pub fn get(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The package providing firmware file `file`.
    pub fn providing(&self, file: &str) -> Option<&Package> {
        self.packages
            .iter()
            .find(|p| p.files.iter().any(|f| f == file))
    }

    /// The package whose archive is called `archive`.
    pub fn by_archive(&self, archive: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.archive == archive)
    }
}

/// A package name: what `install` and `remove` take, and a record's file name.
pub fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
        && !name.starts_with('.')
}

/// A name the kernel's firmware loader may be asked for: one plain file name.
pub fn is_firmware_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._+".contains(&b))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_package(p: &Package) -> Result<(), String> {
    if !is_package_name(&p.name) {
        return Err("the name may hold only a-z, 0-9, `-`, `.` and `_`".into());
    }
    if p.version.is_empty() || p.version.chars().any(char::is_control) {
        return Err("the version must be a non-empty line".into());
    }
    if !is_firmware_file_name(&p.archive) {
        return Err(format!("archive {:?} is not a plain file name", p.archive));
    }
    if p.files.is_empty() {
        return Err("it provides no file".into());
    }
    if let Some(f) = p.files.iter().find(|f| !is_firmware_file_name(f)) {
        return Err(format!("{f:?} is not a plain file name"));
    }
    for (what, sum, len) in [
        ("sha256", &p.sha256, 64),
        ("sha1", &p.sha1, 40),
        ("md5", &p.md5, 32),
    ] {
        if let Some(sum) = sum.as_deref().filter(|s| !is_hex(s, len)) {
            return Err(format!("{what} {sum:?} is not {len} lowercase hex digits"));
        }
    }
    if !p.has_checksum() && p.checksum_note.is_none() {
        return Err("it gives no checksum and no `checksum_note` saying why".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_covers_every_file_the_card_catalog_names() {
        let catalog = Catalog::builtin();
        let mut files: Vec<&str> = crate::catalog::PCI_TABLE
            .iter()
            .flat_map(|e| {
                e.firmware
                    .iter()
                    .copied()
                    .chain(e.echo_cancellers.iter().filter_map(|ec| ec.firmware))
            })
            .collect();
        files.sort();
        files.dedup();
        assert!(files.len() >= 15, "{files:?}");
        for file in files {
            assert!(catalog.providing(file).is_some(), "no package for {file}");
        }
    }

    #[test]
    fn upstream_sums_are_kept_and_missing_ones_are_said() {
        let catalog = Catalog::builtin();
        let oct064 = catalog.get("digium-oct6114-064").unwrap();
        assert_eq!(oct064.version, "1.05.01");
        assert_eq!(oct064.size, Some(165869));
        assert_eq!(
            oct064.sha1.as_deref(),
            Some("2fb8e5f4f7aedb285ffa21632efd45af877eacd4")
        );
        assert_eq!(oct064.sha256, None);
        let oct256 = catalog.get("digium-oct6114-256").unwrap();
        assert!(!oct256.has_checksum());
        assert!(oct256
            .checksum_note
            .as_deref()
            .unwrap()
            .contains("no published checksum"));
        assert_eq!(
            catalog.providing("dahdi-fw-tc400m.bin").unwrap().name,
            "digium-tc400m"
        );
    }

    #[test]
    fn a_bad_catalog_is_refused_with_the_reason() {
        let text = r#"
[[package]]
name = "x"
version = "1"
description = "d"
archive = "x.tar.gz"
url = "http://example.com/x.tar.gz"
sha256 = "ABC"
files = ["dahdi-fw-x.bin"]
"#;
        let err = Catalog::parse(text, "c.toml").unwrap_err().to_string();
        assert!(err.contains("not 64 lowercase hex"), "{err}");
        let traversal = text
            .replace("\"ABC\"", &format!("\"{}\"", "a".repeat(64)))
            .replace("dahdi-fw-x.bin", "../etc/passwd");
        let err = Catalog::parse(&traversal, "c.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a plain file name"), "{err}");
    }
}
