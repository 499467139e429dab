//! The PCI id table of dahdi-tools (`Dahdi::Hardware::PCI`), with what we
//! know about each card.

use super::driver::Driver::{self, *};
use super::echo::*;
use super::ids::PciKey;
use super::kinds::{CardKind, EchoCanceller, LineMode, LineModeSelect, TeNtSelect};

/// One row of the PCI table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PciEntry {
    pub key: PciKey,
    pub driver: Driver,
    /// dahdi-tools' description, byte for byte.
    pub description: &'static str,
    pub kind: CardKind,
    /// Echo-canceller modules the card can carry.
    pub echo_cancellers: &'static [EchoCanceller],
    /// Card firmware (FPGA, DSP) the driver requests, besides the canceller's.
    pub firmware: &'static [&'static str],
}

impl PciEntry {
    const fn new(key: PciKey, driver: Driver, description: &'static str, kind: CardKind) -> Self {
        Self {
            key,
            driver,
            description,
            kind,
            echo_cancellers: &[],
            firmware: &[],
        }
    }

    const fn ec(mut self, echo_cancellers: &'static [EchoCanceller]) -> Self {
        self.echo_cancellers = echo_cancellers;
        self
    }

    const fn fw(mut self, firmware: &'static [&'static str]) -> Self {
        self.firmware = firmware;
        self
    }
}

const fn d(v: u16, dev: u16) -> PciKey {
    PciKey::device(v, dev)
}
const fn sv(v: u16, dev: u16, s: u16) -> PciKey {
    PciKey::subvendor(v, dev, s)
}
const fn ss(v: u16, dev: u16, s: u16, sd: u16) -> PciKey {
    PciKey::subsystem(v, dev, s, sd)
}

const fn digital(spans: u8, line_mode: LineModeSelect) -> CardKind {
    CardKind::Digital {
        spans: Some(spans),
        line_mode,
    }
}
const fn jumpered(spans: u8) -> CardKind {
    digital(spans, LineModeSelect::Jumper)
}
const fn t1_default(spans: Option<u8>) -> CardKind {
    CardKind::Digital {
        spans,
        line_mode: LineModeSelect::ModuleOption {
            default: LineMode::T1,
        },
    }
}
const fn unknown_line(spans: Option<u8>) -> CardKind {
    CardKind::Digital {
        spans,
        line_mode: LineModeSelect::Unknown,
    }
}
const fn bri(spans: Option<u8>, te_nt: TeNtSelect) -> CardKind {
    CardKind::Bri { spans, te_nt }
}
const fn analog(ports: Option<u8>) -> CardKind {
    CardKind::Analog { ports }
}

const TE4XX: [EchoCanceller; 1] = [VPMOCT128];
const TE2XX: [EchoCanceller; 1] = [VPMOCT064];
const TDM_EC: [EchoCanceller; 2] = [VPMADT032, VPMOCT032_ANALOG];
const TE12X_EC: [EchoCanceller; 2] = [VPMADT032, VPMOCT032_ANALOG];
const B410P_EC: [EchoCanceller; 1] = [LASVEGAS2];

