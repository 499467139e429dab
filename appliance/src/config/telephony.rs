//! `[telephony]`: DAHDI cards, spans and analog ports — everything the
//! seed's hardware chapter had an admin do by hand in `/etc/dahdi/modules`,
//! `/etc/modprobe.d`, `system.conf` and `dahdi-channels.conf`.
//!
//! Numbers are explicit: every span says its span number and first channel,
//! so adding or removing a card never renumbers the others (`hwmgr propose`
//! writes them for the detected hardware).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::{Check, ConfigPath};
use super::index::{overlaps, FirstSeen};
use super::values::{Ident, SafeText};
use crate::path;

/// Tone zones built into libtonezone (dahdi-tools `zonedata.c`).
pub const TONE_ZONES: &[&str] = &[
    "us", "au", "fr", "nl", "uk", "fi", "es", "jp", "no", "it", "us-old", "gr", "tw", "cl", "se",
    "be", "sg", "il", "br", "hu", "lt", "pl", "za", "pt", "ee", "mx", "in", "de", "ch", "dk", "cz",
    "cn", "ar", "my", "th", "bg", "ve", "ph", "ru", "tr", "pa", "mo", "cr", "ae",
];

/// DAHDI limits (`include/dahdi/user.h`).
const MAX_SPAN: u16 = 128;
const MAX_CHANNEL: u16 = 1023;

/// Telephony hardware.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Telephony {
    /// Echo canceller for every B-channel and analog port.
    #[serde(default)]
    pub echo_canceller: EchoCanceller,
    /// Let the hardware echo canceller detect DTMF (`vpmdtmfsupport=1`;
    /// only the wct4xxp cards, TE2xx/TE4xx/TE820, have that option).
    #[serde(default)]
    pub hwec_dtmf: bool,
    /// Digital cards are daisy-chained with a sync cable (`timingcable=1`).
    #[serde(default)]
    pub sync_cable: bool,
    /// Keep BRI layer 1 up when the far end drops it (wcb4xxp
    /// `persistentlayer1`); absent: driver default (on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bri_persistent_layer1: Option<bool>,
    /// Tone zone for `loadzone`/`defaultzone` (`fr`, `us`, `de`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone_zone: Option<Ident>,
    /// Analog line settings, for the FXO/FXS driver options.
    #[serde(default)]
    pub analog: AnalogOptions,
    /// TC400 transcoding mode (120 G.729a channels, 92 G.723.1 or 92
    /// mixed); absent: the driver's default, mixed. A configured TC400 also
    /// loads Asterisk's codec_dahdi (`modules-telbox.conf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcoder_mode: Option<TranscoderMode>,
    /// Cards, matched by hardware id or PCI location.
    #[serde(default)]
    pub card: Vec<Card>,
    /// Digital spans (E1/T1/J1 PRI and BRI ports).
    #[serde(default)]
    pub span: Vec<Span>,
    /// Analog ports.
    #[serde(default)]
    pub port: Vec<Port>,
}

/// Which echo canceller DAHDI attaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EchoCanceller {
    /// The card's module (VPM…); Asterisk just turns it on. Its firmware
    /// must be installed (`appliance firmware needed` names the package).
    Hardware,
    /// DAHDI's MG2 software canceller.
    #[default]
    Mg2,
    /// The OSLEC software canceller.
    Oslec,
    /// None.
    None,
}

/// Driver options for analog modules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalogOptions {
    /// FXO line country (`opermode`), e.g. `FRANCE`; absent: `FCC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opermode: Option<String>,
    /// 25 Hz ring on FXS ports (`fastringer=1`).
    #[serde(default)]
    pub fastringer: bool,
    /// 89 V peak ring on FXS ports (`boostringer=1`).
    #[serde(default)]
    pub boostringer: bool,
}

/// TC400 transcoder channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TranscoderMode {
    /// 92 channels of G.729a or G.723.1.
    Mixed,
    /// 120 channels of G.729a.
    G729,
    /// 92 channels of G.723.1.
    G723,
}

/// A card, found by its hardware id or slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// The DAHDI hardware id (serial), for cards that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_id: Option<String>,
    /// The bus location, `pci:0000:02:00.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// E1, T1 or J1 for digital cards without jumpers (or to override them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_mode: Option<LineMode>,
    /// Span number of the card's first port; the others follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_span: Option<u16>,
}

