//! Writes the fixture tree: PCI devices and driver links, DAHDI devices,
//! spans and `/proc/dahdi` files, the way the kernel lays them out.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use hwmgr::catalog::SpanType;

use super::model::{linecompat, BriRole, Model, Port};
use super::spec::{Assign, CardSpec};
use super::{stubs, Fixture, FixtureError, SpanTypeAttr};

/// Where the fake PCI devices hang.
const PCI_PARENT: &str = "sys/devices/pci0000:00/0000:00:1c.0";

/// What a fixture laid out, for tests to compare against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub cards: Vec<LaidCard>,
}

/// One card as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaidCard {
    pub model: Model,
    pub pci_address: String,
    pub location: String,
    pub hardware_id: Option<String>,
    pub spans: Vec<LaidSpan>,
}

/// One span as written (assigned or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaidSpan {
    pub local: u32,
    /// Global span number, `None` when unassigned.
    pub number: Option<u32>,
    pub basechan: Option<u32>,
    pub channels: u32,
    pub span_type: SpanType,
    pub name: String,
    pub description: String,
    /// Per channel position: FXS/FXO/empty for analog spans.
    pub ports: Vec<Port>,
}

impl Layout {
    /// Every assigned span, by number.
    pub fn spans(&self) -> Vec<&LaidSpan> {
        let mut spans: Vec<&LaidSpan> = self
            .cards
            .iter()
            .flat_map(|c| &c.spans)
            .filter(|s| s.number.is_some())
            .collect();
        spans.sort_by_key(|s| s.number);
        spans
    }
}

/// Counters shared while cards are written in order.
struct Numbering {
    next_span: u32,
    next_chan: u32,
    /// The drivers' own per-driver card counters (`Card 0`, `Card 1`…).
    per_driver: Vec<(&'static str, u32)>,
    master_written: bool,
}

impl Numbering {
    fn card_number(&mut self, driver: &'static str) -> u32 {
        match self.per_driver.iter_mut().find(|(d, _)| *d == driver) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_driver.push((driver, 0));
                0
            }
        }
    }
}

pub fn build(fixture: &Fixture, root: &Path) -> Result<Layout, FixtureError> {
    let w = Writer { root };
    w.dir("proc/dahdi")?;
    w.dir("sys/bus/dahdi_devices/devices")?;
    w.dir("sys/bus/dahdi_spans/devices")?;
    w.dir("sys/bus/pci/devices")?;
    w.file("sys/module/dahdi/parameters/auto_assign_spans", "0\n")?;
    if fixture.with_nic {
        w.pci_device(
            "0000:00:19.0",
            [0x8086, 0x15b8, 0x1028, 0x07a1],
            Some("e1000e"),
        )?;
    }
    let mut numbering = Numbering {
        next_span: 1,
        next_chan: 1,
        per_driver: Vec::new(),
        master_written: false,
    };
    let mut layout = Layout::default();
    for (index, card) in fixture.cards.iter().enumerate() {
        let bus = card.bus.unwrap_or(2 + index as u8);
        layout
            .cards
            .push(w.card(card, bus, fixture.spantype_attr, &mut numbering)?);
    }
    stubs::write(&w, &layout)?;
    Ok(layout)
}

pub(super) struct Writer<'a> {
    pub root: &'a Path,
}

impl Writer<'_> {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FixtureError + '_ {
        move |source| FixtureError::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub fn dir(&self, rel: &str) -> Result<PathBuf, FixtureError> {
        let path = self.root.join(rel);
        std::fs::create_dir_all(&path).map_err(Self::io(&path))?;
        Ok(path)
    }

