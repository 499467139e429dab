//! `/etc/dahdi/system.conf`, in the grammar `dahdi_cfg` parses.

use std::fmt::Write as _;

use appliance::config::telephony::{
    Coding, EchoCanceller, Framing, Line, PortKind, Role, Span, Telephony,
};

use super::banner;
use super::chanlist::ChannelList;
use super::layout::config_key;
use super::layout::{Layout, PlacedCard, PlacedLine, PlacedSpan};
use crate::catalog::{CardKind, TeNtSelect};

/// Position of the D-channel within a span.
fn dchan_position(line: Line) -> u16 {
    match line {
        Line::E1 => 16,
        Line::T1 | Line::J1 => 24,
        Line::Bri => 3,
    }
}

pub fn framing(span: &Span) -> Framing {
    span.framing.unwrap_or(match span.line {
        Line::E1 | Line::Bri => Framing::Ccs,
        Line::T1 | Line::J1 => Framing::Esf,
    })
}

pub fn coding(span: &Span) -> Coding {
    span.coding.unwrap_or(match span.line {
        Line::E1 => Coding::Hdb3,
        Line::T1 | Line::J1 => Coding::B8zs,
        Line::Bri => Coding::Ami,
    })
}

fn framing_word(f: Framing) -> &'static str {
    match f {
        Framing::Ccs => "ccs",
        Framing::Cas => "cas",
        Framing::Esf => "esf",
        Framing::D4 => "d4",
    }
}

fn coding_word(c: Coding) -> &'static str {
    match c {
        Coding::Hdb3 => "hdb3",
        Coding::B8zs => "b8zs",
        Coding::Ami => "ami",
    }
}

/// Clock priority of every configured span: the explicit value, else 0
/// towards a PBX and 1, 2… towards providers in span order, skipping the
/// priorities given explicitly. Computed over all configured spans, present
/// or not, so a missing card never changes the others' lines.
pub fn timing(tel: &Telephony, span: u16) -> u8 {
    let mut spans: Vec<&Span> = tel.span.iter().collect();
    spans.sort_by_key(|s| s.span);
    let taken: Vec<u8> = spans.iter().filter_map(|s| s.timing).collect();
    let mut next = 1u8;
    for s in spans {
        let value = match (s.timing, s.role) {
            (Some(t), _) => t,
            (None, Role::Pbx) => 0,
            (None, Role::Provider) => {
                while taken.contains(&next) {
                    next = next.saturating_add(1);
                }
                next = next.saturating_add(1);
                next - 1
            }
        };
        if s.span == span {
            return value;
        }
    }
    0
}