/// A digital line's framing family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LineMode {
    E1,
    T1,
    J1,
}

/// What kind of line a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Line {
    E1,
    T1,
    J1,
    Bri,
}

impl Line {
    /// Channels the span carries (B + D).
    pub fn channels(self) -> u16 {
        match self {
            Line::E1 => 31,
            Line::T1 | Line::J1 => 24,
            Line::Bri => 3,
        }
    }
}

/// Who is on the other end of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The operator: we are the customer side and take our clock from it.
    Provider,
    /// A PBX behind us: we are the network side and give it the clock.
    Pbx,
}

/// ISDN signalling (chan_dahdi `signalling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signalling {
    PriCpe,
    PriNet,
    BriCpe,
    BriNet,
    BriCpePtmp,
    BriNetPtmp,
}

impl Signalling {
    pub fn is_bri(self) -> bool {
        !matches!(self, Signalling::PriCpe | Signalling::PriNet)
    }

    /// Network side (NT).
    pub fn is_net(self) -> bool {
        matches!(
            self,
            Signalling::PriNet | Signalling::BriNet | Signalling::BriNetPtmp
        )
    }

    /// What a role means on a line by default (BRI to an operator is
    /// point-to-multipoint, as French BRI lines are).
    pub fn default_for(role: Role, line: Line) -> Self {
        match (role, line) {
            (Role::Provider, Line::Bri) => Signalling::BriCpePtmp,
            (Role::Pbx, Line::Bri) => Signalling::BriNet,
            (Role::Provider, _) => Signalling::PriCpe,
            (Role::Pbx, _) => Signalling::PriNet,
        }
    }
}

/// ISDN switch type (chan_dahdi `switchtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Switchtype {
    Euroisdn,
    National,
    Ni1,
    Dms100,
    #[serde(rename = "4ess")]
    FourEss,
    #[serde(rename = "5ess")]
    FiveEss,
    Qsig,
}

/// Frame format (system.conf `span=` framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    Ccs,
    Cas,
    Esf,
    D4,
}

/// Line code (system.conf `span=` coding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Coding {
    Hdb3,
    B8zs,
    Ami,
}

/// chan_dahdi `overlapdial`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OverlapDial {
    #[default]
    No,
    Yes,
    Incoming,
    Outgoing,
}

/// BRI layer-1/layer-2 handling (chan_dahdi `layer1_presence` and
/// `layer2_persistence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BriPersistence {
    /// Layers come up on demand (`ignore` + `leave_down`).
    LeaveDown,
    /// Layers are kept up (`required` + `keep_up`).
    KeepUp,
}

/// One digital span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// DAHDI span number (1–128).
    pub span: u16,
    /// E1, T1, J1 or BRI.
    pub line: Line,
    /// Global number of the span's first channel (1–1023).
    pub first_channel: u16,
    /// Operator side or PBX side.
    pub role: Role,
    /// Absent: `pri_cpe`/`bri_cpe_ptmp` towards a provider, `pri_net`/`bri_net` towards a PBX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signalling: Option<Signalling>,
    /// Absent: `euroisdn` on E1 and BRI, `national` on T1/J1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchtype: Option<Switchtype>,
    /// Clock priority (1 = first source, 0 = never); absent: providers in
    /// span order 1, 2…, PBX spans 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<u8>,
    /// Absent: `ccs` on E1 and BRI, `esf` on T1/J1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framing: Option<Framing>,
    /// Absent: `hdb3` on E1, `b8zs` on T1/J1, `ami` on BRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coding: Option<Coding>,
    /// CRC4 multiframe (E1 only); absent: on (French lines usually want it off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc4: Option<bool>,
    /// Asterisk context for incoming calls.
    pub context: Ident,
    /// chan_dahdi groups (0–63).
    #[serde(default)]
    pub groups: Vec<u8>,
    /// Digits sent one by one (PBXs often need `incoming`).
    #[serde(default)]
    pub overlap_dial: OverlapDial,
    /// BRI only; absent: chan_dahdi defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bri_persistence: Option<BriPersistence>,
}

impl Span {
    /// Channel numbers this span occupies.
    pub fn channels(&self) -> std::ops::RangeInclusive<u16> {
        self.first_channel..=self.first_channel.saturating_add(self.line.channels() - 1)
    }

