//! DAHDI devices (`/sys/bus/dahdi_devices/devices/*`) and their spans
//! (`span-N` children, also under `/sys/bus/dahdi_spans/devices`).

use std::path::Path;

use serde::Serialize;

use super::DetectError;
use crate::catalog::SpanType;
use crate::status::AlarmSet;
use crate::{sysfs, Root};

/// A card (or Astribank, or dynamic span group) as DAHDI registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DahdiDevice {
    /// The sysfs name: `pci:0000:01:0b.0`, `astribanks:xbus-00`.
    pub sysfs_name: String,
    /// The PCI address of the parent device, when it is a PCI card.
    pub pci_address: Option<String>,
    /// Serial or label; empty for most cards (only TE820, wcaxx, TE13x,
    /// TE43x and Astribanks set it).
    pub hardware_id: Option<String>,
    /// `PCI Bus 02 Slot 04`, `Board ID Switch 1`, a USB connector…
    pub location: Option<String>,
    pub manufacturer: Option<String>,
    /// The driver's device type text, with the echo canceller in brackets
    /// when one is fitted (`Wildcard TE420 (5th Gen) (VPMOCT128)`).
    pub device_type: Option<String>,
    pub span_count: u32,
    /// `local:TYPE` per span, from `spantype` or `dahdi_spantype`; lists
    /// unassigned spans too.
    pub span_types: Vec<LocalSpanType>,
    pub registration_time: Option<String>,
    /// The assigned spans, by local number.
    pub spans: Vec<DetectedSpan>,
}

/// One line of a device's `spantype` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalSpanType {
    pub local: u32,
    pub span_type: SpanType,
}

/// An assigned span as sysfs shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedSpan {
    /// Global span number (the N of `/proc/dahdi/N`).
    pub number: u32,
    /// 1-based number within the device.
    pub local: u32,
    pub name: String,
    pub description: String,
    pub span_type: Option<SpanType>,
    /// First global channel; `None` for a span without channels.
    pub basechan: Option<u32>,
    pub channels: u32,
    pub is_digital: bool,
    pub is_sync_master: bool,
    pub alarms: AlarmSet,
    pub lineconfig: Option<String>,
    /// Supported line options (`AMI HDB3 CCS CRC4`…).
    pub linecompat: Vec<String>,
    pub lbo: Option<u32>,
    pub syncsrc: Option<u32>,
}

impl DetectedSpan {
    /// The global channel numbers `basechan..basechan+channels`; `None`
    /// without channels or when they would run past the last number.
    pub fn channel_range(&self) -> Option<std::ops::RangeInclusive<u32>> {
        let base = self.basechan?;
        let last = base.checked_add(self.channels.checked_sub(1)?)?;
        Some(base..=last)
    }
}

/// Every DAHDI device, sorted by sysfs name.
pub fn scan(root: &Root) -> Result<Vec<DahdiDevice>, DetectError> {
    let dir = root.path("/sys/bus/dahdi_devices/devices");
    let entries = sysfs::entries(&dir).map_err(|source| DetectError::Io { path: dir, source })?;
    entries.iter().map(|dev| read_device(root, dev)).collect()
}

fn read_device(root: &Root, dev: &Path) -> Result<DahdiDevice, DetectError> {
    let sysfs_name = sysfs::file_name(dev);
    let span_types = match sysfs::attr_any(dev, &["spantype", "dahdi_spantype"]) {
        Some(text) => parse_span_types(&sysfs_name, &text)?,
        None => Vec::new(),
    };
    let mut spans = spans_of(root, dev)?;
    spans.sort_by_key(|s| s.local);
    Ok(DahdiDevice {
        pci_address: pci_address(&sysfs_name, dev),
        hardware_id: sysfs::attr_nonempty(dev, "hardware_id"),
        location: sysfs::attr_nonempty(dev, "location"),
        manufacturer: sysfs::attr_nonempty(dev, "manufacturer"),
        device_type: sysfs::attr_nonempty(dev, "type"),
        span_count: sysfs::attr_u32(dev, "span_count").unwrap_or(span_types.len() as u32),
        registration_time: sysfs::attr_any(dev, &["registration_time", "dahdi_registration_time"]),
        span_types,
        spans,
        sysfs_name,
    })
}

