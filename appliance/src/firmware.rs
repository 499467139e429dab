//! The firmware part of the D-Bus contract: `org.telbox.Sysconfd1.Firmware`,
//! the JSON documents its methods return (its client proxy is `telbox-client`'s).
//!
//! sysconfd owns `/lib/firmware`: it installs the vendor firmware packages
//! (`dahdi-fw-*.bin` files in a `.tar.gz`), records what it wrote with
//! each file's SHA-256, and removes or upgrades exactly that. `docs/dbus.md`
//! describes each method.

use serde::{Deserialize, Serialize};

pub const FIRMWARE_INTERFACE: &str = "org.telbox.Sysconfd1.Firmware";

/// Where the kernel's firmware loader looks (under sysconfd's root).
pub const FIRMWARE_DIR: &str = "/lib/firmware";

/// One package of the catalog, with what is installed of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInfo {
    /// `digium-oct6114-128`: the name `install` and `remove` take.
    pub name: String,
    pub version: String,
    pub description: String,
    /// The archive's file name, `dahdi-fw-oct6114-128-1.05.01.tar.gz`.
    pub archive: String,
    /// Where `install NAME` downloads it from.
    pub url: String,
    /// The archive's size in bytes, when upstream gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The checksums an archive must match, lowercase hex (every one given is checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// Where the checksums come from, or why there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_note: Option<String>,
    /// The firmware files the package provides (`dahdi-fw-oct6114-128.bin`).
    pub files: Vec<String>,
    /// Cards, drivers and echo-canceller modules that ask for those files.
    #[serde(default)]
    pub needed_by: NeededBy,
    /// Present when the package is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<Installed>,
}

/// Who asks for a package's files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeededBy {
    /// Card models (`TE435`, `TE235`…).
    #[serde(default)]
    pub cards: Vec<String>,
    /// Kernel drivers (`wcte43x`…).
    #[serde(default)]
    pub drivers: Vec<String>,
    /// Echo-canceller modules (`VPMOCT128`…).
    #[serde(default)]
    pub echo_cancellers: Vec<String>,
}

/// What telbox installed of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub version: String,
    /// Unix time, seconds.
    pub installed_at: i64,
    /// The SOURCE it came from (URL, file, directory or package name).
    pub source: String,
    /// SHA-256 of the archive it was extracted from.
    pub archive_sha256: String,
    pub files: Vec<InstalledFile>,
}

/// One file telbox wrote (or found identical and left in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledFile {
    /// Absolute system path, `/lib/firmware/dahdi-fw-te435.bin`.
    pub path: String,
    /// SHA-256 of the content written.
    pub sha256: String,
    pub size: u64,
    /// How the file on disk compares with what was written.
    pub state: FileState,
    /// The same content was already there before the install: `remove` leaves it.
    #[serde(default)]
    pub preexisting: bool,
}

/// A recorded file now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileState {
    /// As written.
    Intact,
    /// Changed since it was written (by hand, or by another tool).
    Changed,
    /// Gone.
    Missing,
}

/// `Firmware.List`: every package of the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareList {
    pub packages: Vec<PackageInfo>,
    /// Installed packages the catalog no longer names (kept as recorded).
    #[serde(default)]
    pub unknown_installed: Vec<String>,
}

/// Why a firmware file is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum NeedReason {
    /// A card in the box asks for it.
    Card {
        /// `pci:0000:02:00.0`.
        location: String,
        /// `Wildcard TE435/235`.
        card: String,
        driver: String,
        /// `card firmware`, or the echo canceller's name (`VPMOCT128`).
        part: String,
        /// Whether the card works without it (echo cancellers other than the TE13x/TE23x/TE43x ones).
        optional: bool,
    },
    /// A driver reported it missing in the kernel log.
    KernelLog {
        driver: String,
        /// The device the driver named (`0000:02:00.0`), when it named one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
        /// The line, without its time stamp.
        line: String,
    },
}

/// One firmware file the box needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// `dahdi-fw-oct6114-064.bin`.
    pub file: String,
    /// The catalog package providing it, when the catalog has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Whether the file is in `/lib/firmware` now.
    pub present: bool,
    /// False when every reason is optional.
    pub required: bool,
    pub reasons: Vec<NeedReason>,
}

/// `Firmware.Needed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeededReport {
    pub needs: Vec<Need>,
    /// `appliance firmware install PACKAGE` for each required package not installed.
    #[serde(default)]
    pub commands: Vec<String>,
    /// Kernel log lines that looked like a firmware complaint but could not be read.
    #[serde(default)]
    pub unread_lines: Vec<String>,
}

/// What `install`, `remove` or `upgrade` did to one package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageChange {
    pub package: String,
    /// The version now installed (none after a remove).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The version before (none for a first install).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// Files written, with their SHA-256.
    #[serde(default)]
    pub written: Vec<WrittenFile>,
    /// Files deleted.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Files left in place, each with why.
    #[serde(default)]
    pub kept: Vec<String>,
    /// Archive members that are not firmware of this package (not installed).
    #[serde(default)]
    pub skipped: Vec<String>,
}

/// A file an operation wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// The answer of `Install`, `Remove` and `Upgrade`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeReport {
    pub changes: Vec<PackageChange>,
    /// What the admin should know (a hand-edited file replaced with --force…).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Phases the `Progress` signal reports.
pub mod phase {
    /// Bytes of the archive read (from a file or the network).
    pub const FETCH: &str = "fetch";
    /// Checksums compared.
    pub const VERIFY: &str = "verify";
    /// Bytes of firmware written.
    pub const EXTRACT: &str = "extract";
    /// Files moved into place and recorded.
    pub const COMMIT: &str = "commit";
}
