//! Every setting the device reports in `GET /config.txt`, typed.
//!
//! The body is `key=value` lines separated by LF. Lines before the line
//! `bnfos_confmap_magic=0.1` are ignored; data lines are `<form>_<key>=<value>`
//! (e.g. `4_mode=1`). Booleans read as true for `1` or `checked`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::relay::{RelayMode, Scenario, Watchdog, WatchdogState};

/// The key of the line that starts the data.
pub const CONFMAP_MAGIC_KEY: &str = "bnfos_confmap_magic";
/// The only version of the data layout this crate knows.
pub const CONFMAP_MAGIC_VERSION: &str = "0.1";

/// The device's configuration and state, as read over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Fallback or bypass wiring (`scenario`).
    pub scenario: Scenario,
    /// Relay position now (`mode`).
    pub relay_mode: RelayMode,
    /// Relay position after power-on (`modedef`).
    pub default_relay_mode: RelayMode,
    /// The watchdog.
    pub watchdog: Watchdog,
    /// Power outlets 1 and 2, now.
    pub power: [bool; 2],
    /// Power outlets 1 and 2 after power-on.
    pub power_default: [bool; 2],
    /// Network settings of the device.
    pub network: Network,
    /// Web server port (`port`).
    pub http_port: u16,
    /// The web server asks for the login (`pwd`).
    pub password_protection: bool,
    /// Remote syslog.
    pub syslog: Syslog,
    /// Alarm mail settings.
    pub mail: Mail,
    /// The magic version line's value, when it was not the expected one.
    pub layout_mismatch: Option<String>,
}

/// Network settings (`hostname`, `address`, `netmask`, `gateway`, `dns`, `dhcp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    pub hostname: String,
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub dns: Ipv4Addr,
    pub dhcp: bool,
}

/// Remote syslog (`syslog`, `slgip`, `slgpt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Syslog {
    pub enabled: bool,
    pub host: Ipv4Addr,
    pub port: u16,
}

/// Alarm mail (`smtpserv`, `smtpfrom`, `smtpto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mail {
    pub server: String,
    pub from: String,
    pub to: String,
}

/// The raw `key=value` lines after the magic line.
struct Lines {
    values: BTreeMap<String, String>,
}

impl Lines {
    fn text(&self, key: &str) -> Result<&str, String> {
        self.values
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("no {key} line"))
    }

    fn bool(&self, key: &str) -> Result<bool, String> {
        Ok(matches!(self.text(key)?, "1" | "checked"))
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T, String> {
        let text = self.text(key)?;
        text.trim()
            .parse()
            .map_err(|_| format!("{key}={text:?} is not a number"))
    }

    /// An address; unreadable ones read as 0.0.0.0, as `bnfos` reads them.
    fn addr(&self, key: &str) -> Result<Ipv4Addr, String> {
        Ok(self.text(key)?.parse().unwrap_or(Ipv4Addr::UNSPECIFIED))
    }
}

impl Settings {
    /// Parses the body of `GET /config.txt`; the error says what was wrong.
    pub fn parse(body: &str) -> Result<Settings, String> {
        let (version, lines) = split_body(body)?;
        let layout_mismatch = (version != CONFMAP_MAGIC_VERSION).then_some(version);
        Ok(Settings {
            scenario: Scenario::from_bit(lines.bool("1_sz")?),
            relay_mode: RelayMode::from_bit(lines.bool("4_mode")?),
            default_relay_mode: RelayMode::from_bit(lines.bool("1_rm")?),
            watchdog: watchdog(&lines)?,
            power: [lines.bool("5_p0")?, lines.bool("5_p1")?],
            power_default: [lines.bool("1_p0")?, lines.bool("1_p1")?],
            network: Network {
                hostname: lines.text("3_dn")?.to_string(),
                address: lines.addr("3_ip")?,
                netmask: lines.addr("3_nm")?,
                gateway: lines.addr("3_gw")?,
                dns: lines.addr("3_dns")?,
                dhcp: lines.bool("3_dhcp")?,
            },
            http_port: lines.number("3_port")?,
            password_protection: lines.bool("3_pwd")?,
            syslog: Syslog {
                enabled: lines.bool("3_log")?,
                host: lines.addr("3_loghost")?,
                port: lines.number("3_logport")?,
            },
            mail: Mail {
                server: lines.text("2_mhost")?.to_string(),
                from: lines.text("2_mfrom")?.to_string(),
                to: lines.text("2_mto")?.to_string(),
            },
            layout_mismatch,
        })
    }
}

fn watchdog(lines: &Lines) -> Result<Watchdog, String> {
    let code: u8 = lines.number("6_wstate")?;
    let state = WatchdogState::from_code(code)
        .ok_or_else(|| format!("6_wstate={code} is not 0, 1 or 2"))?;
    Ok(Watchdog {
        enabled: lines.bool("6_wen")?,
        enabled_by_default: lines.bool("2_wen")?,
        state,
        interval_secs: lines.number("2_wintv")?,
        remaining_secs: lines.number("0_wretv").ok(),
        audio_alarm: lines.bool("2_as")?,
        mail_alarm: lines.bool("2_men")?,
    })
}

/// Finds the magic line and collects the `key=value` lines after it.
fn split_body(body: &str) -> Result<(String, Lines), String> {
    let mut version = None;
    let mut values = BTreeMap::new();
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key == CONFMAP_MAGIC_KEY {
            version = Some(value.to_string());
        } else if version.is_some() {
            values.insert(key.to_string(), value.to_string());
        }
    }
    let version = version.ok_or_else(|| {
        format!("no valid configuration information (no {CONFMAP_MAGIC_KEY} line)")
    })?;
    Ok((version, Lines { values }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "garbage before\nbnfos_confmap_magic=0.1\n1_sz=0\n4_mode=1\n\
        1_rm=checked\n5_p0=0\n1_p0=\n5_p1=1\n1_p1=checked\n3_dn=berofos\n3_ip=10.0.0.5\n\
        3_nm=255.255.255.0\n3_gw=10.0.0.1\n3_dns=bogus\n3_dhcp=\n3_port=80\n3_pwd=checked\n\
        2_mhost=\n2_mfrom=\n2_mto=\n3_log=\n3_loghost=0.0.0.0\n3_logport=514\n6_wen=2\n\
        2_wen=checked\n6_wstate=2\n2_wintv=60\n2_as=\n2_men=\n0_wretv=0\n1_szd00=x\n";

    #[test]
    fn reads_relay_and_watchdog() {
        let s = Settings::parse(SAMPLE).unwrap();
        assert_eq!(s.relay_mode, RelayMode::Master);
        assert_eq!(s.default_relay_mode, RelayMode::Master);
        assert_eq!(s.scenario, Scenario::Fallback);
        assert_eq!(s.watchdog.state, WatchdogState::Failure);
        assert!(!s.watchdog.enabled, "state 2 reads as a disabled wdog");
        assert!(s.watchdog.enabled_by_default);
        assert_eq!(s.watchdog.interval_secs, 60);
        assert_eq!(s.power, [false, true]);
        assert_eq!(s.network.dns, Ipv4Addr::UNSPECIFIED);
        assert!(s.password_protection);
        assert_eq!(s.layout_mismatch, None);
    }

    #[test]
    fn missing_magic_or_key_is_an_error() {
        let err = Settings::parse("4_mode=1\n").unwrap_err();
        assert!(err.contains("bnfos_confmap_magic"), "{err}");
        let err = Settings::parse("bnfos_confmap_magic=0.1\n1_sz=0\n").unwrap_err();
        assert!(err.contains("no 4_mode line"), "{err}");
    }
}
