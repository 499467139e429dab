//! A `[telephony]` section for the detected hardware: what `dahdi_genconf`
//! would write, but into our config, with every span and channel number
//! explicit so that later hardware changes never renumber it.
//!
//! Numbering follows the cards' bus order from span 1 and channel 1.
//! Digital spans get their line from the port's current type (TE BRI ports
//! face a provider, NT ones a PBX; E1/T1/J1 ports are proposed towards a
//! provider). Analog ports are proposed only where their module is known
//! ([`DetectedPort`], read from configured channels), since telling FXS
//! from FXO without configuring the port is not possible offline.

use appliance::config::telephony::{self as tel, EchoCanceller, Line, PortKind, Role, Telephony};
use serde::Serialize;

use crate::catalog::{CardKind, LineModeSelect, SpanType};
use crate::detect::{Card, Inventory};
use crate::status::SpanStatus;

/// The module fitted at one analog position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedPort {
    /// The card's `pci:…` location.
    pub location: String,
    /// 1-based position on the card.
    pub position: u32,
    pub kind: PortKind,
}

/// First extension number of proposed FXS ports (`4000 + channel`, as
/// `dahdi_genconf`'s `base_exten`).
const BASE_EXTEN: u32 = 4000;

/// Spans DAHDI numbers at most (`DAHDI_MAX_SPANS`), and channels a
/// `[telephony]` section may use: no card is proposed with more, whatever
/// sysfs claims. Past them, numbers stop growing and validation says so.
const MAX_SPANS: u32 = 128;
const MAX_CHANNELS: u32 = 1023;

/// A config for the detected hardware, without analog ports.
pub fn propose(inventory: &Inventory) -> Telephony {
    propose_with_ports(inventory, &[])
}

/// A config for the detected hardware and the analog modules in `ports`.
pub fn propose_with_ports(inventory: &Inventory, ports: &[DetectedPort]) -> Telephony {
    let mut tel = Telephony {
        echo_canceller: echo_canceller(inventory),
        ..Telephony::default()
    };
    let mut next = Numbers {
        span: 1,
        channel: 1,
    };
    for card in &inventory.cards {
        let Some(kind) = card.kind() else { continue };
        let spans = card.span_count().unwrap_or(0).min(MAX_SPANS);
        let mut entry = card_entry(card);
        if spans > 0 {
            entry.first_span = Some(next.span);
        }
        match kind {
            CardKind::Digital { line_mode, .. } => {
                if matches!(line_mode, LineModeSelect::ModuleOption { .. }) {
                    entry.line_mode = current_line_mode(card);
                }
                (1..=spans).for_each(|local| tel.span.push(digital_span(card, local, &mut next)));
            }
            CardKind::Bri { .. } => {
                (1..=spans).for_each(|local| tel.span.push(digital_span(card, local, &mut next)));
            }
            CardKind::Analog { ports: count } => {
                let n = analog_count(card).or(count.map(u32::from)).unwrap_or(0);
                let n = n.min(MAX_CHANNELS);
                tel.port.extend(analog_ports(card, n, ports, next.channel));
                next.span = next.span.saturating_add(1);
                next.channel = next.channel.saturating_add(n as u16);
            }
            _ => {}
        }
        tel.card.push(entry);
    }
    tel
}

/// Which analog modules are fitted, from channels already configured
/// (`FXOKS` on an FXS module, `FXSKS` on an FXO one).
pub fn ports_from_status(inventory: &Inventory, spans: &[SpanStatus]) -> Vec<DetectedPort> {
    let mut found = Vec::new();
    for card in &inventory.cards {
        let Some(dev) = &card.dahdi else { continue };
        for detected in dev
            .spans
            .iter()
            .filter(|s| s.span_type.is_none_or(SpanType::is_analog))
        {
            let Some(status) = spans.iter().find(|s| s.number == detected.number) else {
                continue;
            };
            for ch in &status.channels {
                let kind = match ch.signalling.as_deref() {
                    Some(s) if s.starts_with("FXO") => PortKind::Fxs,
                    Some(s) if s.starts_with("FXS") => PortKind::Fxo,
                    _ => continue,
                };
                // A channel below its span's first one is no position.
                let base = status.basechan.unwrap_or(ch.number);
                let Some(position) = ch.number.checked_sub(base).and_then(|p| p.checked_add(1))
                else {
                    continue;
                };
                found.push(DetectedPort {
                    location: card.location(),
                    position,
                    kind,
                });
            }
        }
    }
    found
}

struct Numbers {
    span: u16,
    channel: u16,
}

fn card_entry(card: &Card) -> tel::Card {
    let hwid = card.dahdi.as_ref().and_then(|d| d.hardware_id.clone());
    tel::Card {
        location: hwid.is_none().then(|| card.location()),
        hardware_id: hwid,
        line_mode: None,
        first_span: None,
    }
}

