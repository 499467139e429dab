//! What `appliance berofos status` shows, as text or as JSON.
//!
//! A value the device did not report is `null` in JSON and "unknown" in text.

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
    pub relay_mode: Option<RelayMode>,
    /// `A--B` or `A--D`.
    pub relay_ports: Option<&'static str>,
    pub default_relay_mode: Option<RelayMode>,
    pub scenario: Option<Scenario>,
    pub watchdog: Watchdog,
    /// Power outlets 1 and 2.
    pub power: [Option<bool>; 2],
    pub http_port: Option<u16>,
    pub password_protection: Option<bool>,
    /// What the reader should be told about the reply (see [`Settings::warnings`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Status {
    /// The status of the device at `address`, from its settings.
    pub fn new(device: Option<String>, address: Ipv4Addr, settings: &Settings) -> Status {
        Status {
            device,
            address,
            relay_mode: settings.relay_mode,
            relay_ports: settings.relay_mode.map(RelayMode::ports),
            default_relay_mode: settings.default_relay_mode,
            scenario: settings.scenario,
            watchdog: settings.watchdog,
            power: settings.power,
            http_port: settings.http_port,
            password_protection: settings.password_protection,
            warnings: settings.warnings(),
        }
    }

    /// True when the watchdog saw no kick for a whole interval.
    pub fn watchdog_failed(&self) -> bool {
        self.watchdog.state == Some(WatchdogState::Failure)
    }
}

/// The value, or "unknown" when the device did not say.
struct Known<T>(Option<T>);

impl<T: fmt::Display> fmt::Display for Known<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(value) => value.fmt(f),
            None => f.write_str("unknown"),
        }
    }
}

fn on_off(on: Option<bool>) -> Known<&'static str> {
    Known(on.map(|on| if on { "on" } else { "off" }))
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.device {
            Some(name) => writeln!(f, "{name} ({})", self.address)?,
            None => writeln!(f, "{}", self.address)?,
        }
        writeln!(f, "  relay mode:    {}", Known(self.relay_mode))?;
        writeln!(f, "  default mode:  {}", Known(self.default_relay_mode))?;
        let scenario = self.scenario.map(|s| format!("{s:?}"));
        writeln!(f, "  scenario:      {}", Known(scenario))?;
        let w = &self.watchdog;
        write!(f, "  watchdog:      {}", Known(w.state))?;
        match w.interval_secs {
            Some(secs) => write!(f, ", interval {secs} s")?,
            None => write!(f, ", interval unknown")?,
        }
        if let (Some(WatchdogState::On), Some(left)) = (w.state, w.remaining_secs) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_shown_as_unknown() {
        let settings = Settings::parse("bnfos_confmap_magic=0.1\n4_mode=1\n5_p1=1\n").unwrap();
        let status = Status::new(Some("fos1".into()), Ipv4Addr::LOCALHOST, &settings);
        let text = status.to_string();
        assert!(text.contains("relay mode:    A--B (master)"), "{text}");
        assert!(text.contains("default mode:  unknown"), "{text}");
        assert!(text.contains("scenario:      unknown"), "{text}");
        assert!(
            text.contains("watchdog:      unknown, interval unknown, unknown at power-on"),
            "{text}"
        );
        assert!(text.contains("power:         1 unknown, 2 on"), "{text}");
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["relay_ports"], "A--B");
        assert!(json["default_relay_mode"].is_null());
        assert!(json["watchdog"]["state"].is_null());
        assert!(json.get("warnings").is_none(), "{json}");
    }

    #[test]
    fn warnings_travel_with_the_status() {
        let settings = Settings::parse("bnfos_confmap_magic=0.3\n4_mode=0\n").unwrap();
        let status = Status::new(None, Ipv4Addr::LOCALHOST, &settings);
        assert_eq!(status.warnings.len(), 1);
        let json = serde_json::to_value(&status).unwrap();
        assert!(json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("bnfos_confmap_magic=0.3"));
    }
}
