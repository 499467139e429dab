//! The boards the fixture knows, with the ids, names and attribute values
//! their drivers really register (read from the dahdi-linux sources).

use hwmgr::catalog::{LineMode, SpanType};

/// A board model the fixture can lay out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Digium TE420 (5th gen), quad E1/T1 by jumpers, wct4xxp.
    Te420,
    /// Digium TE205P (5th gen), dual E1/T1 by jumpers, wct4xxp.
    Te205p,
    /// Digium TE435, quad E1/T1 set by `default_linemode` (T1 by default), wcte43x.
    Te435,
    /// Digium TE133, single E1/T1 (T1 by default) with its VPMOCT032, wcte13xp.
    Te133,
    /// Digium B410P, quad BRI with TE/NT jumpers, wcb4xxp.
    B410p,
    /// Digium TDM2400P, 24 analog ports on FXS/FXO modules, wctdm24xxp.
    Tdm2400,
    /// Digium TDM410P, 4 analog ports, wctdm24xxp.
    Tdm410p,
    /// Digium TC400P transcoder (no span), wctc4xxp.
    Tc400,
}

/// An analog module position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    Fxs,
    Fxo,
    Empty,
}

/// The role a BRI port's jumpers give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BriRole {
    Te,
    Nt,
}

impl Model {
    pub const ALL: [(Model, &'static str); 8] = [
        (Model::Te420, "te420"),
        (Model::Te205p, "te205p"),
        (Model::Te435, "te435"),
        (Model::Te133, "te133"),
        (Model::B410p, "b410p"),
        (Model::Tdm2400, "tdm2400"),
        (Model::Tdm410p, "tdm410p"),
        (Model::Tc400, "tc400"),
    ];

    pub fn from_name(name: &str) -> Option<Model> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(m, _)| *m)
    }

    /// vendor, device, subsystem vendor, subsystem device.
    pub fn pci_ids(self) -> [u16; 4] {
        match self {
            Model::Te420 => [0xd161, 0x1420, 0x0005, 0x0000],
            Model::Te205p => [0xd161, 0x1205, 0x0005, 0x0000],
            Model::Te435 => [0xd161, 0x800e, 0xd161, 0x800e],
            Model::Te133 => [0xd161, 0x800a, 0xd161, 0x800a],
            Model::B410p => [0xd161, 0xb410, 0xd161, 0xb410],
            Model::Tdm2400 => [0xd161, 0x2400, 0xd161, 0x2400],
            Model::Tdm410p => [0xd161, 0x8005, 0xd161, 0x8005],
            Model::Tc400 => [0xd161, 0x3400, 0xd161, 0x3400],
        }
    }

    pub fn driver(self) -> &'static str {
        match self {
            Model::Te420 | Model::Te205p => "wct4xxp",
            Model::Te435 => "wcte43x",
            Model::Te133 => "wcte13xp",
            Model::B410p => "wcb4xxp",
            Model::Tdm2400 | Model::Tdm410p => "wctdm24xxp",
            Model::Tc400 => "wctc4xxp",
        }
    }

    /// Spans the driver registers.
    pub fn span_count(self) -> u32 {
        match self {
            Model::Te420 | Model::Te435 | Model::B410p => 4,
            Model::Te205p => 2,
            Model::Te133 | Model::Tdm2400 | Model::Tdm410p => 1,
            Model::Tc400 => 0,
        }
    }

    /// Line mode when nothing sets it: jumpers at E1 on the TE4xx/TE2xx we
    /// lay out, the driver default (T1) on the TE435.
    pub fn default_line_mode(self) -> Option<LineMode> {
        match self {
            Model::Te420 | Model::Te205p => Some(LineMode::E1),
            Model::Te435 | Model::Te133 => Some(LineMode::T1),
            _ => None,
        }
    }

    /// Analog ports on the board.
    pub fn analog_ports(self) -> usize {
        match self {
            Model::Tdm2400 => 24,
            Model::Tdm410p => 4,
            _ => 0,
        }
    }

    /// The device `type` attribute (driver devtype, echo canceller added).
    pub fn device_type(self) -> &'static str {
        match self {
            Model::Te420 => "Wildcard TE420 (5th Gen) (VPMOCT128)",
            Model::Te205p => "Wildcard TE205P (5th Gen) (VPMOCT064)",
            Model::Te435 => "Wildcard TE435 (VPMOCT128)",
            Model::Te133 => "Wildcard TE131/TE133 (VPMOCT032)",
            Model::B410p => "Wildcard B410P",
            Model::Tdm2400 => "Wildcard TDM2400P (VPMOCT032)",
            Model::Tdm410p => "Wildcard TDM410P",
            Model::Tc400 => "",
        }
    }

    /// Whether the slot location reads `PCI Express …`.
    pub fn express(self) -> bool {
        matches!(self, Model::Te420 | Model::Te133)
    }

    /// The echo canceller name channels report, if one is fitted.
    pub fn ec_name(self) -> Option<&'static str> {
        match self {
            Model::Te420 | Model::Te435 => Some("VPMOCT128"),
            Model::Te205p => Some("VPMOCT064"),
            Model::Te133 => Some("VPMOCT032"),
            Model::B410p => Some("LASVEGAS2"),
            Model::Tdm2400 => Some("VPMOCT032"),
            _ => None,
        }
    }

    /// Span `name` and `desc` for local span `local` of card number `card`
    /// (the driver's own card counter).
    pub fn span_names(self, card: u32, local: u32) -> (String, String) {
        match self {
            Model::Te420 => (
                format!("TE4/{card}/{local}"),
                format!("T4XXP (PCI) Card {card} Span {local}"),
            ),
            Model::Te205p => (
                format!("TE2/{card}/{local}"),
                format!("T2XXP (PCI) Card {card} Span {local}"),
            ),
            Model::Te435 => (
                format!("WCTE4/{card}/{local}"),
                format!("WCTE43X (PCI) Card {card} Span {local}"),
            ),
            Model::Te133 => (
                format!("WCT13x/{card}"),
                format!("Wildcard TE131/TE133 Card {card}"),
            ),
            Model::B410p => (
                format!("B4/{card}/{local}"),
                format!("B4XXP (PCI) Card {card} Span {local}"),
            ),
            Model::Tdm2400 => (format!("WCTDM/{card}"), "Wildcard TDM2400P".to_owned()),
            Model::Tdm410p => (format!("WCTDM/{card}"), "Wildcard TDM410P".to_owned()),
            Model::Tc400 => (String::new(), String::new()),
        }
    }

    /// Channel name for position `pos` (1-based) in a span named `span`.
    pub fn channel_name(self, span: &str, pos: u32) -> String {
        match self {
            Model::Tdm2400 | Model::Tdm410p => format!("{span}/{}", pos - 1),
            _ => format!("{span}/{pos}"),
        }
    }
}

/// `linecompat` as the sysfs attribute prints it (bit order, trailing space).
pub fn linecompat(ty: SpanType) -> &'static str {
    match ty {
        SpanType::E1 => "AMI CCS HDB3 CRC4 ",
        SpanType::T1 | SpanType::J1 => "D4 ESF AMI B8ZS ",
        SpanType::BriTe | SpanType::BriNt => "AMI CCS ",
        _ => "",
    }
}