/// Hardware echo cancellers when every card with spans has one fitted
/// (the driver names it in the device type), else DAHDI's MG2.
fn echo_canceller(inventory: &Inventory) -> EchoCanceller {
    let with_spans: Vec<&Card> = inventory
        .cards
        .iter()
        .filter(|c| c.span_count().unwrap_or(0) > 0)
        .collect();
    let fitted = |c: &&Card| {
        let (Some(ec), Some(dev)) = (c.echo_canceller(), &c.dahdi) else {
            return false;
        };
        dev.device_type
            .as_deref()
            .is_some_and(|t| t.contains(ec.name))
    };
    if !with_spans.is_empty() && with_spans.iter().all(fitted) {
        EchoCanceller::Hardware
    } else {
        EchoCanceller::Mg2
    }
}

fn span_type(card: &Card, local: u32) -> Option<SpanType> {
    card.span_types()
        .into_iter()
        .find(|t| t.local == local)
        .map(|t| t.span_type)
}

fn current_line_mode(card: &Card) -> Option<tel::LineMode> {
    match span_type(card, 1)? {
        SpanType::E1 => Some(tel::LineMode::E1),
        SpanType::T1 => Some(tel::LineMode::T1),
        SpanType::J1 => Some(tel::LineMode::J1),
        _ => None,
    }
}

/// The line and role of a port, from its type now (or the catalog).
fn line_and_role(card: &Card, local: u32) -> (Line, Role) {
    match span_type(card, local) {
        Some(SpanType::E1) => (Line::E1, Role::Provider),
        Some(SpanType::T1) => (Line::T1, Role::Provider),
        Some(SpanType::J1) => (Line::J1, Role::Provider),
        Some(SpanType::BriNt) => (Line::Bri, Role::Pbx),
        Some(t) if t.is_bri() => (Line::Bri, Role::Provider),
        _ => match card.kind() {
            Some(CardKind::Bri { .. }) => (Line::Bri, Role::Provider),
            Some(CardKind::Digital {
                line_mode:
                    LineModeSelect::ModuleOption { default } | LineModeSelect::Fixed { mode: default },
                ..
            }) => (default_line(default), Role::Provider),
            _ => (Line::E1, Role::Provider),
        },
    }
}

fn default_line(mode: crate::catalog::LineMode) -> Line {
    match mode {
        crate::catalog::LineMode::E1 => Line::E1,
        crate::catalog::LineMode::T1 => Line::T1,
        crate::catalog::LineMode::J1 => Line::J1,
    }
}

fn digital_span(card: &Card, local: u32, next: &mut Numbers) -> tel::Span {
    let (line, role) = line_and_role(card, local);
    let number = next.span;
    let own_group = u8::try_from(10 + u32::from(number))
        .ok()
        .filter(|g| *g <= 63);
    // BRI ports need a group each; PRI spans also join the trunk group 0.
    let groups = match (line, own_group) {
        (Line::Bri, g) => g.into_iter().collect(),
        (_, g) => std::iter::once(0).chain(g).collect(),
    };
    let context = match role {
        Role::Provider => "from-extern",
        Role::Pbx => "from-pabx",
    };
    let span = tel::Span {
        span: number,
        line,
        first_channel: next.channel,
        role,
        signalling: None,
        switchtype: None,
        timing: None,
        framing: None,
        coding: None,
        crc4: None,
        context: context.parse().expect("a valid context"),
        groups,
        overlap_dial: Default::default(),
        bri_persistence: None,
    };
    next.span = next.span.saturating_add(1);
    next.channel = next.channel.saturating_add(line.channels());
    span
}

fn analog_count(card: &Card) -> Option<u32> {
    let dev = card.dahdi.as_ref()?;
    dev.spans.first().map(|s| s.channels).filter(|n| *n > 0)
}

fn analog_ports(card: &Card, count: u32, known: &[DetectedPort], base: u16) -> Vec<tel::Port> {
    let location = card.location();
    (1..=count)
        .filter_map(|position| {
            let port = known
                .iter()
                .find(|p| p.location == location && p.position == position)?;
            let channel = base.saturating_add(position as u16 - 1);
            Some(port_entry(channel, port.kind))
        })
        .collect()
}

fn port_entry(channel: u16, kind: PortKind) -> tel::Port {
    let exten = (BASE_EXTEN + u32::from(channel)).to_string();
    let fxs = kind == PortKind::Fxs;
    tel::Port {
        channel,
        kind,
        context: if fxs { "default" } else { "from-pstn" }
            .parse()
            .expect("a valid context"),
        group: Some(if fxs { 5 } else { 0 }),
        callerid_name: fxs.then(|| format!("Channel {channel}").parse().expect("plain text")),
        callerid_number: fxs.then(|| exten.clone()),
        mailbox: fxs.then_some(exten),
    }
}
