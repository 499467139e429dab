//! USB devices from `/sys/bus/usb/devices`, as `Dahdi::Hardware::USB` reads
//! them when `/proc/bus/usb/devices` is absent.

use std::path::Path;

use serde::Serialize;

use super::DetectError;
use crate::catalog::{hex16, lookup_usb, UsbEntry, UsbId};
use crate::{sysfs, Root};

/// A telephony device found on the USB bus (Astribanks and the like).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbCard {
    /// `BBB/DDD` bus and device numbers, as dahdi-tools prints them.
    pub address: String,
    /// The sysfs name, e.g. `1-1.2`.
    pub sysfs_name: String,
    pub id: UsbId,
    pub serial: Option<String>,
    pub bound_driver: Option<String>,
    pub entry: &'static UsbEntry,
}

/// Every USB device the catalog recognises, sorted by address.
pub fn scan(root: &Root) -> Result<Vec<UsbCard>, DetectError> {
    let dir = root.path("/sys/bus/usb/devices");
    let entries = sysfs::entries(&dir).map_err(|source| DetectError::Io { path: dir, source })?;
    let mut cards: Vec<UsbCard> = entries
        .iter()
        .filter(|p| is_device_dir(&sysfs::file_name(p)))
        .filter_map(|dev| read_card(dev))
        .collect();
    cards.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(cards)
}

/// `1-1.2` is a device; `1-1.2:1.0` an interface and `usb1` a root hub.
fn is_device_dir(name: &str) -> bool {
    name.contains('-') && !name.contains(':')
}

fn read_card(dev: &Path) -> Option<UsbCard> {
    let id = UsbId::new(
        hex16(&sysfs::attr(dev, "idVendor")?)?,
        hex16(&sysfs::attr(dev, "idProduct")?)?,
    );
    let entry = lookup_usb(id)?;
    let name = sysfs::file_name(dev);
    let bus = sysfs::attr_u32(dev, "busnum").unwrap_or(0);
    let devnum = sysfs::attr_u32(dev, "devnum").unwrap_or(0);
    Some(UsbCard {
        address: format!("{bus:03}/{devnum:03}"),
        bound_driver: super::pci::bound_driver(&dev.join(format!("{name}:1.0"))),
        sysfs_name: name,
        id,
        serial: sysfs::attr_nonempty(dev, "serial"),
        entry,
    })
}
