//! What `appliance berofos status` shows, as text or as JSON.

use std::fmt;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::relay::{RelayMode, Scenario, Watchdog, WatchdogState};
use crate::settings::Settings;

/// A device's relay, watchdog and power state. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The `[fosN]` name, when known.
    pub device: Option<String>,
    pub address: Ipv4Addr,
    pub relay_mode: RelayMode,
    /// `A--B` or `A--D`.
    pub relay_ports: &'static str,
    pub default_relay_mode: RelayMode,
    pub scenario: Scenario,
    pub watchdog: Watchdog,
    /// Power outlets 1 and 2.
    pub power: [bool; 2],
    pub http_port: u16,
    pub password_protection: bool,
}

impl Status {
    /// The status of the device at `address`, from its settings.
    pub fn new(device: Option<String>, address: Ipv4Addr, settings: &Settings) -> Status {
        Status {
            device,
            address,
            relay_mode: settings.relay_mode,
            relay_ports: settings.relay_mode.ports(),
            default_relay_mode: settings.default_relay_mode,
            scenario: settings.scenario,
            watchdog: settings.watchdog,
            power: settings.power,
            http_port: settings.http_port,
            password_protection: settings.password_protection,
        }
    }

    /// True when the watchdog saw no kick for a whole interval.
    pub fn watchdog_failed(&self) -> bool {
        self.watchdog.state == WatchdogState::Failure
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.device {
            Some(name) => writeln!(f, "{name} ({})", self.address)?,
            None => writeln!(f, "{}", self.address)?,
        }
        writeln!(f, "  relay mode:    {}", self.relay_mode)?;
        writeln!(f, "  default mode:  {}", self.default_relay_mode)?;
        writeln!(f, "  scenario:      {:?}", self.scenario)?;
        let w = &self.watchdog;
        write!(f, "  watchdog:      {}", w.state)?;
        write!(f, ", interval {} s", w.interval_secs)?;
        if let (WatchdogState::On, Some(left)) = (w.state, w.remaining_secs) {
            write!(f, ", {left} s left")?;
        }
        writeln!(f, ", {} at power-on", on_off(w.enabled_by_default))?;
        writeln!(
            f,
            "  power:         1 {}, 2 {}",
            on_off(self.power[0]),
            on_off(self.power[1])
        )
    }
}
