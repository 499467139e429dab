//! Generation of every DAHDI, Asterisk and modprobe file telbox owns, from
//! the `[telephony]` section and the detected hardware.
//!
//! [`render`] is pure: it returns the files with their absolute system
//! paths; sysconfd writes them (atomically, under its root) and then runs
//! the [`apply_steps`] in order. Admin additions live in files telbox
//! never writes: `chan_dahdi.conf` includes [`CHAN_DAHDI_TELBOX`] and
//! [`DAHDI_CHANNELS`], `modules.conf` includes [`MODULES_TELBOX`], other
//! `/etc/modprobe.d` files stay untouched.
//!
//! Which firmware files are installed is observed state the caller passes
//! in ([`FirmwarePresence`]): a card that cannot work without a missing
//! file is refused here, at plan time, naming the package to install.

mod asterisk;
mod chanlist;
mod firmware;
mod layout;
mod modules;
mod spans;
mod steps;
mod system;

use std::path::PathBuf;

use appliance::config::telephony::{Line, Telephony};
use serde::Serialize;

use crate::catalog::SpanType;
use crate::detect::Inventory;
use crate::firmware::FirmwarePresence;

pub use chanlist::ChannelList;
pub use firmware::MissingFirmware;
pub use layout::{lay_out, Layout, PlacedCard, PlacedLine, PlacedSpan};
pub use steps::{apply_steps, AsteriskCommand, DahdiStep};

/// Drivers `dahdi` loads at start, one per line.
pub const MODULES: &str = "/etc/dahdi/modules";
/// Driver options telbox sets.
pub const MODPROBE_CONF: &str = "/etc/modprobe.d/telbox-dahdi.conf";
/// E1/T1/J1 per span, applied before assignment.
pub const SPAN_TYPES: &str = "/etc/dahdi/span-types.conf";
/// Span and channel numbers per device.
pub const ASSIGNED_SPANS: &str = "/etc/dahdi/assigned-spans.conf";
/// Span lines and channel signalling for `dahdi_cfg`.
pub const SYSTEM_CONF: &str = "/etc/dahdi/system.conf";
/// chan_dahdi channel blocks.
pub const DAHDI_CHANNELS: &str = "/etc/asterisk/dahdi-channels.conf";
/// The telbox-owned chan_dahdi settings.
pub const CHAN_DAHDI_TELBOX: &str = "/etc/asterisk/chan_dahdi-telbox.conf";
/// The Asterisk modules telbox loads or keeps out (codec_dahdi for a TC400).
pub const MODULES_TELBOX: &str = "/etc/asterisk/modules-telbox.conf";

/// Tone zones built into libtonezone; the config model checks against the same list.
pub use appliance::config::telephony::TONE_ZONES;

/// Errors turning the config into files for this hardware.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("card {card} has {spans} span(s): give it `first_span` so its span numbers never depend on probe order")]
    NoFirstSpan { card: String, spans: u32 },
    #[error("span {span} is configured as {line:?} but port of card {card} is {hardware}")]
    LineMismatch {
        span: u16,
        card: String,
        hardware: SpanType,
        line: Line,
    },
    #[error("span {span}: the jumpers of card {card} make this port {hardware}; set `role` to match (provider = TE, pbx = NT) or move the jumper")]
    TeNtJumper {
        span: u16,
        card: String,
        hardware: SpanType,
    },
    #[error("analog card {card}: its number of ports is unknown (driver not loaded and not in the catalog)")]
    UnknownPortCount { card: String },
    #[error("analog card {card} follows card {absent}, which is not in the box: its channels cannot be placed")]
    AnalogAfterAbsent { card: String, absent: String },
    #[error("tone zone `{0}` is not one libtonezone knows (dahdi_cfg would refuse defaultzone); use one of: {zones}", zones = TONE_ZONES.join(" "))]
    UnknownToneZone(String),
    #[error("span {span} collides with span {other} (same number or overlapping channels); move the analog card's `first_span` after the digital spans")]
    Collision { span: u16, other: u16 },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    MissingFirmware(Vec<MissingFirmware>),
    #[error("`hwec_dtmf` asks the echo canceller to detect DTMF, but no configured card's driver has that option (only wct4xxp has `vpmdtmfsupport`); drop `hwec_dtmf`")]
    NoDtmfOption,
}

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedFile {
    /// Absolute path on the system.
    pub path: PathBuf,
    pub contents: String,
    /// Permission bits.
    pub mode: u32,
}

impl GeneratedFile {
    fn new(path: &str, contents: String) -> Self {
        Self {
            path: PathBuf::from(path),
            contents,
            mode: 0o644,
        }
    }
}

/// The first lines of every generated file (`comment` is `#` or `;`).
fn banner(comment: &str, what: &str) -> String {
    format!(
        "{comment} {what}\n{comment} Written by telbox from the [telephony] section of appliance.toml;\n\
         {comment} any change here is replaced on the next apply.\n"
    )
}

/// Every file telbox owns, for this config on this hardware with this
/// firmware installed.
pub fn render(
    telephony: &Telephony,
    inventory: &Inventory,
    firmware: &FirmwarePresence,
) -> Result<Vec<GeneratedFile>, RenderError> {
    if let Some(zone) = telephony
        .tone_zone
        .as_ref()
        .filter(|z| !TONE_ZONES.contains(&z.as_str()))
    {
        return Err(RenderError::UnknownToneZone(zone.as_str().to_owned()));
    }
    let layout = lay_out(telephony, inventory)?;
    let missing = firmware::missing(telephony, &layout, firmware);
    if !missing.is_empty() {
        return Err(RenderError::MissingFirmware(missing));
    }
    let dtmf = crate::catalog::ModuleParam::VpmDtmfSupport;
    if telephony.hwec_dtmf && !layout.cards.is_empty() && !modules::any_accepts(&layout, dtmf) {
        return Err(RenderError::NoDtmfOption);
    }
    Ok(vec![
        GeneratedFile::new(MODULES, modules::dahdi_modules(telephony, inventory)),
        GeneratedFile::new(
            MODPROBE_CONF,
            modules::modprobe_conf(telephony, &layout, inventory),
        ),
        GeneratedFile::new(SPAN_TYPES, spans::span_types(&layout)),
        GeneratedFile::new(ASSIGNED_SPANS, spans::assigned_spans(&layout)),
        GeneratedFile::new(SYSTEM_CONF, system::system_conf(telephony, &layout)),
        GeneratedFile::new(DAHDI_CHANNELS, asterisk::dahdi_channels(&layout)),
        GeneratedFile::new(CHAN_DAHDI_TELBOX, asterisk::chan_dahdi_telbox(telephony)),
        GeneratedFile::new(MODULES_TELBOX, asterisk::modules_telbox(&layout)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_tone_zone_is_refused_before_anything_is_written() {
        let mut tel = Telephony {
            tone_zone: Some("fr".parse().unwrap()),
            ..Telephony::default()
        };
        let none = FirmwarePresence::default();
        let files = render(&tel, &Inventory::default(), &none).unwrap();
        let system = &files
            .iter()
            .find(|f| f.path.ends_with("system.conf"))
            .unwrap()
            .contents;
        assert!(
            system.ends_with("loadzone=fr\ndefaultzone=fr\n"),
            "{system}"
        );
        tel.tone_zone = Some("xx".parse().unwrap());
        assert_eq!(
            render(&tel, &Inventory::default(), &none),
            Err(RenderError::UnknownToneZone("xx".into()))
        );
    }
}
