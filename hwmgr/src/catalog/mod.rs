//! The card catalog: every PCI and USB id dahdi-tools recognises, matched
//! the way `dahdi_hardware` matches, and what we know about each card.

mod driver;
pub mod echo;
mod ids;
mod kinds;
mod pci_table;
mod transcoder;
mod usb_table;

pub use driver::{Driver, ModuleParam};
pub use ids::{hex16, KeyPrecision, PciId, PciKey, UsbId};
pub use kinds::{CardKind, EchoCanceller, LineMode, LineModeSelect, SpanType, TeNtSelect};
pub use pci_table::{PciEntry, PCI_TABLE};
pub use transcoder::{transcoder_capacity, TranscoderCapacity};
pub use usb_table::{UsbEntry, USB_TABLE};

/// Errors reading catalog values from text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("not a PCI id key (vendor:device[/subvendor[:subdevice]] in hex): {0:?}")]
    BadPciKey(String),
    #[error("not a USB id (vendor:product in hex): {0:?}")]
    BadUsbId(String),
    #[error("unknown DAHDI driver {0:?}")]
    UnknownDriver(String),
    #[error("unknown span type {0:?} (expected FXS, FXO, ANALOG_MIXED, E1, T1, J1, BRI_NT, BRI_TE, BRI_SOFT, DYNAMIC, INVALID)")]
    UnknownSpanType(String),
}

/// Finds the PCI table row for a device, trying
/// `vendor:device/subvendor:subdevice`, then `vendor:device/subvendor`, then
/// `vendor:device`, like `Dahdi::Hardware::PCI`.
pub fn lookup_pci(id: PciId) -> Option<&'static PciEntry> {
    [
        KeyPrecision::Subsystem,
        KeyPrecision::Subvendor,
        KeyPrecision::Device,
    ]
    .into_iter()
    .find_map(|precision| pci_entry(PciKey::of(id, precision)))
}

/// The row with exactly this key.
pub fn pci_entry(key: PciKey) -> Option<&'static PciEntry> {
    PCI_TABLE.iter().find(|e| e.key == key)
}

/// Finds the USB table row for `vendor:product`.
pub fn lookup_usb(id: UsbId) -> Option<&'static UsbEntry> {
    USB_TABLE.iter().find(|e| e.id == id)
}

impl PciEntry {
    /// The echo canceller fitted to a card with `spans` spans: Digium's
    /// quad/dual cards need a VPM with exactly 32 channels per span.
    pub fn echo_canceller_for(&self, spans: u32) -> Option<&'static EchoCanceller> {
        let wanted = match spans {
            2 => Some("VPMOCT064"),
            4 => Some("VPMOCT128"),
            8 => Some("VPMOCT256"),
            _ => None,
        };
        let fits = |ec: &&EchoCanceller| wanted.is_none_or(|w| ec.name == w);
        self.echo_cancellers
            .iter()
            .find(fits)
            .or(self.echo_cancellers.first())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_most_specific_key_first() {
        let a800p = lookup_pci(PciId::new(0xe159, 0x0001, 0x9500, 0x0003)).unwrap();
        assert_eq!(a800p.driver, Driver::Opvxa1200);
        let x101p = lookup_pci(PciId::new(0xe159, 0x0001, 0x8085, 0x1234)).unwrap();
        assert_eq!(x101p.driver, Driver::Wcfxo);
        let bn4s0 = lookup_pci(PciId::new(0x1397, 0x08b4, 0x1397, 0xb560)).unwrap();
        assert_eq!(bn4s0.driver, Driver::Wcb4xxp);
        let generic = lookup_pci(PciId::new(0x1397, 0x08b4, 0x1397, 0x0001)).unwrap();
        assert_eq!(generic.driver, Driver::Qozap);
        let te420_4th = lookup_pci(PciId::new(0xd161, 0x0420, 0x0004, 0x0000)).unwrap();
        assert_eq!(te420_4th.description, "Wildcard TE420 (4th Gen)");
    }

    #[test]
    fn ignores_unknown_devices() {
        assert!(lookup_pci(PciId::new(0x8086, 0x100e, 0x8086, 0x001e)).is_none());
        // e159:0001 alone (TDM400P REV H commented out upstream) is not a match.
        assert!(lookup_pci(PciId::new(0xe159, 0x0001, 0x0000, 0x0000)).is_none());
    }

    #[test]
    fn keys_are_unique() {
        for (i, a) in PCI_TABLE.iter().enumerate() {
            assert!(
                PCI_TABLE[i + 1..].iter().all(|b| b.key != a.key),
                "duplicate {}",
                a.key
            );
        }
    }

    #[test]
    fn te435_is_t1_by_default_and_needs_its_canceller() {
        let te435 = lookup_pci(PciId::new(0xd161, 0x800e, 0xd161, 0x800e)).unwrap();
        let CardKind::Digital { line_mode, .. } = te435.kind else {
            panic!("not digital")
        };
        assert_eq!(
            line_mode,
            LineModeSelect::ModuleOption {
                default: LineMode::T1
            }
        );
        let ec = te435.echo_canceller_for(4).unwrap();
        assert_eq!(ec.firmware, Some("dahdi-fw-oct6114-128.bin"));
        assert!(ec.required);
        assert_eq!(te435.echo_canceller_for(2).unwrap().name, "VPMOCT064");
    }

    #[test]
    fn usb_astribanks_are_flagged() {
        let ab = lookup_usb(UsbId::new(0xe4e4, 0x1152)).unwrap();
        assert!(ab.astribank);
        assert_eq!(ab.driver, Driver::XppUsb);
    }
}
