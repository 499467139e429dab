//! `/etc/dahdi/assigned-spans.conf` and `/etc/dahdi/span-types.conf`, in
//! the forms `dahdi_span_assignments add` and `dahdi_span_types set` read.

use std::fmt::Write as _;

use appliance::config::telephony::Line;

use super::banner;
use super::layout::{config_key, Layout, PlacedLine};

/// `<key> <local>:<span>:<basechan> …` per configured card; unconfigured
/// cards and idle ports stay unassigned, named in comments.
pub fn assigned_spans(layout: &Layout<'_>) -> String {
    let mut out = banner(
        "#",
        "Span and channel numbers per card, for dahdi_span_assignments.",
    );
    out.push_str("# <device key> <local span>:<span>:<first channel> ...\n");
    for card in layout
        .cards
        .iter()
        .filter(|c| !c.spans.is_empty() || !c.idle.is_empty())
    {
        let _ = writeln!(
            out,
            "\n# {} {}",
            card.detected.location(),
            card.detected.description()
        );
        if !card.spans.is_empty() {
            out.push_str(&card.key);
            for span in &card.spans {
                let _ = write!(
                    out,
                    " {}:{}:{}",
                    span.local, span.number, span.first_channel
                );
            }
            out.push('\n');
        }
        for local in &card.idle {
            let _ = writeln!(
                out,
                "# local span {local}: no [[telephony.span]] for it, left unassigned"
            );
        }
    }
    for card in &layout.unconfigured {
        if card.span_count().unwrap_or(0) > 0 {
            let _ = writeln!(
                out,
                "\n# {} {}: not configured, left unassigned (see `hwmgr propose`)",
                card.location(),
                card.description()
            );
        }
    }
    for card in &layout.absent {
        let _ = writeln!(
            out,
            "\n# {}: configured but not in the box",
            config_key(card)
        );
    }
    out
}

/// `<key> <local>:E1|T1|J1` for every configured E1/T1/J1 span of a card
/// whose driver lets the line mode be set.
pub fn span_types(layout: &Layout<'_>) -> String {
    let mut out = banner(
        "#",
        "Line mode per span, for dahdi_span_types (before assignment).",
    );
    for card in &layout.cards {
        let types: Vec<String> = card
            .spans
            .iter()
            .filter_map(|s| match &s.line {
                PlacedLine::Digital(cfg) => line_type(cfg.line).map(|t| format!("{}:{t}", s.local)),
                PlacedLine::Analog(_) => None,
            })
            .collect();
        if types.is_empty() || !card.detected.driver().supports_spantype_write() {
            continue;
        }
        let _ = writeln!(out, "{} {}", card.key, types.join(" "));
    }
    out
}

fn line_type(line: Line) -> Option<&'static str> {
    match line {
        Line::E1 => Some("E1"),
        Line::T1 => Some("T1"),
        Line::J1 => Some("J1"),
        Line::Bri => None,
    }
}
