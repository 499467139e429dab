//! Where the configured spans and ports land on the detected cards.
//!
//! The config numbers every span and channel explicitly; this module only
//! pairs config cards with detected ones and checks that the two agree.
//! Numbers never come from the hardware's current assignment, so removing
//! a card changes nothing for the others: its spans and ports are simply
//! left out.

use appliance::config::telephony::{self as tel, Line, Role};

use super::RenderError;
use crate::catalog::{CardKind, LineModeSelect, SpanType};
use crate::detect::{Card, DetectedSpan, Inventory};

/// The configuration laid onto the hardware.
#[derive(Debug)]
pub struct Layout<'a> {
    /// Configured cards that are present, in config order.
    pub cards: Vec<PlacedCard<'a>>,
    /// Detected cards the config does not mention: left unassigned.
    pub unconfigured: Vec<&'a Card>,
    /// Configured cards not found in the box.
    pub absent: Vec<&'a tel::Card>,
    /// Configured spans on no present card.
    pub orphan_spans: Vec<&'a tel::Span>,
    /// Configured ports on no present analog card.
    pub orphan_ports: Vec<&'a tel::Port>,
}

/// A configured card found in the box.
#[derive(Debug)]
pub struct PlacedCard<'a> {
    pub detected: &'a Card,
    pub config: &'a tel::Card,
    /// The `assigned-spans.conf` / `span-types.conf` device key.
    pub key: String,
    /// Its spans, by local number.
    pub spans: Vec<PlacedSpan<'a>>,
    /// Local spans without a configured span: left unassigned.
    pub idle: Vec<u32>,
}

/// One span of a present card, with its configured numbers.
#[derive(Debug)]
pub struct PlacedSpan<'a> {
    pub local: u32,
    pub number: u16,
    pub first_channel: u16,
    pub channels: u16,
    /// The span as sysfs shows it now (absent while unassigned).
    pub detected: Option<&'a DetectedSpan>,
    pub line: PlacedLine<'a>,
}

/// What a placed span carries.
#[derive(Debug)]
pub enum PlacedLine<'a> {
    /// An E1/T1/J1/BRI span.
    Digital(&'a tel::Span),
    /// An analog span and its configured ports.
    Analog(Vec<&'a tel::Port>),
}

impl PlacedSpan<'_> {
    pub fn last_channel(&self) -> u16 {
        self.first_channel + self.channels - 1
    }

    /// `TE4/0/1 "T4XXP (PCI) Card 0 Span 1"`, or the card for an
    /// unassigned span.
    pub fn label(&self, card: &Card) -> String {
        match self.detected {
            Some(s) => format!("{} \"{}\"", s.name, s.description),
            None => format!(
                "{} span {} ({})",
                card.location(),
                self.local,
                card.description()
            ),
        }
    }
}

/// Pairs config and hardware.
pub fn lay_out<'a>(
    tel: &'a tel::Telephony,
    inventory: &'a Inventory,
) -> Result<Layout<'a>, RenderError> {
    let mut layout = Layout {
        cards: Vec::new(),
        unconfigured: Vec::new(),
        absent: Vec::new(),
        orphan_spans: Vec::new(),
        orphan_ports: Vec::new(),
    };
    for config in &tel.card {
        match find(inventory, config) {
            Some(detected) => layout
                .cards
                .push(place_card(tel, config, detected, inventory)?),
            None => layout.absent.push(config),
        }
    }
    layout.unconfigured = inventory
        .cards
        .iter()
        .filter(|c| !layout.cards.iter().any(|p| std::ptr::eq(p.detected, *c)))
        .collect();
    let placed_span = |s: &tel::Span| layout.spans().any(|p| p.number == s.span);
    layout.orphan_spans = tel.span.iter().filter(|s| !placed_span(s)).collect();
    let placed_port = |p: &tel::Port| {
        layout.spans().any(|s| matches!(&s.line, PlacedLine::Analog(ports) if ports.iter().any(|q| std::ptr::eq(*q, p))))
    };
    layout.orphan_ports = tel.port.iter().filter(|p| !placed_port(p)).collect();
    check_disjoint(&layout)?;
    Ok(layout)
}