    pub fn signalling(&self) -> Signalling {
        self.signalling
            .unwrap_or_else(|| Signalling::default_for(self.role, self.line))
    }
}

/// Which kind of analog module a port has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortKind {
    /// A phone or fax plugs in (FXO signalling).
    Fxs,
    /// A telephone line plugs in (FXS signalling).
    Fxo,
}

/// One analog port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// Global channel number.
    pub channel: u16,
    /// FXS (a phone plugs in) or FXO (a telephone line plugs in).
    pub kind: PortKind,
    /// Asterisk context for calls from this port.
    pub context: Ident,
    /// chan_dahdi group (0–63).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u8>,
    /// Caller name shown for an FXS port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid_name: Option<SafeText>,
    /// Caller number (digits) for an FXS port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid_number: Option<String>,
    /// Voicemail box, `number[@context]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
}

/// `opermode` country names the analog drivers accept (`fxo_modes.h`).
pub const OPERMODES: &[&str] = &[
    "FCC",
    "TBR21",
    "ARGENTINA",
    "AUSTRALIA",
    "AUSTRIA",
    "BAHRAIN",
    "BELGIUM",
    "BRAZIL",
    "BULGARIA",
    "CANADA",
    "CHILE",
    "CHINA",
    "COLOMBIA",
    "CROATIA",
    "CYPRUS",
    "CZECH",
    "DENMARK",
    "ECUADOR",
    "EGYPT",
    "ELSALVADOR",
    "FINLAND",
    "FRANCE",
    "GERMANY",
    "GREECE",
    "GUAM",
    "HONGKONG",
    "HUNGARY",
    "ICELAND",
    "INDIA",
    "INDONESIA",
    "IRELAND",
    "ISRAEL",
    "ITALY",
    "JAPAN",
    "JORDAN",
    "KAZAKHSTAN",
    "KUWAIT",
    "LATVIA",
    "LEBANON",
    "LUXEMBOURG",
    "MACAO",
    "MALAYSIA",
    "MALTA",
    "MEXICO",
    "MOROCCO",
    "NETHERLANDS",
    "NEWZEALAND",
    "NIGERIA",
    "NORWAY",
    "OMAN",
    "PAKISTAN",
    "PERU",
    "PHILIPPINES",
    "POLAND",
    "PORTUGAL",
    "ROMANIA",
    "RUSSIA",
    "SAUDIARABIA",
    "SINGAPORE",
    "SLOVAKIA",
    "SLOVENIA",
    "SOUTHAFRICA",
    "SOUTHKOREA",
    "SPAIN",
    "SWEDEN",
    "SWITZERLAND",
    "SYRIA",
    "TAIWAN",
    "THAILAND",
    "UAE",
    "UK",
    "USA",
    "YEMEN",
];

impl Telephony {
    pub fn validate(&self, cx: &mut Check) {
        self.validate_globals(cx);
        self.card
            .iter()
            .enumerate()
            .for_each(|(i, c)| c.validate(i, cx));
        self.check_cards_once(cx);
        let mut numbers = FirstSeen::new();
        for (i, span) in self.span.iter().enumerate() {
            span.validate(i, cx);
            if numbers.seen(span.span, i).is_some() {
                cx.error(
                    path!["telephony", "span", i, "span"],
                    format!("span {} is configured twice", span.span),
                );
            }
        }
        self.validate_timing(cx);
        self.validate_channels(cx);
        self.port
            .iter()
            .enumerate()
            .for_each(|(i, p)| p.validate(i, cx));
    }