/// `pci:0000:01:0b.0` names its parent; otherwise the parent directory of
/// the resolved device path is the PCI device.
fn pci_address(sysfs_name: &str, dev: &Path) -> Option<String> {
    if let Some(addr) = sysfs_name.strip_prefix("pci:") {
        return Some(addr.to_owned());
    }
    let real = std::fs::canonicalize(dev).ok()?;
    let parent = sysfs::file_name(real.parent()?);
    is_pci_address(&parent).then_some(parent)
}

fn is_pci_address(name: &str) -> bool {
    let parts: Vec<&str> = name.split([':', '.']).collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn parse_span_types(device: &str, text: &str) -> Result<Vec<LocalSpanType>, DetectError> {
    let bad = |line: &str| DetectError::BadSpanType {
        device: device.into(),
        line: line.into(),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (local, ty) = line.trim().split_once(':').ok_or_else(|| bad(line))?;
            Ok(LocalSpanType {
                local: local.parse().map_err(|_| bad(line))?,
                span_type: ty.parse().map_err(|_| bad(line))?,
            })
        })
        .collect()
}

/// The device's `span-N` children; older layouts only link them from the
/// span bus through `ddev`.
fn spans_of(root: &Root, dev: &Path) -> Result<Vec<DetectedSpan>, DetectError> {
    let children = sysfs::entries(dev).map_err(|source| DetectError::Io {
        path: dev.into(),
        source,
    })?;
    let own: Vec<_> = children
        .iter()
        .filter(|p| span_number(p).is_some())
        .cloned()
        .collect();
    if !own.is_empty() {
        return own.iter().map(|p| read_span(p)).collect();
    }
    let bus = root.path("/sys/bus/dahdi_spans/devices");
    let all = sysfs::entries(&bus).map_err(|source| DetectError::Io { path: bus, source })?;
    let me = std::fs::canonicalize(dev).ok();
    all.iter()
        .filter(|s| me.is_some() && std::fs::canonicalize(s.join("ddev")).ok() == me)
        .map(|p| read_span(p))
        .collect()
}

fn span_number(path: &Path) -> Option<u32> {
    sysfs::file_name(path).strip_prefix("span-")?.parse().ok()
}

fn read_span(dir: &Path) -> Result<DetectedSpan, DetectError> {
    let number = span_number(dir).ok_or_else(|| DetectError::BadSpanDir(dir.into()))?;
    let flag = |name| sysfs::attr_u32(dir, name) == Some(1);
    Ok(DetectedSpan {
        number,
        local: sysfs::attr_u32(dir, "local_spanno").unwrap_or(0),
        name: sysfs::attr(dir, "name").unwrap_or_default(),
        description: sysfs::attr(dir, "desc").unwrap_or_default(),
        span_type: sysfs::attr(dir, "spantype").and_then(|t| t.parse().ok()),
        basechan: sysfs::attr_u32(dir, "basechan"),
        channels: sysfs::attr_u32(dir, "channels").unwrap_or(0),
        is_digital: flag("is_digital"),
        is_sync_master: flag("is_sync_master"),
        alarms: sysfs::attr(dir, "alarms")
            .and_then(|a| AlarmSet::parse_sysfs(&a))
            .unwrap_or_default(),
        lineconfig: sysfs::attr_nonempty(dir, "lineconfig"),
        linecompat: sysfs::attr(dir, "linecompat")
            .map(|t| t.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        lbo: sysfs::attr_u32(dir, "lbo"),
        syncsrc: sysfs::attr_u32(dir, "syncsrc"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_span_type_lines() {
        let t = parse_span_types("pci:x", "1:E1\n2:T1\n").unwrap();
        assert_eq!(
            t[1],
            LocalSpanType {
                local: 2,
                span_type: SpanType::T1
            }
        );
        assert!(parse_span_types("pci:x", "1:Q9\n").is_err());
    }

    #[test]
    fn recognises_pci_addresses() {
        assert!(is_pci_address("0000:01:0b.0"));
        assert!(!is_pci_address("usb1"));
    }
}