/// An analog card's derived span and channels must not collide with a
/// configured digital span.
fn check_disjoint(layout: &Layout<'_>) -> Result<(), RenderError> {
    let spans: Vec<&PlacedSpan<'_>> = layout.spans().collect();
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[..i] {
            let overlap =
                a.first_channel <= b.last_channel() && b.first_channel <= a.last_channel();
            if a.number == b.number || overlap {
                return Err(RenderError::Collision {
                    span: a.number,
                    other: b.number,
                });
            }
        }
    }
    Ok(())
}

impl<'a> Layout<'a> {
    /// Every placed span, by span number.
    pub fn spans(&self) -> impl Iterator<Item = &PlacedSpan<'a>> {
        let mut spans: Vec<&PlacedSpan<'a>> = self.cards.iter().flat_map(|c| &c.spans).collect();
        spans.sort_by_key(|s| s.number);
        spans.into_iter()
    }

    /// The card a placed span belongs to.
    pub fn card_of(&self, span: &PlacedSpan<'_>) -> &PlacedCard<'a> {
        self.cards
            .iter()
            .find(|c| c.spans.iter().any(|s| s.number == span.number))
            .expect("placed spans belong to placed cards")
    }
}

/// The detected card a config card names.
fn find<'a>(inventory: &'a Inventory, config: &tel::Card) -> Option<&'a Card> {
    let key = config
        .hardware_id
        .as_deref()
        .or(config.location.as_deref())?;
    inventory.find(key)
}

/// `pci:0000:02:00.0` as the config spells it.
pub fn config_key(config: &tel::Card) -> String {
    config
        .hardware_id
        .clone()
        .or_else(|| config.location.clone())
        .unwrap_or_default()
}

fn place_card<'a>(
    tel: &'a tel::Telephony,
    config: &'a tel::Card,
    detected: &'a Card,
    inventory: &'a Inventory,
) -> Result<PlacedCard<'a>, RenderError> {
    let mut placed = PlacedCard {
        detected,
        config,
        key: assignment_key(config, detected),
        spans: Vec::new(),
        idle: Vec::new(),
    };
    let count = detected.span_count().unwrap_or(0);
    if count == 0 {
        return Ok(placed);
    }
    let first_span = config.first_span.ok_or_else(|| RenderError::NoFirstSpan {
        card: config_key(config),
        spans: count,
    })?;
    if matches!(detected.kind(), Some(CardKind::Analog { .. })) {
        placed
            .spans
            .push(place_analog(tel, config, detected, first_span, inventory)?);
        return Ok(placed);
    }
    for local in 1..=count {
        let number = first_span + local as u16 - 1;
        match tel.span.iter().find(|s| s.span == number) {
            Some(span) => placed.spans.push(place_digital(detected, local, span)?),
            None => placed.idle.push(local),
        }
    }
    Ok(placed)
}

/// Hardware id from the config, else the device's own key, else its sysfs
/// path (a driver not loaded yet registers `…/pci:<address>`).
fn assignment_key(config: &tel::Card, detected: &Card) -> String {
    if let Some(id) = &config.hardware_id {
        return id.clone();
    }
    detected
        .assignment_key()
        .unwrap_or_else(|| format!("*/{}", detected.location()))
}

fn detected_span(card: &Card, local: u32) -> Option<&DetectedSpan> {
    card.dahdi.as_ref()?.spans.iter().find(|s| s.local == local)
}

fn hardware_type(card: &Card, local: u32) -> Option<SpanType> {
    card.span_types()
        .into_iter()
        .find(|t| t.local == local)
        .map(|t| t.span_type)
}