/// The `echocanceller=` name for channels of `card`, if any.
fn echo_name(tel: &Telephony, card: &PlacedCard<'_>) -> Option<&'static str> {
    match tel.echo_canceller {
        EchoCanceller::Mg2 => Some("mg2"),
        EchoCanceller::Oslec => Some("oslec"),
        EchoCanceller::Hardware => card.detected.echo_canceller().map(|_| "hwec"),
        EchoCanceller::None => None,
    }
}

/// The file.
pub fn system_conf(tel: &Telephony, layout: &Layout<'_>) -> String {
    let mut out = banner("#", "DAHDI spans and channels, read by dahdi_cfg.");
    for span in layout.spans() {
        let card = layout.card_of(span);
        out.push('\n');
        let _ = writeln!(out, "# Span {}: {}", span.number, span.label(card.detected));
        match &span.line {
            PlacedLine::Digital(cfg) => digital(&mut out, tel, card, span, cfg),
            PlacedLine::Analog(ports) => analog(&mut out, tel, card, span, ports),
        }
    }
    skipped(&mut out, layout);
    let zone = tel.tone_zone.as_ref().map_or("us", |z| z.as_str());
    let _ = write!(out, "\nloadzone={zone}\ndefaultzone={zone}\n");
    out
}

fn digital(
    out: &mut String,
    tel: &Telephony,
    card: &PlacedCard<'_>,
    span: &PlacedSpan<'_>,
    cfg: &Span,
) {
    let _ = write!(
        out,
        "span={},{},0,{},{}",
        span.number,
        timing(tel, span.number),
        framing_word(framing(cfg)),
        coding_word(coding(cfg))
    );
    if cfg.line == Line::E1 && cfg.crc4 != Some(false) {
        out.push_str(",crc4");
    }
    let soft_te_nt = matches!(
        card.detected.kind(),
        Some(CardKind::Bri {
            te_nt: TeNtSelect::SpanLine,
            ..
        })
    );
    if cfg.line == Line::Bri && soft_te_nt {
        out.push_str(if cfg.role == Role::Pbx {
            ",nt,term"
        } else {
            ",te"
        });
    }
    out.push('\n');
    let side = if cfg.role == Role::Pbx { "nt" } else { "te" };
    let _ = writeln!(out, "# termtype: {side}");
    let d = span.first_channel + dchan_position(cfg.line) - 1;
    let bchans = ChannelList::range_without(span.first_channel, span.last_channel(), &[d]);
    let dchan_kind = if cfg.line == Line::Bri {
        "hardhdlc"
    } else {
        "dchan"
    };
    let _ = write!(out, "bchan={bchans}\n{dchan_kind}={d}\n");
    if let Some(name) = echo_name(tel, card) {
        let _ = writeln!(out, "echocanceller={name},{bchans}");
    }
}

fn analog(
    out: &mut String,
    tel: &Telephony,
    card: &PlacedCard<'_>,
    span: &PlacedSpan<'_>,
    ports: &[&appliance::config::telephony::Port],
) {
    let mut ports: Vec<_> = ports.to_vec();
    ports.sort_by_key(|p| p.channel);
    let _ = writeln!(
        out,
        "# channels {}-{}; unlisted ones have no configured port",
        span.first_channel,
        span.last_channel()
    );
    for port in ports {
        // FXS hardware takes FXO signalling and the other way round.
        let sig = match port.kind {
            PortKind::Fxs => "fxoks",
            PortKind::Fxo => "fxsks",
        };
        let _ = writeln!(out, "{sig}={}", port.channel);
        if let Some(name) = echo_name(tel, card) {
            let _ = writeln!(out, "echocanceller={name},{}", port.channel);
        }
    }
}

/// Comments for what the config names but the box lacks.
fn skipped(out: &mut String, layout: &Layout<'_>) {
    if layout.absent.is_empty() && layout.orphan_spans.is_empty() && layout.orphan_ports.is_empty()
    {
        return;
    }
    out.push_str("\n# Configured but not in the box (left out until it is):\n");
    for card in &layout.absent {
        let _ = writeln!(out, "#   card {}", config_key(card));
    }
    for span in &layout.orphan_spans {
        let _ = writeln!(
            out,
            "#   span {} (channels {}-{})",
            span.span,
            span.channels().start(),
            span.channels().end()
        );
    }
    for port in &layout.orphan_ports {
        let _ = writeln!(out, "#   port {}", port.channel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(n: u16, role: Role, timing: Option<u8>) -> Span {
        let text = format!(
            "span = {n}\nline = \"e1\"\nfirst_channel = {}\nrole = \"{}\"\ncontext = \"x\"\n{}",
            1 + (n - 1) * 31,
            if role == Role::Pbx { "pbx" } else { "provider" },
            timing
                .map(|t| format!("timing = {t}\n"))
                .unwrap_or_default()
        );
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn providers_get_the_free_priorities_in_span_order() {
        let tel = Telephony {
            span: vec![
                span(3, Role::Provider, None),
                span(1, Role::Provider, Some(2)),
                span(2, Role::Pbx, None),
                span(4, Role::Provider, None),
            ],
            ..Telephony::default()
        };
        let got: Vec<u8> = (1..=4).map(|n| timing(&tel, n)).collect();
        assert_eq!(got, vec![2, 0, 1, 3]);
    }
}
