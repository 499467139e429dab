//! Relay and watchdog semantics as types: no bare 0/1/2 leaves this module.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// Where the provider lines on port A are switched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayMode {
    /// Mode 1: A–B (and C–D in the bypass wiring); the master's side.
    Master,
    /// Mode 0: A–D; the slave's side, and what the hardware does unpowered.
    Slave,
}

impl RelayMode {
    /// The relay position of a device with no power.
    pub const POWER_OFF: RelayMode = RelayMode::Slave;

    /// The device's value for this mode (`mode=` / `modedef=`).
    pub fn bit(self) -> bool {
        self == RelayMode::Master
    }

    /// The mode the device means by a boolean value.
    pub fn from_bit(bit: bool) -> Self {
        if bit {
            RelayMode::Master
        } else {
            RelayMode::Slave
        }
    }

    /// The ports this mode connects, as `bnfos` names them.
    pub fn ports(self) -> &'static str {
        match self {
            RelayMode::Master => "A--B",
            RelayMode::Slave => "A--D",
        }
    }
}

impl fmt::Display for RelayMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self {
            RelayMode::Master => "master",
            RelayMode::Slave => "slave",
        };
        write!(f, "{} ({side})", self.ports())
    }
}

impl FromStr for RelayMode {
    type Err = Error;

    /// Accepts `master`/`slave`, the port names and the device's `1`/`0`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "master" | "a-b" | "a--b" | "1" => Ok(RelayMode::Master),
            "slave" | "a-d" | "a--d" | "0" => Ok(RelayMode::Slave),
            _ => Err(Error::InvalidValue {
                what: "relay mode",
                value: s.to_string(),
                reason: "expected master (A--B) or slave (A--D)".into(),
            }),
        }
    }
}

/// How the device is wired into the installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// 0: two PBXs, lines switched between B (master) and D (slave): the HA case.
    Fallback,
    /// 1: one PBX inserted between provider (A–B) and a legacy PBX (C–D).
    Bypass,
}

impl Scenario {
    /// The device's value (`sz=`).
    pub fn bit(self) -> bool {
        self == Scenario::Bypass
    }

    /// The scenario the device means by a boolean value.
    pub fn from_bit(bit: bool) -> Self {
        if bit {
            Scenario::Bypass
        } else {
            Scenario::Fallback
        }
    }
}

/// What the watchdog is doing right now (`wdogstate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchdogState {
    /// 0: not armed.
    Off,
    /// 1: armed and being kicked in time.
    On,
    /// 2: kicks stopped for a whole interval; the relays fell back.
    Failure,
}

impl WatchdogState {
    /// Reads the device's numeric state.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(WatchdogState::Off),
            1 => Some(WatchdogState::On),
            2 => Some(WatchdogState::Failure),
            _ => None,
        }
    }
}

impl fmt::Display for WatchdogState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WatchdogState::Off => "off",
            WatchdogState::On => "on",
            WatchdogState::Failure => "failure",
        })
    }
}

/// The watchdog as the device reports it; `None` where its `config.txt`
/// has no (readable) line for a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Watchdog {
    /// Armed now (`wdog`).
    pub enabled: Option<bool>,
    /// Armed after power-on (`wdogdef`).
    pub enabled_by_default: Option<bool>,
    /// Off, on or failure (`wdogstate`).
    pub state: Option<WatchdogState>,
    /// Seconds without a kick before the relays fall back (`wdogitime`).
    pub interval_secs: Option<u16>,
    /// Seconds left before failure (`wdogrtime`).
    pub remaining_secs: Option<u32>,
    /// Audio alarm on failure (`wdogaudio`).
    pub audio_alarm: Option<bool>,
    /// Alarm mails on failure (`wdogmail`).
    pub mail_alarm: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_mode_bits_follow_the_device() {
        assert!(RelayMode::Master.bit());
        assert_eq!(RelayMode::from_bit(false), RelayMode::Slave);
        assert_eq!(RelayMode::POWER_OFF.ports(), "A--D");
        assert_eq!("MASTER".parse::<RelayMode>().unwrap(), RelayMode::Master);
        assert_eq!("a--d".parse::<RelayMode>().unwrap(), RelayMode::Slave);
        assert!("sideways".parse::<RelayMode>().is_err());
    }

    #[test]
    fn watchdog_codes() {
        assert_eq!(WatchdogState::from_code(2), Some(WatchdogState::Failure));
        assert_eq!(WatchdogState::from_code(3), None);
        assert_eq!(Scenario::from_bit(false), Scenario::Fallback);
    }
}
