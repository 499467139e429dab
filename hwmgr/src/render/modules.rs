//! `/etc/dahdi/modules` and the telbox-owned `/etc/modprobe.d` file.

use std::fmt::Write as _;

use appliance::config::telephony::{EchoCanceller, Line, LineMode, Telephony, TranscoderMode};

use super::banner;
use super::layout::{Layout, PlacedCard, PlacedLine};
use crate::catalog::{CardKind, Driver, LineModeSelect, ModuleParam};
use crate::detect::Inventory;

/// The software echo-canceller module the config asks for.
pub fn echo_module(tel: &Telephony) -> Option<&'static str> {
    match tel.echo_canceller {
        EchoCanceller::Mg2 => Some("dahdi_echocan_mg2"),
        EchoCanceller::Oslec => Some("dahdi_echocan_oslec"),
        EchoCanceller::Hardware | EchoCanceller::None => None,
    }
}

/// Drivers of the detected cards, then the echo-canceller module.
pub fn dahdi_modules(tel: &Telephony, inventory: &Inventory) -> String {
    let mut out = banner(
        "#",
        "Kernel modules loaded for the telephony cards, one per line.",
    );
    for driver in inventory.drivers() {
        let _ = writeln!(out, "{driver}");
    }
    if let Some(m) = echo_module(tel) {
        let _ = writeln!(out, "{m}");
    }
    out
}

/// One `options <driver> k=v …` line per driver with something to set;
/// only parameters the catalog says the driver accepts.
pub fn modprobe_conf(tel: &Telephony, layout: &Layout<'_>, inventory: &Inventory) -> String {
    let mut out = banner(
        "#",
        "DAHDI driver options; your own go in another file of this directory.",
    );
    for driver in inventory.drivers() {
        let options: Vec<String> = driver
            .params()
            .iter()
            .filter_map(|p| value(tel, layout, driver, *p).map(|v| format!("{}={v}", p.name())))
            .collect();
        if !options.is_empty() {
            let _ = writeln!(out, "options {driver} {}", options.join(" "));
        }
    }
    out
}

/// Whether a configured card's driver takes `param`.
pub fn any_accepts(layout: &Layout<'_>, param: ModuleParam) -> bool {
    layout
        .cards
        .iter()
        .any(|c| c.detected.driver().accepts(param))
}

fn value(
    tel: &Telephony,
    layout: &Layout<'_>,
    driver: Driver,
    param: ModuleParam,
) -> Option<String> {
    let flag = |on: bool| on.then(|| "1".to_owned());
    match param {
        ModuleParam::DefaultLinemode => {
            line_mode(layout, driver).map(|m| module_value(m).to_owned())
        }
        ModuleParam::VpmSupport => flag(tel.echo_canceller == EchoCanceller::Hardware),
        ModuleParam::VpmDtmfSupport => flag(tel.hwec_dtmf),
        ModuleParam::TimingCable => flag(tel.sync_cable),
        ModuleParam::PersistentLayer1 => {
            tel.bri_persistent_layer1.map(|on| u8::from(on).to_string())
        }
        ModuleParam::Opermode => tel.analog.opermode.clone(),
        ModuleParam::FastRinger => flag(tel.analog.fastringer),
        ModuleParam::BoostRinger => flag(tel.analog.boostringer),
        ModuleParam::TranscoderMode => tel.transcoder_mode.map(|m| {
            match m {
                TranscoderMode::Mixed => "mixed",
                TranscoderMode::G729 => "g729",
                TranscoderMode::G723 => "g723",
            }
            .to_owned()
        }),
    }
}

fn module_value(mode: LineMode) -> &'static str {
    match mode {
        LineMode::E1 => "e1",
        LineMode::T1 => "t1",
        LineMode::J1 => "j1",
    }
}

/// `default_linemode` for a driver: the mode every configured card of
/// that driver wants, when they agree. Jumpered cards only count when the
/// config forces a mode.
fn line_mode(layout: &Layout<'_>, driver: Driver) -> Option<LineMode> {
    let modes: Vec<LineMode> = layout
        .cards
        .iter()
        .filter(|c| c.detected.driver() == driver)
        .filter_map(card_line_mode)
        .collect();
    let first = *modes.first()?;
    modes.iter().all(|m| *m == first).then_some(first)
}

fn card_line_mode(card: &PlacedCard<'_>) -> Option<LineMode> {
    if card.config.line_mode.is_some() {
        return card.config.line_mode;
    }
    let by_option = matches!(
        card.detected.kind(),
        Some(CardKind::Digital {
            line_mode: LineModeSelect::ModuleOption { .. },
            ..
        })
    );
    if !by_option {
        return None;
    }
    let lines: Vec<Line> = card
        .spans
        .iter()
        .filter_map(|s| match &s.line {
            PlacedLine::Digital(cfg) => Some(cfg.line),
            PlacedLine::Analog(_) => None,
        })
        .collect();
    let first = *lines.first()?;
    if !lines.iter().all(|l| *l == first) {
        return None;
    }
    match first {
        Line::E1 => Some(LineMode::E1),
        Line::T1 => Some(LineMode::T1),
        Line::J1 => Some(LineMode::J1),
        Line::Bri => None,
    }
}