    fn validate_globals(&self, cx: &mut Check) {
        if let Some(zone) = self
            .tone_zone
            .as_ref()
            .filter(|z| !TONE_ZONES.contains(&z.as_str()))
        {
            let help = match crate::config::parse::suggestion(
                zone.as_str(),
                &TONE_ZONES.iter().map(|z| z.to_string()).collect::<Vec<_>>(),
            ) {
                Some(s) => format!("did you mean `{s}`? known zones: {}", TONE_ZONES.join(" ")),
                None => format!("known zones: {}", TONE_ZONES.join(" ")),
            };
            cx.error_help(
                path!["telephony", "tone_zone"],
                format!(
                    "tone zone `{zone}` is not one libtonezone knows; dahdi_cfg would refuse it"
                ),
                help,
            );
        }
        if let Some(mode) = &self.analog.opermode {
            if !OPERMODES.contains(&mode.as_str()) {
                cx.error_help(
                    path!["telephony", "analog", "opermode"],
                    format!(
                        "`{}` is not a country the analog drivers know (module load would fail)",
                        mode.escape_debug()
                    ),
                    "use an upper-case name such as FRANCE, GERMANY, UK, FCC",
                );
            }
        }
        if self.hwec_dtmf && self.echo_canceller != EchoCanceller::Hardware {
            cx.error_help(
                path!["telephony", "hwec_dtmf"],
                "DTMF detection by the hardware echo canceller needs `echo_canceller = \"hardware\"`",
                "set `echo_canceller = \"hardware\"` or drop `hwec_dtmf`",
            );
        }
    }

    /// A card is matched by its hardware id or location once.
    fn check_cards_once(&self, cx: &mut Check) {
        let (mut ids, mut locations) = (FirstSeen::new(), FirstSeen::new());
        for (i, c) in self.card.iter().enumerate() {
            let id = c.hardware_id.as_ref().and_then(|h| ids.seen(h, i));
            let loc = c.location.as_ref().and_then(|l| locations.seen(l, i));
            if id.or(loc).is_some() {
                cx.error(
                    path!["telephony", "card", i],
                    "this card is configured twice",
                );
            }
        }
    }

    /// Two spans may not claim the same clock priority.
    fn validate_timing(&self, cx: &mut Check) {
        let mut priorities = FirstSeen::new();
        for (i, span) in self.span.iter().enumerate() {
            let Some(t) = span.timing.filter(|t| *t > 0) else {
                continue;
            };
            if let Some(first) = priorities.seen(t, i) {
                cx.error(
                    path!["telephony", "span", i, "timing"],
                    format!(
                        "span {} already has clock priority {t}",
                        self.span[first].span
                    ),
                );
            }
        }
    }

    /// Every channel belongs to at most one span or port.
    fn validate_channels(&self, cx: &mut Check) {
        let spans = self
            .span
            .iter()
            .enumerate()
            .map(|(i, s)| (path!["telephony", "span", i, "first_channel"], s.channels()));
        let ports = self.port.iter().enumerate().map(|(i, p)| {
            (
                path!["telephony", "port", i, "channel"],
                p.channel..=p.channel,
            )
        });
        let all: Vec<(ConfigPath, std::ops::RangeInclusive<u16>)> = spans.chain(ports).collect();
        let ranges: Vec<_> = all.iter().map(|(_, r)| r.clone()).collect();
        let overlapping = overlaps(&ranges);
        for (i, (p, r)) in all.iter().enumerate() {
            if *r.end() > MAX_CHANNEL || *r.start() == 0 {
                cx.error(
                    p.clone(),
                    format!(
                        "channels {}-{} are outside 1–{MAX_CHANNEL}",
                        r.start(),
                        r.end()
                    ),
                );
            }
            if let Some((q, _)) = overlapping.get(&i).map(|j| &all[*j]) {
                cx.error(
                    p.clone(),
                    format!("channels {}-{} overlap those of `{q}`", r.start(), r.end()),
                );
            }
        }
    }
}

impl Card {
    fn validate(&self, i: usize, cx: &mut Check) {
        let at = |k: &str| path!["telephony", "card", i, k];
        match (&self.hardware_id, &self.location) {
            (Some(_), Some(_)) | (None, None) => cx.error_help(
                path!["telephony", "card", i],
                "a card is matched by exactly one of `hardware_id` and `location`",
                "use `hardware_id` when `hwmgr scan --json` shows one, else `location = \"pci:…\"`",
            ),
            (Some(id), None) => check_token(id, at("hardware_id"), cx),
            (None, Some(loc)) => {
                check_token(loc, at("location"), cx);
                if !loc.starts_with("pci:") && !loc.starts_with("usb:") {
                    cx.error(
                        at("location"),
                        format!("`{}` is not `pci:…` or `usb:…`", loc.escape_debug()),
                    );
                }
            }
        }
        if let Some(n) = self.first_span {
            if n == 0 || n > MAX_SPAN {
                cx.error(
                    at("first_span"),
                    format!("span {n} is outside 1–{MAX_SPAN}"),
                );
            }
        }
    }
}