fn place_digital<'a>(
    card: &'a Card,
    local: u32,
    span: &'a tel::Span,
) -> Result<PlacedSpan<'a>, RenderError> {
    if let Some(hw) = hardware_type(card, local) {
        check_line(card, span, hw)?;
    }
    Ok(PlacedSpan {
        local,
        number: span.span,
        first_channel: span.first_channel,
        channels: span.line.channels(),
        detected: detected_span(card, local),
        line: PlacedLine::Digital(span),
    })
}

/// The configured line must be one the port can be: BRI stays BRI, a
/// jumpered BRI port keeps its TE/NT role, and E1/T1/J1 can only change
/// where the driver lets span types be set.
fn check_line(card: &Card, span: &tel::Span, hw: SpanType) -> Result<(), RenderError> {
    let mismatch = || RenderError::LineMismatch {
        span: span.span,
        card: card.location(),
        hardware: hw,
        line: span.line,
    };
    match (hw, span.line) {
        (SpanType::BriTe | SpanType::BriNt, Line::Bri) => {
            let jumpered = matches!(
                card.kind(),
                Some(CardKind::Bri {
                    te_nt: crate::catalog::TeNtSelect::Jumper,
                    ..
                })
            );
            let hw_net = hw == SpanType::BriNt;
            if jumpered && hw_net != (span.role == Role::Pbx) {
                return Err(RenderError::TeNtJumper {
                    span: span.span,
                    card: card.location(),
                    hardware: hw,
                });
            }
            Ok(())
        }
        (t, Line::E1 | Line::T1 | Line::J1) if t.line_mode().is_some() => {
            let same = t.line_mode().map(|m| m.channels()) == Some(u32::from(span.line.channels()));
            let settable = card.driver().supports_spantype_write()
                || matches!(
                    card.kind(),
                    Some(CardKind::Digital {
                        line_mode: LineModeSelect::ModuleOption { .. },
                        ..
                    })
                );
            if same || settable {
                Ok(())
            } else {
                Err(mismatch())
            }
        }
        _ => Err(mismatch()),
    }
}

/// An analog card's one span. Its channels follow everything numbered
/// before it: the configured digital spans with lower numbers and the
/// analog cards with a lower `first_span`.
fn place_analog<'a>(
    tel: &'a tel::Telephony,
    config: &'a tel::Card,
    card: &'a Card,
    number: u16,
    inventory: &'a Inventory,
) -> Result<PlacedSpan<'a>, RenderError> {
    let channels = analog_channels(card).ok_or_else(|| RenderError::UnknownPortCount {
        card: card.location(),
    })?;
    let digital_end = tel
        .span
        .iter()
        .filter(|s| s.span < number)
        .map(|s| s.channels().end().to_owned())
        .max()
        .unwrap_or(0);
    let mut end = digital_end;
    for other in tel.card.iter().filter(|c| !std::ptr::eq(*c, config)) {
        let Some(first) = other.first_span.filter(|f| *f < number) else {
            continue;
        };
        if tel.span.iter().any(|s| s.span == first) {
            continue;
        }
        let other_card = find(inventory, other).ok_or_else(|| RenderError::AnalogAfterAbsent {
            card: card.location(),
            absent: config_key(other),
        })?;
        if matches!(other_card.kind(), Some(CardKind::Analog { .. })) {
            let before = place_analog(tel, other, other_card, first, inventory)?;
            end = end.max(before.last_channel());
        }
    }
    let first_channel = end + 1;
    let last = first_channel + channels - 1;
    let ports = tel
        .port
        .iter()
        .filter(|p| (first_channel..=last).contains(&p.channel))
        .collect();
    Ok(PlacedSpan {
        local: 1,
        number,
        first_channel,
        channels,
        detected: detected_span(card, 1),
        line: PlacedLine::Analog(ports),
    })
}

/// Ports on an analog card: the registered span's channels, else the
/// catalog's count.
fn analog_channels(card: &Card) -> Option<u16> {
    if let Some(span) = detected_span(card, 1).filter(|s| s.channels > 0) {
        return u16::try_from(span.channels).ok();
    }
    match card.kind()? {
        CardKind::Analog { ports } => ports.map(u16::from),
        _ => None,
    }
}
