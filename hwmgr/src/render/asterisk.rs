//! `/etc/asterisk/dahdi-channels.conf`, and the telbox-owned
//! `/etc/asterisk/chan_dahdi-telbox.conf` and `modules-telbox.conf`.
//!
//! chan_dahdi options are sticky: each `channel =>` line takes whatever was
//! set above it. So every block sets every option telbox ever uses for its
//! kind of channel (ISDN or analog), with the neutral value when the
//! config says nothing: nothing carries over from the block before.

use std::fmt::Write as _;

use appliance::config::telephony::{
    BriPersistence, EchoCanceller, Line, OverlapDial, Port, PortKind, Signalling, Span, Switchtype,
    Telephony,
};

use super::banner;
use super::chanlist::ChannelList;
use super::layout::{Layout, PlacedLine, PlacedSpan};
use crate::catalog::CardKind;

/// Options every ISDN span block sets, in order.
pub const ISDN_OPTIONS: &[&str] = &[
    "signalling",
    "switchtype",
    "context",
    "group",
    "overlapdial",
    "layer1_presence",
    "layer2_persistence",
    "callerid",
    "mailbox",
];

/// Options every analog port block sets, in order.
pub const ANALOG_OPTIONS: &[&str] = &["signalling", "context", "group", "callerid", "mailbox"];

/// The channel blocks, by span number.
pub fn dahdi_channels(layout: &Layout<'_>) -> String {
    let mut out = banner(
        ";",
        "chan_dahdi channels; included from chan_dahdi.conf [channels].",
    );
    for span in layout.spans() {
        let card = layout.card_of(span);
        match &span.line {
            PlacedLine::Digital(cfg) => {
                let _ = writeln!(
                    out,
                    "\n; Span {}: {}",
                    span.number,
                    span.label(card.detected)
                );
                isdn_block(&mut out, span, cfg);
            }
            PlacedLine::Analog(ports) => {
                let mut ports = ports.clone();
                ports.sort_by_key(|p| p.channel);
                for port in ports {
                    let _ = writeln!(
                        out,
                        "\n; Span {}: {}, port {}",
                        span.number,
                        span.label(card.detected),
                        port.channel - span.first_channel + 1
                    );
                    port_block(&mut out, port);
                }
            }
        }
    }
    out
}

/// `key = value`; an empty value clears the option.
fn option(out: &mut String, key: &str, value: &str) {
    if value.is_empty() {
        let _ = writeln!(out, "{key} =");
    } else {
        let _ = writeln!(out, "{key} = {value}");
    }
}

fn isdn_block(out: &mut String, span: &PlacedSpan<'_>, cfg: &Span) {
    let d = span.first_channel
        + if cfg.line == Line::E1 {
            15
        } else {
            span.channels - 1
        };
    let bchans = ChannelList::range_without(span.first_channel, span.last_channel(), &[d]);
    let (layer1, layer2) = match cfg.bri_persistence {
        Some(BriPersistence::LeaveDown) => ("ignore", "leave_down"),
        Some(BriPersistence::KeepUp) => ("required", "keep_up"),
        None => ("required", "default"),
    };
    let values = [
        signalling(cfg.signalling()),
        switchtype(cfg),
        cfg.context.as_str(),
        &groups(&cfg.groups),
        overlap(cfg.overlap_dial),
        layer1,
        layer2,
        "asreceived",
        "",
    ];
    for (key, value) in ISDN_OPTIONS.iter().zip(values) {
        option(out, key, value);
    }
    let _ = writeln!(out, "channel => {bchans}");
}

fn port_block(out: &mut String, port: &Port) {
    let sig = match port.kind {
        PortKind::Fxs => "fxo_ks",
        PortKind::Fxo => "fxs_ks",
    };
    let group = port.group.map(|g| g.to_string()).unwrap_or_default();
    let values = [
        sig,
        port.context.as_str(),
        &group,
        &callerid(port),
        port.mailbox.as_deref().unwrap_or(""),
    ];
    for (key, value) in ANALOG_OPTIONS.iter().zip(values) {
        option(out, key, value);
    }
    let _ = writeln!(out, "channel => {}", ChannelList::single(port.channel));
}

