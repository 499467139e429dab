//! Every setting the device reports in `GET /config.txt`, typed.
//!
//! The body is `key=value` lines separated by LF. Lines before the line
//! `bnfos_confmap_magic=0.1` are ignored; data lines are `<form>_<key>=<value>`
//! (e.g. `4_mode=1`). Booleans read as true for `1` or `checked`.
//!
//! Read as `bnfos` reads it: a firmware that sends fewer keys still gives
//! settings, the missing ones unknown (`None`); a value that cannot be read
//! is unknown too and says why in [`Settings::warnings`]; so does a magic
//! version other than `0.1`. Only a body without the magic line is refused.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::Serialize;

use crate::relay::{RelayMode, Scenario, Watchdog, WatchdogState};

/// The key of the line that starts the data.
pub const CONFMAP_MAGIC_KEY: &str = "bnfos_confmap_magic";
/// The only version of the data layout this crate knows.
pub const CONFMAP_MAGIC_VERSION: &str = "0.1";

/// The device's configuration and state, as read over HTTP; `None` marks
/// a value the reply had no (readable) line for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Fallback or bypass wiring (`scenario`).
    pub scenario: Option<Scenario>,
    /// Relay position now (`mode`).
    pub relay_mode: Option<RelayMode>,
    /// Relay position after power-on (`modedef`).
    pub default_relay_mode: Option<RelayMode>,
    /// The watchdog.
    pub watchdog: Watchdog,
    /// Power outlets 1 and 2, now.
    pub power: [Option<bool>; 2],
    /// Power outlets 1 and 2 after power-on.
    pub power_default: [Option<bool>; 2],
    /// Network settings of the device.
    pub network: Network,
    /// Web server port (`port`).
    pub http_port: Option<u16>,
    /// The web server asks for the login (`pwd`).
    pub password_protection: Option<bool>,
    /// Remote syslog.
    pub syslog: Syslog,
    /// Alarm mail settings.
    pub mail: Mail,
    /// The magic version line's value, when it was not the expected one.
    pub layout_mismatch: Option<String>,
    /// `config.txt` keys of known settings the reply had no line for.
    pub missing: Vec<&'static str>,
    /// Lines whose value could not be read (the setting is unknown).
    pub unreadable: Vec<String>,
}

/// Network settings (`hostname`, `address`, `netmask`, `gateway`, `dns`, `dhcp`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Network {
    pub hostname: Option<String>,
    pub address: Option<Ipv4Addr>,
    pub netmask: Option<Ipv4Addr>,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Option<Ipv4Addr>,
    pub dhcp: Option<bool>,
}

/// Remote syslog (`syslog`, `slgip`, `slgpt`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Syslog {
    pub enabled: Option<bool>,
    pub host: Option<Ipv4Addr>,
    pub port: Option<u16>,
}

/// Alarm mail (`smtpserv`, `smtpfrom`, `smtpto`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Mail {
    pub server: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The raw `key=value` lines after the magic line, and what reading them found.
struct Lines {
    values: BTreeMap<String, String>,
    missing: Vec<&'static str>,
    unreadable: Vec<String>,
}

impl Lines {
    fn text(&mut self, key: &'static str) -> Option<String> {
        let value = self.values.get(key).cloned();
        if value.is_none() {
            self.missing.push(key);
        }
        value
    }

    fn bool(&mut self, key: &'static str) -> Option<bool> {
        self.text(key)
            .map(|v| matches!(v.as_str(), "1" | "checked"))
    }

    fn number<T: FromStr>(&mut self, key: &'static str) -> Option<T> {
        let text = self.text(key)?;
        let number = text.trim().parse().ok();
        if number.is_none() {
            self.unreadable
                .push(format!("{key}={text:?} is not a number"));
        }
        number
    }

    /// An address; unreadable ones read as 0.0.0.0, as `bnfos` reads them.
    fn addr(&mut self, key: &'static str) -> Option<Ipv4Addr> {
        self.text(key)
            .map(|t| t.parse().unwrap_or(Ipv4Addr::UNSPECIFIED))
    }
}

impl Settings {
    /// Parses the body of `GET /config.txt`; the error says what was wrong.
    pub fn parse(body: &str) -> Result<Settings, String> {
        let (version, mut lines) = split_body(body)?;
        let layout_mismatch = (version != CONFMAP_MAGIC_VERSION).then_some(version);
        let l = &mut lines;
        let mut settings = Settings {
            scenario: l.bool("1_sz").map(Scenario::from_bit),
            relay_mode: l.bool("4_mode").map(RelayMode::from_bit),
            default_relay_mode: l.bool("1_rm").map(RelayMode::from_bit),
            watchdog: watchdog(l),
            power: [l.bool("5_p0"), l.bool("5_p1")],
            power_default: [l.bool("1_p0"), l.bool("1_p1")],
            network: Network {
                hostname: l.text("3_dn"),
                address: l.addr("3_ip"),
                netmask: l.addr("3_nm"),
                gateway: l.addr("3_gw"),
                dns: l.addr("3_dns"),
                dhcp: l.bool("3_dhcp"),
            },
            http_port: l.number("3_port"),
            password_protection: l.bool("3_pwd"),
            syslog: Syslog {
                enabled: l.bool("3_log"),
                host: l.addr("3_loghost"),
                port: l.number("3_logport"),
            },
            mail: Mail {
                server: l.text("2_mhost"),
                from: l.text("2_mfrom"),
                to: l.text("2_mto"),
            },
            layout_mismatch,
            missing: Vec::new(),
            unreadable: Vec::new(),
        };
        settings.missing = lines.missing;
        settings.unreadable = lines.unreadable;
        Ok(settings)
    }