/// Every PCI id dahdi-tools 3.1 recognises.
pub static PCI_TABLE: &[PciEntry] = &[
    // wct4xxp
    PciEntry::new(
        d(0x10ee, 0x0314),
        Wct4xxp,
        "Wildcard TE410P/TE405P (1st Gen)",
        jumpered(4),
    ),
    PciEntry::new(
        d(0xd161, 0x1420),
        Wct4xxp,
        "Wildcard TE420 (5th Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        d(0xd161, 0x1410),
        Wct4xxp,
        "Wildcard TE410P (5th Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        d(0xd161, 0x1405),
        Wct4xxp,
        "Wildcard TE405P (5th Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        sv(0xd161, 0x0420, 0x0004),
        Wct4xxp,
        "Wildcard TE420 (4th Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        sv(0xd161, 0x0410, 0x0004),
        Wct4xxp,
        "Wildcard TE410P (4th Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        sv(0xd161, 0x0405, 0x0004),
        Wct4xxp,
        "Wildcard TE405P (4th Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        sv(0xd161, 0x0410, 0x0003),
        Wct4xxp,
        "Wildcard TE410P (3rd Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        sv(0xd161, 0x0405, 0x0003),
        Wct4xxp,
        "Wildcard TE405P (3rd Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        d(0xd161, 0x0410),
        Wct4xxp,
        "Wildcard TE410P (2nd Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        d(0xd161, 0x0405),
        Wct4xxp,
        "Wildcard TE405P (2nd Gen)",
        jumpered(4),
    )
    .ec(&TE4XX),
    PciEntry::new(
        d(0xd161, 0x1220),
        Wct4xxp,
        "Wildcard TE220 (5th Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        d(0xd161, 0x1205),
        Wct4xxp,
        "Wildcard TE205P (5th Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        d(0xd161, 0x1210),
        Wct4xxp,
        "Wildcard TE210P (5th Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        sv(0xd161, 0x0220, 0x0004),
        Wct4xxp,
        "Wildcard TE220 (4th Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        sv(0xd161, 0x0205, 0x0004),
        Wct4xxp,
        "Wildcard TE205P (4th Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        sv(0xd161, 0x0210, 0x0004),
        Wct4xxp,
        "Wildcard TE210P (4th Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        sv(0xd161, 0x0205, 0x0003),
        Wct4xxp,
        "Wildcard TE205P (3rd Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(
        sv(0xd161, 0x0210, 0x0003),
        Wct4xxp,
        "Wildcard TE210P (3rd Gen)",
        jumpered(2),
    )
    .ec(&TE2XX),
    PciEntry::new(d(0xd161, 0x0205), Wct4xxp, "Wildcard TE205P ", jumpered(2)).ec(&TE2XX),
    PciEntry::new(d(0xd161, 0x0210), Wct4xxp, "Wildcard TE210P ", jumpered(2)).ec(&TE2XX),
    PciEntry::new(
        d(0xd161, 0x1820),
        Wct4xxp,
        "Wildcard TE820 (5th Gen)",
        jumpered(8),
    )
    .ec(&[VPMOCT256])
    .fw(&["dahdi-fw-te820.bin"]),
    // wctdm24xxp
    PciEntry::new(
        d(0xd161, 0x2400),
        Wctdm24xxp,
        "Wildcard TDM2400P",
        analog(Some(24)),
    )
    .ec(&TDM_EC),
    PciEntry::new(
        d(0xd161, 0x0800),
        Wctdm24xxp,
        "Wildcard TDM800P",
        analog(Some(8)),
    )
    .ec(&TDM_EC),
    PciEntry::new(
        d(0xd161, 0x8002),
        Wctdm24xxp,
        "Wildcard AEX800",
        analog(Some(8)),
    )
    .ec(&TDM_EC),
    PciEntry::new(
        d(0xd161, 0x8003),
        Wctdm24xxp,
        "Wildcard AEX2400",
        analog(Some(24)),
    )
    .ec(&TDM_EC),
    PciEntry::new(
        d(0xd161, 0x8005),
        Wctdm24xxp,
        "Wildcard TDM410P",
        analog(Some(4)),
    )
    .ec(&TDM_EC),
    PciEntry::new(
        d(0xd161, 0x8006),
        Wctdm24xxp,
        "Wildcard AEX410P",
        analog(Some(4)),
    )
    .ec(&TDM_EC),
    PciEntry::new(d(0xd161, 0x8007), Wctdm24xxp, "HA8-0000", analog(Some(8)))
        .ec(&TDM_EC)
        .fw(&["dahdi-fw-hx8.bin"]),
    PciEntry::new(d(0xd161, 0x8008), Wctdm24xxp, "HB8-0000", analog(Some(8)))
        .ec(&TDM_EC)
        .fw(&["dahdi-fw-hx8.bin"]),
    // pciradio
    PciEntry::new(
        sv(0xe159, 0x0001, 0xe16b),
        Pciradio,
        "PCIRADIO",
        CardKind::Radio,
    ),
    // wcfxo
    PciEntry::new(
        sv(0xe159, 0x0001, 0x8084),
        Wcfxo,
        "Wildcard X101P clone",
        analog(Some(1)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x8085),
        Wcfxo,
        "Wildcard X101P",
        analog(Some(1)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x8086),
        Wcfxo,
        "Wildcard X101P clone",
        analog(Some(1)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x8087),
        Wcfxo,
        "Wildcard X101P clone",
        analog(Some(1)),
    ),
    PciEntry::new(d(0x1057, 0x5608), Wcfxo, "Wildcard X100P", analog(Some(1))),
    // wct1xxp
    PciEntry::new(
        sv(0xe159, 0x0001, 0x6159),
        Wct1xxp,
        "Digium Wildcard T100P T1/PRI or E100P E1/PRA Board",
        unknown_line(Some(1)),
    ),
    // wctdm
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa159),
        Wctdm,
        "Wildcard S400P Prototype",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xe159),
        Wctdm,
        "Wildcard S400P Prototype",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xb100),
        Wctdm,
        "Wildcard TDM400P REV E/F",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xb1d9),
        Wctdm,
        "Wildcard TDM400P REV I",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xb118),
        Wctdm,
        "Wildcard TDM400P REV I",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xb119),
        Wctdm,
        "Wildcard TDM400P REV I",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa9fd),
        Wctdm,
        "Wildcard TDM400P REV H",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa8fd),
        Wctdm,
        "Wildcard TDM400P REV H",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa800),
        Wctdm,
        "Wildcard TDM400P REV H",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa801),
        Wctdm,
        "Wildcard TDM400P REV H",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa908),
        Wctdm,
        "Wildcard TDM400P REV H",
        analog(Some(4)),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0xa901),
        Wctdm,
        "Wildcard TDM400P REV H",
        analog(Some(4)),
    ),
    // wcte11xp
    PciEntry::new(
        sv(0xe159, 0x0001, 0x71fe),
        Wcte11xp,
        "Digium Wildcard TE110P T1/E1 Board",
        jumpered(1),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x79fe),
        Wcte11xp,
        "Digium Wildcard TE110P T1/E1 Board",
        jumpered(1),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x795e),
        Wcte11xp,
        "Digium Wildcard TE110P T1/E1 Board",
        jumpered(1),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x79de),
        Wcte11xp,
        "Digium Wildcard TE110P T1/E1 Board",
        jumpered(1),
    ),
    PciEntry::new(
        sv(0xe159, 0x0001, 0x797e),
        Wcte11xp,
        "Digium Wildcard TE110P T1/E1 Board",
        jumpered(1),
    ),
    // wcte12xp
    PciEntry::new(d(0xd161, 0x0120), Wcte12xp, "Wildcard TE12xP", jumpered(1)).ec(&TE12X_EC),
    PciEntry::new(d(0xd161, 0x8000), Wcte12xp, "Wildcard TE121", jumpered(1)).ec(&TE12X_EC),
    PciEntry::new(d(0xd161, 0x8001), Wcte12xp, "Wildcard TE122", jumpered(1)).ec(&TE12X_EC),
    // wcte13xp
    PciEntry::new(
        d(0xd161, 0x800a),
        Wcte13xp,
        "Wildcard TE131/TE133",
        t1_default(Some(1)),
    )
    .ec(&[VPMOCT032_REQUIRED])
    .fw(&["dahdi-fw-te133.bin"]),
    PciEntry::new(
        d(0xd161, 0x800b),
        Wcte13xp,
        "Wildcard TE132/TE134",
        t1_default(Some(1)),
    )
    .ec(&[VPMOCT032_REQUIRED])
    .fw(&["dahdi-fw-te134.bin"]),
    // wcaxx
    PciEntry::new(d(0xd161, 0x800c), Wcaxx, "Digium A8A", analog(Some(8)))
        .ec(&[VPMOCT032])
        .fw(&["dahdi-fw-a8a.bin"]),
    PciEntry::new(d(0xd161, 0x800d), Wcaxx, "Digium A8B", analog(Some(8)))
        .ec(&[VPMOCT032])
        .fw(&["dahdi-fw-a8b.bin"]),
    PciEntry::new(d(0xd161, 0x800f), Wcaxx, "Digium A4A", analog(Some(4)))
        .ec(&[VPMOCT032])
        .fw(&["dahdi-fw-a4a.bin"]),
    PciEntry::new(d(0xd161, 0x8010), Wcaxx, "Digium A4B", analog(Some(4)))
        .ec(&[VPMOCT032])
        .fw(&["dahdi-fw-a4b.bin"]),
    // wcte43x: the same id for the 4-port and the 2-port board; the serial
    // number (hardware_id) and span_count tell them apart.
    PciEntry::new(
        d(0xd161, 0x800e),
        Wcte43x,
        "Wildcard TE435/235",
        t1_default(None),
    )
    .ec(&[VPMOCT128_REQUIRED, VPMOCT064_REQUIRED])
    .fw(&["dahdi-fw-te435.bin"]),
    PciEntry::new(
        d(0xd161, 0x8013),
        Wcte43x,
        "Wildcard TE436/236",
        t1_default(None),
    )
    .ec(&[VPMOCT128_REQUIRED, VPMOCT064_REQUIRED])
    .fw(&["dahdi-fw-te436.bin"]),
    // wcb4xxp
    PciEntry::new(
        d(0xd161, 0xb410),
        Wcb4xxp,
        "Digium Wildcard B410P",
        bri(Some(4), TeNtSelect::Jumper),
    )
    .ec(&B410P_EC),
    PciEntry::new(
        d(0xd161, 0x8014),
        Wcb4xxp,
        "Digium Wildcard B433",
        bri(Some(4), TeNtSelect::SpanLine),
    ),
    PciEntry::new(
        d(0xd161, 0x8015),
        Wcb4xxp,
        "Digium Wildcard B434",
        bri(Some(4), TeNtSelect::SpanLine),
    ),
    PciEntry::new(
        d(0xd161, 0x8016),
        Wcb4xxp,
        "Digium Wildcard B233",
        bri(Some(2), TeNtSelect::SpanLine),
    ),
    PciEntry::new(
        d(0xd161, 0x8017),
        Wcb4xxp,
        "Digium Wildcard B234",
        bri(Some(2), TeNtSelect::SpanLine),
    ),
    // tor2
    PciEntry::new(d(0x10b5, 0x9030), Tor2, "PLX 9030", unknown_line(Some(4))),
    PciEntry::new(
        d(0x10b5, 0x3001),
        Tor2,
        "PLX Development Board",
        unknown_line(Some(4)),
    ),
    PciEntry::new(
        d(0x10b5, 0xd00d),
        Tor2,
        "Tormenta 2 Quad T1/PRI or E1/PRA",
        unknown_line(Some(4)),
    ),
    PciEntry::new(
        d(0x10b5, 0x4000),
        Tor2,
        "Tormenta 2 Quad T1/E1 (non-Digium clone)",
        unknown_line(Some(4)),
    ),
    // wctc4xxp
    PciEntry::new(
        d(0xd161, 0x3400),
        Wctc4xxp,
        "Wildcard TC400P",
        CardKind::Transcoder,
    )
    .fw(&["dahdi-fw-tc400m.bin"]),
    PciEntry::new(
        d(0xd161, 0x8004),
        Wctc4xxp,
        "Wildcard TCE400P",
        CardKind::Transcoder,
    )
    .fw(&["dahdi-fw-tc400m.bin"]),
    // Cologne Chip BRI cards
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb540),
        Wcb4xxp,
        "Swyx 4xS0 SX2 QuadBri",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb556),
        Wcb4xxp,
        "Junghanns DuoBRI ISDN card",
        bri(Some(2), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb520),
        Wcb4xxp,
        "Junghanns QuadBRI ISDN card",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb550),
        Wcb4xxp,
        "Junghanns QuadBRI ISDN card",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb752),
        Wcb4xxp,
        "Junghanns QuadBRI ISDN PCI-E card",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x16b8, 0x1397, 0xb552),
        Wcb4xxp,
        "Junghanns OctoBRI ISDN card",
        bri(Some(8), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x16b8, 0x1397, 0xb55b),
        Wcb4xxp,
        "Junghanns OctoBRI ISDN card",
        bri(Some(8), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xe884),
        Wcb4xxp,
        "OpenVox B200P",
        bri(Some(2), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xe888),
        Wcb4xxp,
        "OpenVox B400P",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x16b8, 0x1397, 0xe998),
        Wcb4xxp,
        "OpenVox B800P",
        bri(Some(8), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb566),
        Wcb4xxp,
        "BeroNet BN2S0",
        bri(Some(2), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb560),
        Wcb4xxp,
        "BeroNet BN4S0",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x08b4, 0x1397, 0xb762),
        Wcb4xxp,
        "BeroNet BN4S0 PCI-E card",
        bri(Some(4), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        ss(0x1397, 0x16b8, 0x1397, 0xb562),
        Wcb4xxp,
        "BeroNet BN8S0",
        bri(Some(8), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        d(0x1397, 0x08b4),
        Qozap,
        "Generic Cologne ISDN card",
        bri(None, TeNtSelect::Unknown),
    ),
    PciEntry::new(
        d(0x1397, 0x16b8),
        Qozap,
        "Generic OctoBRI ISDN card",
        bri(Some(8), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        d(0x1397, 0x30b1),
        Cwain,
        "HFC-E1 ISDN E1 card",
        digital(1, LineModeSelect::Fixed { mode: LineMode::E1 }),
    ),
    PciEntry::new(
        d(0x1397, 0x2bd0),
        Zaphfc,
        "HFC-S ISDN BRI card",
        bri(Some(1), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        d(0x1043, 0x0675),
        Zaphfc,
        "ASUSTeK Computer Inc. ISDNLink P-IN100-ST-D",
        bri(Some(1), TeNtSelect::Unknown),
    ),
    PciEntry::new(
        d(0x1397, 0xf001),
        Ztgsm,
        "HFC-GSM Cologne Chips GSM",
        CardKind::Gsm,
    ),
    // Rhino
    PciEntry::new(d(0x0b0b, 0x0105), R1t1, "Rhino R1T1", unknown_line(Some(1))),
    PciEntry::new(d(0x0b0b, 0x0205), R4fxo, "Rhino R14FXO", analog(Some(4))),
    PciEntry::new(
        d(0x0b0b, 0x0206),
        Rcbfx,
        "Rhino RCB4FXO 4-channel FXO analog telphony card",
        analog(Some(4)),
    ),
    PciEntry::new(d(0x0b0b, 0x0305), Rxt1, "Rhino R4T1", unknown_line(Some(4))),
    PciEntry::new(d(0x0b0b, 0x0405), Rcbfx, "Rhino R8FXX", analog(Some(8))),
    PciEntry::new(
        d(0x0b0b, 0x0406),
        Rcbfx,
        "Rhino RCB8FXX 8-channel modular analog telphony card",
        analog(Some(8)),
    ),
    PciEntry::new(d(0x0b0b, 0x0505), Rcbfx, "Rhino R24FXX", analog(Some(24))),
    PciEntry::new(
        d(0x0b0b, 0x0506),
        Rcbfx,
        "Rhino RCB24FXS 24-Channel FXS analog telphony card",
        analog(Some(24)),
    ),
    PciEntry::new(d(0x0b0b, 0x0605), Rxt1, "Rhino R2T1", unknown_line(Some(2))),
    PciEntry::new(d(0x0b0b, 0x0705), Rcbfx, "Rhino R24FXS", analog(Some(24))),
    PciEntry::new(
        d(0x0b0b, 0x0706),
        Rcbfx,
        "Rhino RCB24FXO 24-Channel FXO analog telphony card",
        analog(Some(24)),
    ),
    PciEntry::new(
        d(0x0b0b, 0x0906),
        Rcbfx,
        "Rhino RCB24FXX 24-channel modular analog telphony card",
        analog(Some(24)),
    ),
    // Sangoma
    PciEntry::new(
        d(0x1923, 0x0040),
        Wanpipe,
        "Sangoma Technologies Corp. A200/Remora FXO/FXS Analog AFT card",
        analog(None),
    ),
    PciEntry::new(
        d(0x1923, 0x0100),
        Wanpipe,
        "Sangoma Technologies Corp. A104d QUAD T1/E1 AFT card",
        unknown_line(Some(4)),
    ),
    PciEntry::new(
        d(0x1923, 0x0300),
        Wanpipe,
        "Sangoma Technologies Corp. A101 single-port T1/E1",
        unknown_line(Some(1)),
    ),
    PciEntry::new(
        d(0x1923, 0x0400),
        Wanpipe,
        "Sangoma Technologies Corp. A104u Quad T1/E1 AFT",
        unknown_line(Some(4)),
    ),
    // Yeastar, OpenVox, Aligera
    PciEntry::new(
        sv(0xe159, 0x0001, 0x2151),
        Ystdm8xx,
        "Yeastar YSTDM8xx",
        analog(Some(8)),
    ),
    PciEntry::new(
        ss(0xe159, 0x0001, 0x9500, 0x0003),
        Opvxa1200,
        "OpenVox A800P",
        analog(Some(8)),
    ),
    PciEntry::new(
        d(0x10ee, 0x1004),
        Ap400,
        "Aligera AP40X/APE40X 1E1/2E1/4E1 card",
        unknown_line(None),
    ),
];