    pub fn file(&self, rel: &str, content: &str) -> Result<(), FixtureError> {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Self::io(parent))?;
        }
        std::fs::write(&path, content).map_err(Self::io(&path))
    }

    /// A relative symlink at `link` pointing to `target` (both root-relative).
    fn link(&self, link: &str, target: &str) -> Result<(), FixtureError> {
        let path = self.root.join(link);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Self::io(parent))?;
        }
        let rel = relative(
            Path::new(link).parent().unwrap_or(Path::new("")),
            Path::new(target),
        );
        std::os::unix::fs::symlink(rel, &path).map_err(Self::io(&path))
    }

    fn pci_device(
        &self,
        addr: &str,
        ids: [u16; 4],
        driver: Option<&str>,
    ) -> Result<String, FixtureError> {
        let dev = format!("{PCI_PARENT}/{addr}");
        let names = ["vendor", "device", "subsystem_vendor", "subsystem_device"];
        for (name, id) in names.iter().zip(ids) {
            self.file(&format!("{dev}/{name}"), &format!("0x{id:04x}\n"))?;
        }
        self.link(&format!("sys/bus/pci/devices/{addr}"), &dev)?;
        if let Some(driver) = driver {
            let drv = format!("sys/bus/pci/drivers/{driver}");
            self.link(&format!("{dev}/driver"), &drv)?;
            self.link(&format!("{drv}/{addr}"), &dev)?;
            if !self.root.join(&drv).join("module").exists() {
                self.dir(&format!("sys/module/{driver}"))?;
                self.link(&format!("{drv}/module"), &format!("sys/module/{driver}"))?;
            }
        }
        Ok(dev)
    }

    fn card(
        &self,
        card: &CardSpec,
        bus: u8,
        attr: SpanTypeAttr,
        n: &mut Numbering,
    ) -> Result<LaidCard, FixtureError> {
        let model = card.model;
        let addr = format!("0000:{bus:02x}:00.0");
        let driver = card.bound.then(|| model.driver());
        let dev = self.pci_device(&addr, model.pci_ids(), driver)?;
        let express = if model.express() { " Express" } else { "" };
        let location = format!("PCI{express} Bus {bus:02} Slot 01");
        let mut laid = LaidCard {
            model,
            pci_address: addr.clone(),
            location: location.clone(),
            hardware_id: card.hardware_id.clone(),
            spans: Vec::new(),
        };
        if !card.bound || model.span_count() == 0 {
            return Ok(laid);
        }
        let card_no = n.card_number(model.driver());
        laid.spans = plan_spans(card, card_no, n);
        let ddev = format!("{dev}/pci:{addr}");
        self.dahdi_device(&ddev, card, &laid, attr)?;
        for span in &laid.spans {
            if let Some(number) = span.number {
                let master = !n.master_written;
                n.master_written = true;
                self.span(&ddev, number, span, card, master)?;
            }
        }
        Ok(laid)
    }

    fn dahdi_device(
        &self,
        ddev: &str,
        card: &CardSpec,
        laid: &LaidCard,
        attr: SpanTypeAttr,
    ) -> Result<(), FixtureError> {
        let (types_name, time_name) = match attr {
            SpanTypeAttr::Prefixed => ("dahdi_spantype", "dahdi_registration_time"),
            SpanTypeAttr::Plain => ("spantype", "registration_time"),
        };
        let types: String = laid
            .spans
            .iter()
            .map(|s| format!("{}:{}\n", s.local, s.span_type))
            .collect();
        let attrs = [
            ("manufacturer", "Digium".to_owned()),
            ("type", card.model.device_type().to_owned()),
            ("span_count", laid.spans.len().to_string()),
            ("hardware_id", card.hardware_id.clone().unwrap_or_default()),
            ("location", laid.location.clone()),
            (types_name, types.trim_end().to_owned()),
            (time_name, "0000000004.123456789".to_owned()),
        ];
        for (name, value) in attrs {
            self.file(&format!("{ddev}/{name}"), &format!("{value}\n"))?;
        }
        for name in ["auto_assign", "assign_span", "unassign_span"] {
            self.file(&format!("{ddev}/{name}"), "")?;
        }
        let bus_name = Path::new(ddev)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.link(&format!("sys/bus/dahdi_devices/devices/{bus_name}"), ddev)
    }

    fn span(
        &self,
        ddev: &str,
        number: u32,
        span: &LaidSpan,
        card: &CardSpec,
        master: bool,
    ) -> Result<(), FixtureError> {
        let dir = format!("{ddev}/span-{number}");
        let digital = span.span_type.is_digital();
        let attrs = [
            ("name", span.name.clone()),
            ("desc", span.description.clone()),
            ("spantype", span.span_type.to_string()),
            ("local_spanno", span.local.to_string()),
            ("alarms", format!("0x{:x}", card.alarms)),
            ("lbo", "0".into()),
            ("syncsrc", "0".into()),
            ("is_digital", u8::from(digital).to_string()),
            ("is_sync_master", u8::from(master).to_string()),
            ("basechan", span.basechan.unwrap_or(0).to_string()),
            ("channels", span.channels.to_string()),
            ("lineconfig", String::new()),
            ("linecompat", linecompat(span.span_type).to_owned()),
        ];
        for (name, value) in attrs {
            self.file(&format!("{dir}/{name}"), &format!("{value}\n"))?;
        }
        self.link(&format!("{dir}/ddev"), ddev)?;
        self.link(&format!("sys/bus/dahdi_spans/devices/span-{number}"), &dir)?;
        self.file(
            &format!("proc/dahdi/{number}"),
            &proc_text(number, span, card, master),
        )
    }
}