/// Hardware ids and locations end up in assigned-spans.conf, one word per
/// field: no blanks, no comment or glob characters.
fn check_token(s: &str, p: ConfigPath, cx: &mut Check) {
    let ok = |c: char| c.is_ascii_alphanumeric() || "/:.-_@".contains(c);
    if s.is_empty() || !s.chars().all(ok) {
        cx.error(
            p,
            format!(
                "`{}` may only hold letters, digits and / : . - _ @",
                s.escape_debug()
            ),
        );
    }
}

impl Span {
    fn validate(&self, i: usize, cx: &mut Check) {
        let at = |k: &str| path!["telephony", "span", i, k];
        if self.span == 0 || self.span > MAX_SPAN {
            cx.error(
                at("span"),
                format!("span {} is outside 1–{MAX_SPAN}", self.span),
            );
        }
        let sig = self.signalling();
        if sig.is_bri() != (self.line == Line::Bri) {
            cx.error_help(
                at("signalling"),
                format!("{sig:?} signalling does not fit a {:?} span", self.line),
                "use pri_cpe/pri_net on E1/T1/J1 and bri_* on BRI",
            );
        }
        if sig.is_net() != (self.role == Role::Pbx) {
            let side = if sig.is_net() {
                "network (NT)"
            } else {
                "customer (TE)"
            };
            cx.error_help(
                at("signalling"),
                format!(
                    "{sig:?} is the {side} side, which does not match role {:?}",
                    self.role
                ),
                "towards a provider use *_cpe, towards a PBX use *_net",
            );
        }
        if self.timing.is_some_and(|t| t > 0) && self.role == Role::Pbx {
            cx.error_help(
                at("timing"),
                "a PBX span gives the clock and must not be a clock source",
                "set `timing = 0` or remove it",
            );
        }
        self.validate_line_format(i, cx);
        for (g, group) in self.groups.iter().enumerate() {
            if *group > 63 {
                cx.error(
                    path!["telephony", "span", i, "groups", g],
                    format!("group {group} is outside 0–63"),
                );
            }
        }
        if self.bri_persistence.is_some() && self.line != Line::Bri {
            cx.error(
                at("bri_persistence"),
                "layer persistence applies to BRI spans only",
            );
        }
    }

    fn validate_line_format(&self, i: usize, cx: &mut Check) {
        let at = |k: &str| path!["telephony", "span", i, k];
        let (framings, codings): (&[Framing], &[Coding]) = match self.line {
            Line::E1 => (&[Framing::Ccs, Framing::Cas], &[Coding::Hdb3, Coding::Ami]),
            Line::T1 | Line::J1 => (&[Framing::Esf, Framing::D4], &[Coding::B8zs, Coding::Ami]),
            Line::Bri => (&[Framing::Ccs], &[Coding::Ami]),
        };
        if let Some(f) = self.framing.filter(|f| !framings.contains(f)) {
            cx.error(
                at("framing"),
                format!(
                    "{f:?} framing does not exist on a {:?} span (use {framings:?})",
                    self.line
                ),
            );
        }
        if let Some(c) = self.coding.filter(|c| !codings.contains(c)) {
            cx.error(
                at("coding"),
                format!(
                    "{c:?} coding does not exist on a {:?} span (use {codings:?})",
                    self.line
                ),
            );
        }
        if self.crc4.is_some() && self.line != Line::E1 {
            cx.error(at("crc4"), "CRC4 exists on E1 spans only");
        }
    }
}

