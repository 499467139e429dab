//! One card of a fixture and its text form.

use std::str::FromStr;

use hwmgr::catalog::LineMode;

use super::model::{BriRole, Model, Port};
use super::FixtureError;

/// How a card's spans are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assign {
    /// The next free span and channel numbers, in card order.
    Auto,
    /// Fixed first span and first channel (what assigned-spans.conf does).
    At { span: u32, chan: u32 },
    /// Registered but not assigned (`auto_assign_spans=0`, no config yet).
    Unassigned,
}

/// One card of a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSpec {
    pub model: Model,
    pub line_mode: Option<LineMode>,
    pub bri_roles: Vec<BriRole>,
    pub ports: Vec<Port>,
    /// Alarm mask (sysfs bits) on every span.
    pub alarms: u32,
    pub assign: Assign,
    /// Driver loaded and bound.
    pub bound: bool,
    /// PCI bus number; by default 2 + the card's position.
    pub bus: Option<u8>,
    pub hardware_id: Option<String>,
}

impl CardSpec {
    pub fn new(model: Model) -> Self {
        let mut ports = vec![Port::Empty; model.analog_ports()];
        if model == Model::Tdm2400 {
            ports[..16].fill(Port::Fxs);
            ports[16..].fill(Port::Fxo);
        }
        Self {
            model,
            line_mode: model.default_line_mode(),
            bri_roles: if model == Model::B410p {
                vec![BriRole::Te; 4]
            } else {
                Vec::new()
            },
            ports,
            alarms: 0,
            assign: Assign::Auto,
            bound: true,
            bus: None,
            hardware_id: match model {
                Model::Te435 => Some("1TE435F-0001234".to_owned()),
                Model::Te133 => Some("1TE133F-0004321".to_owned()),
                _ => None,
            },
        }
    }

    fn apply(&mut self, card: &str, option: &str) -> Result<(), FixtureError> {
        let bad = || FixtureError::BadOption {
            card: card.into(),
            option: option.into(),
        };
        match option {
            "e1" => self.line_mode = Some(LineMode::E1),
            "t1" => self.line_mode = Some(LineMode::T1),
            "j1" => self.line_mode = Some(LineMode::J1),
            "red" => self.alarms |= 0x8,
            "yellow" => self.alarms |= 0x4,
            "blue" => self.alarms |= 0x10,
            "unassigned" => self.assign = Assign::Unassigned,
            "unbound" => self.bound = false,
            o if o.starts_with("bus=") => self.bus = Some(o[4..].parse().map_err(|_| bad())?),
            o if o.starts_with("hwid=") => self.hardware_id = Some(o[5..].to_owned()),
            o if o.starts_with("at=") => {
                let (s, c) = o[3..].split_once(':').ok_or_else(bad)?;
                let span = s.parse().map_err(|_| bad())?;
                let chan = c.parse().map_err(|_| bad())?;
                self.assign = Assign::At { span, chan };
            }
            _ => return Err(bad()),
        }
        Ok(())
    }

    fn check(&self, card: &str) -> Result<(), FixtureError> {
        let invalid = |why: &str| {
            Err(FixtureError::Invalid {
                card: card.into(),
                why: why.into(),
            })
        };
        if self.model.default_line_mode().is_none() && self.line_mode.is_some() {
            return invalid("line mode on a card without E1/T1 ports");
        }
        if self.model == Model::B410p && self.bri_roles.len() != 4 {
            return invalid("a B410P has four ports: give four te/nt roles");
        }
        if self.ports.len() != self.model.analog_ports() {
            return invalid("more analog modules than ports");
        }
        Ok(())
    }
}

impl FromStr for CardSpec {
    type Err = FixtureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, options) = s.split_once(':').unwrap_or((s, ""));
        let model =
            Model::from_name(name).ok_or_else(|| FixtureError::UnknownModel(name.into()))?;
        let mut card = CardSpec::new(model);
        let mut roles = Vec::new();
        let mut ports = Vec::new();
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "te" => roles.push(BriRole::Te),
                "nt" => roles.push(BriRole::Nt),
                o if analog_run(o).is_some() => ports.extend(analog_run(o).unwrap_or_default()),
                o => card.apply(s, o)?,
            }
        }
        if !roles.is_empty() {
            card.bri_roles = roles;
        }
        if !ports.is_empty() {
            ports.resize(ports.len().max(model.analog_ports()), Port::Empty);
            card.ports = ports;
        }
        card.check(s)?;
        Ok(card)
    }
}

/// `fxs*8`, `fxo`, `empty*4`.
fn analog_run(option: &str) -> Option<Vec<Port>> {
    let (kind, count) = option.split_once('*').unwrap_or((option, "1"));
    let port = match kind {
        "fxs" => Port::Fxs,
        "fxo" => Port::Fxo,
        "empty" => Port::Empty,
        _ => return None,
    };
    Some(vec![port; count.parse().ok()?])
}
