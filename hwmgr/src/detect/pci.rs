//! PCI devices from `/sys/bus/pci/devices`, as `Dahdi::Hardware::PCI` reads
//! them.

use std::path::Path;

use serde::Serialize;

use super::DetectError;
use crate::catalog::{hex16, lookup_pci, PciEntry, PciId};
use crate::{sysfs, Root};

/// A telephony card found on the PCI bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PciCard {
    /// Domain:bus:slot.function, e.g. `0000:01:0b.0`.
    pub address: String,
    pub id: PciId,
    /// The kernel module bound to it, if any.
    pub bound_driver: Option<String>,
    /// The catalog row that matched.
    pub entry: &'static PciEntry,
}

/// Every PCI device the catalog recognises, sorted by address.
pub fn scan(root: &Root) -> Result<Vec<PciCard>, DetectError> {
    let dir = root.path("/sys/bus/pci/devices");
    let entries = sysfs::entries(&dir).map_err(|source| DetectError::Io { path: dir, source })?;
    let mut cards: Vec<PciCard> = entries.iter().filter_map(|dev| read_card(dev)).collect();
    cards.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(cards)
}

fn read_card(dev: &Path) -> Option<PciCard> {
    let id = read_id(dev)?;
    let entry = lookup_pci(id)?;
    Some(PciCard {
        address: sysfs::file_name(dev),
        id,
        bound_driver: bound_driver(dev),
        entry,
    })
}

fn read_id(dev: &Path) -> Option<PciId> {
    let field = |name| sysfs::attr(dev, name).as_deref().and_then(hex16);
    Some(PciId::new(
        field("vendor")?,
        field("device")?,
        field("subsystem_vendor")?,
        field("subsystem_device")?,
    ))
}

/// The bound driver through the device's `driver` link; like dahdi-tools,
/// the driver's `module` link wins when present.
pub(super) fn bound_driver(dev: &Path) -> Option<String> {
    let driver = std::fs::canonicalize(dev.join("driver")).ok()?;
    let module = std::fs::read_link(driver.join("module")).ok();
    Some(sysfs::file_name(module.as_deref().unwrap_or(&driver)))
}