/// Numbers the card's spans and fills in their names and types.
fn plan_spans(card: &CardSpec, card_no: u32, n: &mut Numbering) -> Vec<LaidSpan> {
    let model = card.model;
    if let Assign::At { span, chan } = card.assign {
        n.next_span = span;
        n.next_chan = chan;
    }
    (1..=model.span_count())
        .map(|local| {
            let span_type = span_type(card, local);
            let channels = match span_type {
                SpanType::E1 => 31,
                SpanType::T1 | SpanType::J1 => 24,
                SpanType::BriTe | SpanType::BriNt => 3,
                _ => card.ports.len() as u32,
            };
            let (name, description) = model.span_names(card_no, local);
            let assigned = card.assign != Assign::Unassigned;
            let number = assigned.then(|| post_inc(&mut n.next_span, 1));
            let basechan = assigned.then(|| post_inc(&mut n.next_chan, channels));
            let ports = if span_type.is_analog() {
                card.ports.clone()
            } else {
                Vec::new()
            };
            LaidSpan {
                local,
                number,
                basechan,
                channels,
                span_type,
                name,
                description,
                ports,
            }
        })
        .collect()
}

fn post_inc(counter: &mut u32, by: u32) -> u32 {
    let value = *counter;
    *counter += by;
    value
}

fn span_type(card: &CardSpec, local: u32) -> SpanType {
    if let Some(mode) = card.line_mode {
        return mode.span_type();
    }
    match card.bri_roles.get(local as usize - 1) {
        Some(BriRole::Te) => SpanType::BriTe,
        Some(BriRole::Nt) => SpanType::BriNt,
        None => SpanType::AnalogMixed,
    }
}

/// `/proc/dahdi/N` as `dahdi_seq_show` writes it for a span not yet
/// configured by `dahdi_cfg`.
fn proc_text(number: u32, span: &LaidSpan, card: &CardSpec, master: bool) -> String {
    let mut out = format!("Span {number}: {} \"{}\"", span.name, span.description);
    if master {
        out.push_str(" (MASTER)");
    }
    out.push(' ');
    for (bit, word) in [
        (0x10, "BLUE"),
        (0x4, "YELLOW"),
        (0x8, "RED"),
        (0x2, "LOOP"),
        (0x1, "RECOVERING"),
        (0x20, "NOTOPEN"),
    ] {
        if card.alarms & bit != 0 {
            let _ = write!(out, "{word} ");
        }
    }
    out.push_str("\n\n");
    let base = span.basechan.unwrap_or(0);
    for pos in 1..=span.channels {
        let name = card.model.channel_name(&span.name, pos);
        let _ = write!(out, "\t{:4} {} ", base + pos - 1, name);
        if span.ports.get(pos as usize - 1) == Some(&Port::Empty) {
            out.push_str("Reserved ");
        }
        out.push('\n');
    }
    out
}

/// The path from directory `from` to `to`, both relative to the same root.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c);
    }
    rel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_climb_to_the_common_ancestor() {
        let r = relative(
            Path::new("sys/bus/pci/devices"),
            Path::new("sys/devices/pci0000:00/x"),
        );
        assert_eq!(r, PathBuf::from("../../../devices/pci0000:00/x"));
    }
}
