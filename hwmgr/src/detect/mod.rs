//! What telephony hardware is in the box: cards on the PCI and USB buses,
//! the DAHDI devices the drivers registered for them, and their spans.
//! Everything is read under a [`Root`], never from `/` directly.

mod dahdi_device;
mod pci;
mod usb;

use std::path::PathBuf;

use serde::Serialize;

pub use dahdi_device::{DahdiDevice, DetectedSpan, LocalSpanType};
pub use pci::PciCard;
pub use usb::UsbCard;

use crate::catalog::{CardKind, Driver, EchoCanceller, SpanType};
use crate::{sysfs, Root};

/// Errors reading the hardware.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("DAHDI device {device}: bad spantype line {line:?} (expected local:TYPE)")]
    BadSpanType { device: String, line: String },
    #[error("not a span directory: {0}")]
    BadSpanDir(PathBuf),
}

/// Where a card sits, as `dahdi_hardware` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "bus", rename_all = "lowercase")]
pub enum Bus {
    Pci(PciCard),
    Usb(UsbCard),
}

/// One telephony card: its bus identity, what the catalog says about it,
/// and the DAHDI device its driver registered (if the driver is loaded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    #[serde(flatten)]
    pub bus: Bus,
    pub dahdi: Option<DahdiDevice>,
}

impl Card {
    /// `pci:0000:01:0b.0` or `usb:001/002`.
    pub fn location(&self) -> String {
        match &self.bus {
            Bus::Pci(p) => format!("pci:{}", p.address),
            Bus::Usb(u) => format!("usb:{}", u.address),
        }
    }

    /// The driver dahdi-tools expects for this card.
    pub fn driver(&self) -> Driver {
        match &self.bus {
            Bus::Pci(p) => p.entry.driver,
            Bus::Usb(u) => u.entry.driver,
        }
    }

    /// The module actually bound, if any.
    pub fn bound_driver(&self) -> Option<&str> {
        match &self.bus {
            Bus::Pci(p) => p.bound_driver.as_deref(),
            Bus::Usb(u) => u.bound_driver.as_deref(),
        }
    }

    /// `vendor:device`.
    pub fn id(&self) -> String {
        match &self.bus {
            Bus::Pci(p) => p.id.short(),
            Bus::Usb(u) => u.id.to_string(),
        }
    }

    pub fn description(&self) -> &'static str {
        match &self.bus {
            Bus::Pci(p) => p.entry.description,
            Bus::Usb(u) => u.entry.description,
        }
    }

    /// What ports the card carries (PCI cards; Astribanks vary).
    pub fn kind(&self) -> Option<CardKind> {
        match &self.bus {
            Bus::Pci(p) => Some(p.entry.kind),
            Bus::Usb(_) => None,
        }
    }

    /// Spans the card has: the DAHDI device's count, else the catalog's.
    pub fn span_count(&self) -> Option<u32> {
        let registered = self.dahdi.as_ref().map(|d| d.span_count);
        registered.or_else(|| self.kind()?.span_count().map(u32::from))
    }

    /// The echo canceller fitting this card, with its firmware file: the
    /// one the driver names in the device type (`Wildcard TDM2400P
    /// (VPMOCT032)`) when it names one the card can carry, else the
    /// catalog's for the card's span count.
    pub fn echo_canceller(&self) -> Option<&'static EchoCanceller> {
        let Bus::Pci(p) = &self.bus else { return None };
        let named = self
            .dahdi
            .as_ref()
            .and_then(|d| d.device_type.as_deref())
            .and_then(|t| {
                p.entry
                    .echo_cancellers
                    .iter()
                    .find(|ec| t.contains(&format!("({})", ec.name)))
            });
        named.or_else(|| p.entry.echo_canceller_for(self.span_count().unwrap_or(0)))
    }

    /// The key `assigned-spans.conf` matches first: hardware id, else
    /// `@location` (spaces and other odd characters as `_`).
    pub fn assignment_key(&self) -> Option<String> {
        let dev = self.dahdi.as_ref()?;
        let clean = |s: &str| {
            s.chars()
                .map(|c| if c == '!' { '/' } else { c })
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "/:.-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        };
        dev.hardware_id
            .as_deref()
            .map(clean)
            .or_else(|| dev.location.as_deref().map(|l| format!("@{}", clean(l))))
    }

    /// Current type of each local span (assigned or not).
    pub fn span_types(&self) -> Vec<LocalSpanType> {
        let Some(dev) = &self.dahdi else {
            return Vec::new();
        };
        if !dev.span_types.is_empty() {
            return dev.span_types.clone();
        }
        let typed = dev
            .spans
            .iter()
            .filter_map(|s| Some((s.local, s.span_type?)));
        typed
            .map(|(local, span_type)| LocalSpanType { local, span_type })
            .collect()
    }

    /// Whether this card's spans are E1/T1/J1 ports now set to `ty`.
    pub fn has_span_type(&self, ty: SpanType) -> bool {
        self.span_types().iter().any(|t| t.span_type == ty)
    }
}

/// Everything found under a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Inventory {
    /// Recognised cards, PCI by address, then USB.
    pub cards: Vec<Card>,
    /// DAHDI devices with no recognised card (dynamic spans, Astribank
    /// xbuses, unknown boards).
    pub other_devices: Vec<DahdiDevice>,
    /// `dahdi.auto_assign_spans`, when the module is loaded.
    pub auto_assign_spans: Option<bool>,
}

impl Inventory {
    /// All assigned spans of all devices, by span number.
    pub fn spans(&self) -> Vec<&DetectedSpan> {
        let devices = self
            .cards
            .iter()
            .filter_map(|c| c.dahdi.as_ref())
            .chain(&self.other_devices);
        let mut spans: Vec<&DetectedSpan> = devices.flat_map(|d| &d.spans).collect();
        spans.sort_by_key(|s| s.number);
        spans
    }

    /// Drivers to load, each once, sorted (the content of
    /// `/etc/dahdi/modules`).
    pub fn drivers(&self) -> Vec<Driver> {
        let mut drivers: Vec<Driver> = self.cards.iter().map(Card::driver).collect();
        drivers.sort();
        drivers.dedup();
        drivers
    }

    /// The card at `pci:…`/`usb:…` or with this hardware id.
    pub fn find(&self, key: &str) -> Option<&Card> {
        self.cards.iter().find(|c| {
            c.location() == key
                || c.dahdi.as_ref().and_then(|d| d.hardware_id.as_deref()) == Some(key)
        })
    }
}

/// Scans PCI, USB and the DAHDI buses under `root`.
pub fn scan(root: &Root) -> Result<Inventory, DetectError> {
    let mut devices = dahdi_device::scan(root)?;
    let mut take = |addr: &str| {
        let i = devices
            .iter()
            .position(|d| d.pci_address.as_deref() == Some(addr))?;
        Some(devices.remove(i))
    };
    let mut cards: Vec<Card> = pci::scan(root)?
        .into_iter()
        .map(|p| Card {
            dahdi: take(&p.address),
            bus: Bus::Pci(p),
        })
        .collect();
    for usb in usb::scan(root)? {
        cards.push(Card {
            bus: Bus::Usb(usb),
            dahdi: None,
        });
    }
    let param = root.path("/sys/module/dahdi/parameters");
    Ok(Inventory {
        cards,
        other_devices: devices,
        auto_assign_spans: sysfs::attr_u32(&param, "auto_assign_spans").map(|v| v != 0),
    })
}