    /// What the reader of these settings should be told: a layout version
    /// other than the one this client knows (`bnfos` warns the same), and
    /// every value that could not be read.
    pub fn warnings(&self) -> Vec<String> {
        let layout = self.layout_mismatch.iter().map(|version| {
            format!(
                "config.txt has {CONFMAP_MAGIC_KEY}={version}, not {CONFMAP_MAGIC_VERSION}: \
                 the firmware version does not match, expect incorrect values"
            )
        });
        let unreadable = self
            .unreadable
            .iter()
            .map(|line| format!("config.txt line {line}; shown as unknown"));
        layout.chain(unreadable).collect()
    }
}

fn watchdog(lines: &mut Lines) -> Watchdog {
    let state = lines.number::<u8>("6_wstate").and_then(|code| {
        let state = WatchdogState::from_code(code);
        if state.is_none() {
            lines
                .unreadable
                .push(format!("6_wstate={code} is not 0, 1 or 2"));
        }
        state
    });
    Watchdog {
        enabled: lines.bool("6_wen"),
        enabled_by_default: lines.bool("2_wen"),
        state,
        interval_secs: lines.number("2_wintv"),
        remaining_secs: lines.number("0_wretv"),
        audio_alarm: lines.bool("2_as"),
        mail_alarm: lines.bool("2_men"),
    }
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
    Ok((
        version,
        Lines {
            values,
            missing: Vec::new(),
            unreadable: Vec::new(),
        },
    ))
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
        assert_eq!(s.relay_mode, Some(RelayMode::Master));
        assert_eq!(s.default_relay_mode, Some(RelayMode::Master));
        assert_eq!(s.scenario, Some(Scenario::Fallback));
        assert_eq!(s.watchdog.state, Some(WatchdogState::Failure));
        assert_eq!(
            s.watchdog.enabled,
            Some(false),
            "state 2 reads as a disabled wdog"
        );
        assert_eq!(s.watchdog.enabled_by_default, Some(true));
        assert_eq!(s.watchdog.interval_secs, Some(60));
        assert_eq!(s.watchdog.remaining_secs, Some(0));
        assert_eq!(s.power, [Some(false), Some(true)]);
        assert_eq!(s.network.dns, Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(s.password_protection, Some(true));
        assert_eq!(s.layout_mismatch, None);
        assert!(s.missing.is_empty(), "{:?}", s.missing);
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn missing_magic_is_an_error() {
        let err = Settings::parse("4_mode=1\n").unwrap_err();
        assert!(err.contains("bnfos_confmap_magic"), "{err}");
    }

    #[test]
    fn missing_keys_are_unknown_and_the_rest_is_read() {
        let s = Settings::parse("bnfos_confmap_magic=0.1\n4_mode=0\n2_wintv=30\n").unwrap();
        assert_eq!(s.relay_mode, Some(RelayMode::Slave));
        assert_eq!(s.watchdog.interval_secs, Some(30));
        assert_eq!(s.scenario, None);
        assert_eq!(s.watchdog.state, None);
        assert_eq!(s.watchdog.remaining_secs, None);
        assert_eq!(s.power, [None, None]);
        assert_eq!(s.network, Network::default());
        assert_eq!(s.http_port, None);
        assert!(s.missing.contains(&"1_sz") && s.missing.contains(&"6_wstate"));
        assert!(!s.missing.contains(&"4_mode"));
        assert!(s.warnings().is_empty(), "missing keys are no warning");
    }

    #[test]
    fn another_magic_reads_with_a_warning() {
        let body = SAMPLE.replace("bnfos_confmap_magic=0.1", "bnfos_confmap_magic=0.2");
        let s = Settings::parse(&body).unwrap();
        assert_eq!(s.layout_mismatch.as_deref(), Some("0.2"));
        assert_eq!(s.relay_mode, Some(RelayMode::Master));
        let warnings = s.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("bnfos_confmap_magic=0.2, not 0.1")
                && warnings[0].contains("expect incorrect values"),
            "{warnings:?}"
        );
    }

    #[test]
    fn unreadable_values_are_unknown_with_a_warning() {
        let body = SAMPLE
            .replace("3_port=80", "3_port=eighty")
            .replace("6_wstate=2", "6_wstate=7");
        let s = Settings::parse(&body).unwrap();
        assert_eq!(s.http_port, None);
        assert_eq!(s.watchdog.state, None);
        assert_eq!(s.watchdog.interval_secs, Some(60));
        let warnings = s.warnings().join("\n");
        assert!(
            warnings.contains("3_port=\"eighty\" is not a number"),
            "{warnings}"
        );
        assert!(
            warnings.contains("6_wstate=7 is not 0, 1 or 2"),
            "{warnings}"
        );
    }
}