/// `"Name" <number>`, or `asreceived` (no caller id of our own).
fn callerid(port: &Port) -> String {
    match (&port.callerid_name, &port.callerid_number) {
        (Some(name), Some(num)) => format!("\"{}\" <{num}>", name.as_str()),
        (Some(name), None) => format!("\"{}\"", name.as_str()),
        (None, Some(num)) => format!("<{num}>"),
        (None, None) => "asreceived".to_owned(),
    }
}

fn groups(groups: &[u8]) -> String {
    groups
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub fn signalling(s: Signalling) -> &'static str {
    match s {
        Signalling::PriCpe => "pri_cpe",
        Signalling::PriNet => "pri_net",
        Signalling::BriCpe => "bri_cpe",
        Signalling::BriNet => "bri_net",
        Signalling::BriCpePtmp => "bri_cpe_ptmp",
        Signalling::BriNetPtmp => "bri_net_ptmp",
    }
}

fn switchtype(span: &Span) -> &'static str {
    let default = match span.line {
        Line::E1 | Line::Bri => Switchtype::Euroisdn,
        Line::T1 | Line::J1 => Switchtype::National,
    };
    match span.switchtype.unwrap_or(default) {
        Switchtype::Euroisdn => "euroisdn",
        Switchtype::National => "national",
        Switchtype::Ni1 => "ni1",
        Switchtype::Dms100 => "dms100",
        Switchtype::FourEss => "4ess",
        Switchtype::FiveEss => "5ess",
        Switchtype::Qsig => "qsig",
    }
}

fn overlap(o: OverlapDial) -> &'static str {
    match o {
        OverlapDial::No => "no",
        OverlapDial::Yes => "yes",
        OverlapDial::Incoming => "incoming",
        OverlapDial::Outgoing => "outgoing",
    }
}

/// The telbox part of chan_dahdi.conf: whether Asterisk turns the echo
/// canceller on (DAHDI's system.conf picks which one).
pub fn chan_dahdi_telbox(tel: &Telephony) -> String {
    let mut out = banner(";", "chan_dahdi settings telbox owns.");
    out.push_str(
        "; chan_dahdi.conf (yours) includes it in [channels], before the channels:\n\
         ;   #include chan_dahdi-telbox.conf\n\
         ;   #include dahdi-channels.conf\n\
         ; BRI layer1_presence/layer2_persistence are set per span in dahdi-channels.conf.\n",
    );
    let on = tel.echo_canceller != EchoCanceller::None;
    option(&mut out, "echocancel", if on { "yes" } else { "no" });
    option(&mut out, "echocancelwhenbridged", "no");
    out
}

/// Whether a configured card in the box is a transcoder (TC400).
pub fn has_transcoder(layout: &Layout<'_>) -> bool {
    layout
        .cards
        .iter()
        .any(|c| matches!(c.detected.kind(), Some(CardKind::Transcoder)))
}

/// The telbox part of modules.conf: Asterisk's DAHDI transcoder interface
/// (`codec_dahdi`) is loaded when a TC400 is configured, and kept out
/// otherwise (it would claim a transcoder telbox does not manage).
pub fn modules_telbox(layout: &Layout<'_>) -> String {
    let mut out = banner(";", "Asterisk modules telbox owns.");
    out.push_str(
        "; modules.conf (yours) includes it in [modules]:\n\
         ;   #include modules-telbox.conf\n",
    );
    let verb = if has_transcoder(layout) {
        "load"
    } else {
        "noload"
    };
    let _ = writeln!(out, "{verb} => codec_dahdi.so");
    out
}
