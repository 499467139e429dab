//! PCI and USB identifiers as sysfs and dahdi-tools spell them.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::CatalogError;

/// The four PCI identifiers of a device: vendor, device, subsystem vendor
/// and subsystem device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PciId {
    pub vendor: u16,
    pub device: u16,
    pub subvendor: u16,
    pub subdevice: u16,
}

impl PciId {
    pub const fn new(vendor: u16, device: u16, subvendor: u16, subdevice: u16) -> Self {
        Self {
            vendor,
            device,
            subvendor,
            subdevice,
        }
    }

    /// `vendor:device`, the short form `dahdi_hardware` prints.
    pub fn short(&self) -> String {
        format!("{:04x}:{:04x}", self.vendor, self.device)
    }
}

impl fmt::Display for PciId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:04x}/{:04x}:{:04x}",
            self.vendor, self.device, self.subvendor, self.subdevice
        )
    }
}

impl Serialize for PciId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A key of the PCI table, as specific as dahdi-tools' keys:
/// `vendor:device`, `vendor:device/subvendor` or
/// `vendor:device/subvendor:subdevice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PciKey {
    pub vendor: u16,
    pub device: u16,
    pub subvendor: Option<u16>,
    pub subdevice: Option<u16>,
}

/// How specific a key is; matching tries the most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPrecision {
    Device,
    Subvendor,
    Subsystem,
}

impl PciKey {
    pub const fn device(vendor: u16, device: u16) -> Self {
        Self {
            vendor,
            device,
            subvendor: None,
            subdevice: None,
        }
    }

    pub const fn subvendor(vendor: u16, device: u16, subvendor: u16) -> Self {
        Self {
            vendor,
            device,
            subvendor: Some(subvendor),
            subdevice: None,
        }
    }

    pub const fn subsystem(vendor: u16, device: u16, subvendor: u16, subdevice: u16) -> Self {
        Self {
            vendor,
            device,
            subvendor: Some(subvendor),
            subdevice: Some(subdevice),
        }
    }

    /// Which of the three match steps this key belongs to.
    pub fn precision(&self) -> KeyPrecision {
        match (self.subvendor, self.subdevice) {
            (Some(_), Some(_)) => KeyPrecision::Subsystem,
            (Some(_), None) => KeyPrecision::Subvendor,
            _ => KeyPrecision::Device,
        }
    }

    /// The key of `id` at the given precision.
    pub fn of(id: PciId, precision: KeyPrecision) -> Self {
        match precision {
            KeyPrecision::Subsystem => {
                Self::subsystem(id.vendor, id.device, id.subvendor, id.subdevice)
            }
            KeyPrecision::Subvendor => Self::subvendor(id.vendor, id.device, id.subvendor),
            KeyPrecision::Device => Self::device(id.vendor, id.device),
        }
    }
}

impl fmt::Display for PciKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vendor, self.device)?;
        if let Some(sv) = self.subvendor {
            write!(f, "/{sv:04x}")?;
        }
        if let Some(sd) = self.subdevice {
            write!(f, ":{sd:04x}")?;
        }
        Ok(())
    }
}

impl Serialize for PciKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for PciKey {
    type Err = CatalogError;

    /// Parses dahdi-tools' key syntax (`d161:0420/0004`, `e159:0001/9500:0003`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CatalogError::BadPciKey(s.to_owned());
        let (ids, sub) = match s.split_once('/') {
            Some((ids, sub)) => (ids, Some(sub)),
            None => (s, None),
        };
        let (vendor, device) = pair(ids).ok_or_else(bad)?;
        match sub {
            None => Ok(Self::device(vendor, device)),
            Some(sub) if sub.contains(':') => {
                let (sv, sd) = pair(sub).ok_or_else(bad)?;
                Ok(Self::subsystem(vendor, device, sv, sd))
            }
            Some(sv) => Ok(Self::subvendor(vendor, device, hex16(sv).ok_or_else(bad)?)),
        }
    }
}

/// A USB device's `idVendor:idProduct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsbId {
    pub vendor: u16,
    pub product: u16,
}

impl UsbId {
    pub const fn new(vendor: u16, product: u16) -> Self {
        Self { vendor, product }
    }
}

impl fmt::Display for UsbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vendor, self.product)
    }
}

impl Serialize for UsbId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for UsbId {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (vendor, product) = pair(s).ok_or_else(|| CatalogError::BadUsbId(s.to_owned()))?;
        Ok(Self::new(vendor, product))
    }
}

/// Parses a 16-bit hex number as sysfs writes it (`0xd161`) or bare (`d161`).
pub fn hex16(s: &str) -> Option<u16> {
    let s = s.trim();
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

fn pair(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once(':')?;
    Some((hex16(a)?, hex16(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_key_forms() {
        let k: PciKey = "d161:0420/0004".parse().unwrap();
        assert_eq!(k, PciKey::subvendor(0xd161, 0x0420, 0x0004));
        let k: PciKey = "e159:0001/9500:0003".parse().unwrap();
        assert_eq!(k.precision(), KeyPrecision::Subsystem);
        assert_eq!(k.to_string(), "e159:0001/9500:0003");
        assert_eq!(
            "d161:b410".parse::<PciKey>().unwrap().to_string(),
            "d161:b410"
        );
    }

    #[test]
    fn rejects_malformed_keys() {
        assert!("d161".parse::<PciKey>().is_err());
        assert!("d161:zz".parse::<PciKey>().is_err());
        assert!("d161:0420/12345".parse::<PciKey>().is_err());
    }

    #[test]
    fn reads_sysfs_hex() {
        assert_eq!(hex16("0xd161\n"), Some(0xd161));
        assert_eq!(hex16("0x"), None);
    }
}