impl Port {
    fn validate(&self, i: usize, cx: &mut Check) {
        let at = |k: &str| path!["telephony", "port", i, k];
        if self.group.is_some_and(|g| g > 63) {
            cx.error(at("group"), "group is outside 0–63");
        }
        if let Some(n) = &self.callerid_number {
            if n.is_empty() || n.len() > 20 || !n.chars().all(|c| c.is_ascii_digit()) {
                cx.error(
                    at("callerid_number"),
                    format!("`{}` must be 1–20 digits", n.escape_debug()),
                );
            }
        }
        if let Some(m) = &self.mailbox {
            let (num, ctx) = m.split_once('@').unwrap_or((m, "default"));
            let ctx_ok = ctx.parse::<Ident>().is_ok();
            if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) || !ctx_ok {
                cx.error(
                    at("mailbox"),
                    format!("`{}` is not `number[@context]`", m.escape_debug()),
                );
            }
        }
        let caller_id = self.callerid_name.is_some() || self.callerid_number.is_some();
        if self.kind == PortKind::Fxo && (caller_id || self.mailbox.is_some()) {
            cx.error(
                at("kind"),
                "caller id and mailbox belong to FXS ports (phones), not FXO lines",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> Vec<String> {
        let t: Telephony = toml::from_str(toml_text).expect("parses");
        let mut cx = Check::new();
        t.validate(&mut cx);
        cx.into_diagnostics()
            .into_iter()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect()
    }

    const FOUR_SPANS: &str = r#"
        [[card]]
        location = "pci:0000:02:00.0"
        [[span]]
        span = 1
        line = "e1"
        first_channel = 1
        role = "provider"
        timing = 1
        context = "from-extern"
        groups = [0, 11]
        [[span]]
        span = 2
        line = "e1"
        first_channel = 32
        role = "provider"
        timing = 2
        context = "from-extern"
        [[span]]
        span = 3
        line = "e1"
        first_channel = 63
        role = "pbx"
        context = "from-pabx"
        overlap_dial = "incoming"
        [[span]]
        span = 4
        line = "e1"
        first_channel = 94
        role = "pbx"
        crc4 = false
        context = "from-pabx"
        [[port]]
        channel = 125
        kind = "fxs"
        context = "default"
        callerid_number = "4032"
        mailbox = "4032"
    "#;

    #[test]
    fn the_seed_four_span_card_is_valid() {
        assert_eq!(check(FOUR_SPANS), Vec::<String>::new());
        let t: Telephony = toml::from_str(FOUR_SPANS).unwrap();
        assert_eq!(t.span[2].signalling(), Signalling::PriNet);
        assert_eq!(t.span[0].signalling(), Signalling::PriCpe);
        assert_eq!(t.span[3].channels(), 94..=124);
    }

    #[test]
    fn duplicate_spans_and_overlapping_channels_are_reported() {
        let text = FOUR_SPANS
            .replace("span = 2\n", "span = 1\n")
            .replace("first_channel = 63", "first_channel = 60");
        let p = check(&text);
        assert!(
            p.iter()
                .any(|m| m == "telephony.span[1].span: span 1 is configured twice"),
            "{p:#?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("telephony.span[2].first_channel: channels 60-90 overlap")),
            "{p:#?}"
        );
    }

    #[test]
    fn signalling_must_fit_line_and_role() {
        let text = FOUR_SPANS.replacen(
            "role = \"provider\"\n        timing = 1",
            "role = \"provider\"\n        signalling = \"bri_cpe\"",
            1,
        );
        let p = check(&text);
        assert!(
            p.iter().any(|m| m.contains("does not fit a E1 span")),
            "{p:#?}"
        );
        let text = FOUR_SPANS.replacen("role = \"pbx\"", "role = \"pbx\"\n        timing = 3", 1);
        assert!(check(&text)
            .iter()
            .any(|m| m.contains("must not be a clock source")));
    }

    #[test]
    fn line_format_and_values_that_break_files_are_rejected() {
        let text = FOUR_SPANS.replacen(
            "groups = [0, 11]",
            "groups = [0, 64]\n        coding = \"b8zs\"",
            1,
        );
        let p = check(&text);
        assert!(p.iter().any(|m| m.contains("group 64")), "{p:#?}");
        assert!(
            p.iter().any(|m| m.contains("B8zs coding does not exist")),
            "{p:#?}"
        );
        assert!(
            toml::from_str::<Telephony>(&FOUR_SPANS.replace("from-pabx", "x\\nspan=9")).is_err()
        );
        let bad = FOUR_SPANS.replace("pci:0000:02:00.0", "pci:0000:02:00.0 # x");
        assert!(check(&bad)
            .iter()
            .any(|m| m.starts_with("telephony.card[0].location")));
    }

    #[test]
    fn analog_options_are_checked() {
        let p = check("[analog]\nopermode = \"france\"\n[[port]]\nchannel = 5\nkind = \"fxo\"\ncontext = \"from-pstn\"\nmailbox = \"12\"\n");
        assert_eq!(p.len(), 2, "{p:#?}");
    }
}
