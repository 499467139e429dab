//! What a card is made of: span types, line modes, echo cancellers.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::CatalogError;

/// A span type as the kernel names it (`dahdi_spantype2str`), found in
/// sysfs `spantype` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanType {
    Fxs,
    Fxo,
    AnalogMixed,
    E1,
    T1,
    J1,
    BriNt,
    BriTe,
    BriSoft,
    Dynamic,
    Invalid,
}

impl SpanType {
    const ALL: [(SpanType, &'static str); 11] = [
        (SpanType::Fxs, "FXS"),
        (SpanType::Fxo, "FXO"),
        (SpanType::AnalogMixed, "ANALOG_MIXED"),
        (SpanType::E1, "E1"),
        (SpanType::T1, "T1"),
        (SpanType::J1, "J1"),
        (SpanType::BriNt, "BRI_NT"),
        (SpanType::BriTe, "BRI_TE"),
        (SpanType::BriSoft, "BRI_SOFT"),
        (SpanType::Dynamic, "DYNAMIC"),
        (SpanType::Invalid, "INVALID"),
    ];

    /// The kernel's spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map(|(_, s)| *s)
            .unwrap_or("INVALID")
    }

    /// E1, T1 or J1: a line whose mode `span-types.conf` may change.
    pub fn line_mode(self) -> Option<LineMode> {
        match self {
            SpanType::E1 => Some(LineMode::E1),
            SpanType::T1 => Some(LineMode::T1),
            SpanType::J1 => Some(LineMode::J1),
            _ => None,
        }
    }

    pub fn is_bri(self) -> bool {
        matches!(self, SpanType::BriNt | SpanType::BriTe | SpanType::BriSoft)
    }

    pub fn is_analog(self) -> bool {
        matches!(self, SpanType::Fxs | SpanType::Fxo | SpanType::AnalogMixed)
    }

    pub fn is_digital(self) -> bool {
        self.line_mode().is_some() || self.is_bri()
    }
}

impl fmt::Display for SpanType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpanType {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(s))
            .map(|(t, _)| *t)
            .ok_or_else(|| CatalogError::UnknownSpanType(s.to_owned()))
    }
}

impl Serialize for SpanType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The framing family of a digital trunk line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum LineMode {
    E1,
    T1,
    J1,
}

impl LineMode {
    /// Channels one span of this mode carries (31 for E1, 24 for T1/J1).
    pub fn channels(self) -> u32 {
        match self {
            LineMode::E1 => 31,
            LineMode::T1 | LineMode::J1 => 24,
        }
    }

    /// The span type a span in this mode reports.
    pub fn span_type(self) -> SpanType {
        match self {
            LineMode::E1 => SpanType::E1,
            LineMode::T1 => SpanType::T1,
            LineMode::J1 => SpanType::J1,
        }
    }

    /// The value of the drivers' `default_linemode` parameter.
    pub fn module_value(self) -> &'static str {
        match self {
            LineMode::E1 => "e1",
            LineMode::T1 => "t1",
            LineMode::J1 => "j1",
        }
    }
}

impl fmt::Display for LineMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.span_type().as_str())
    }
}

/// How a digital card's E1/T1/J1 mode is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum LineModeSelect {
    /// Per-port hardware jumpers; `default_linemode=auto` honours them and the
    /// module option can still force a mode.
    Jumper,
    /// No jumper: the driver's `default_linemode` option (or span-types.conf
    /// before assignment) decides, with this default.
    ModuleOption { default: LineMode },
    /// Fixed by the board model.
    Fixed { mode: LineMode },
    /// Not documented for this driver.
    Unknown,
}

/// The family of ports a card carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CardKind {
    /// E1/T1/J1 PRI ports.
    Digital {
        spans: Option<u8>,
        line_mode: LineModeSelect,
    },
    /// ISDN BRI S/T ports (2 B-channels and a D-channel each).
    Bri {
        spans: Option<u8>,
        te_nt: TeNtSelect,
    },
    /// One analog span of FXS/FXO module ports.
    Analog { ports: Option<u8> },
    /// A codec transcoder (no span).
    Transcoder,
    /// A radio interface.
    Radio,
    /// A GSM card.
    Gsm,
}

impl CardKind {
    /// How many DAHDI spans the card registers, when known.
    pub fn span_count(&self) -> Option<u8> {
        match self {
            CardKind::Digital { spans, .. } | CardKind::Bri { spans, .. } => *spans,
            CardKind::Analog { .. } | CardKind::Radio | CardKind::Gsm => Some(1),
            CardKind::Transcoder => Some(0),
        }
    }
}

/// How a BRI port's TE/NT role is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TeNtSelect {
    /// Jumpers on the card, read by the driver (B410P).
    Jumper,
    /// The `span=` line's `te`/`nt`/`term` options (B43x/B23x).
    SpanLine,
    /// Driver-specific or unknown.
    Unknown,
}

/// An echo canceller a card can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EchoCanceller {
    /// Name the driver reports in `ec_factory` (`VPMOCT128`, `VPMADT032`…).
    pub name: &'static str,
    /// Firmware file requested from `/lib/firmware`, when there is one.
    pub firmware: Option<&'static str>,
    /// A binary kernel module that drives it instead of a firmware file.
    pub loader_module: Option<&'static str>,
    /// Whether the card needs it to work properly (TE13x/TE23x/TE43x).
    pub required: bool,
}
