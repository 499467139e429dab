//! One writable setting: what `bnfos --set key=value` sends as
//! `GET /?cmd=N&param=value`.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::device::Password;
use crate::error::Error;
use crate::relay::{RelayMode, Scenario};

/// One of the device's two switched power outlets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerPort {
    /// `power1`.
    One,
    /// `power2`.
    Two,
}

impl PowerPort {
    fn index(self) -> u8 {
        match self {
            PowerPort::One => 0,
            PowerPort::Two => 1,
        }
    }
}

/// A value the device accepts on its web form; built already valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// `scenario`: fallback or bypass.
    Scenario(Scenario),
    /// `mode`: the relay position now.
    RelayMode(RelayMode),
    /// `modedef`: the relay position after power-on.
    DefaultRelayMode(RelayMode),
    /// `power1` / `power2`: a power outlet now.
    Power { port: PowerPort, on: bool },
    /// `power1def` / `power2def`: a power outlet after power-on.
    PowerDefault { port: PowerPort, on: bool },
    /// `hostname`.
    Hostname(String),
    /// `address`.
    Address(Ipv4Addr),
    /// `netmask`.
    Netmask(Ipv4Addr),
    /// `gateway`.
    Gateway(Ipv4Addr),
    /// `dns`.
    Dns(Ipv4Addr),
    /// `dhcp`.
    Dhcp(bool),
    /// `port`: the web server's port, 1..65535.
    HttpPort(u16),
    /// `pwd`: ask for the login on the web server.
    PasswordProtection(bool),
    /// `apwd`: the admin password (at most 15 characters); write only.
    AdminPassword(Password),
    /// `syslog`.
    Syslog(bool),
    /// `slgip`.
    SyslogHost(Ipv4Addr),
    /// `slgpt`, 1..65535.
    SyslogPort(u16),
    /// `wdog`: arm or disarm the watchdog now.
    WatchdogEnabled(bool),
    /// `wdogdef`: watchdog armed after power-on.
    WatchdogDefault(bool),
    /// `wdogitime`: seconds without a kick before failure, 1..65535.
    WatchdogInterval(u16),
    /// `wdogaudio`.
    WatchdogAudio(bool),
    /// `wdogmail`.
    WatchdogMail(bool),
}

/// The longest admin password the device stores.
pub const ADMIN_PASSWORD_MAX: usize = 15;

impl Setting {
    /// The `bnfos` keyword for this setting.
    pub fn keyword(&self) -> &'static str {
        match self {
            Setting::Scenario(_) => "scenario",
            Setting::RelayMode(_) => "mode",
            Setting::DefaultRelayMode(_) => "modedef",
            Setting::Power { port, .. } => ["power1", "power2"][port.index() as usize],
            Setting::PowerDefault { port, .. } => ["power1def", "power2def"][port.index() as usize],
            Setting::Hostname(_) => "hostname",
            Setting::Address(_) => "address",
            Setting::Netmask(_) => "netmask",
            Setting::Gateway(_) => "gateway",
            Setting::Dns(_) => "dns",
            Setting::Dhcp(_) => "dhcp",
            Setting::HttpPort(_) => "port",
            Setting::PasswordProtection(_) => "pwd",
            Setting::AdminPassword(_) => "apwd",
            Setting::Syslog(_) => "syslog",
            Setting::SyslogHost(_) => "slgip",
            Setting::SyslogPort(_) => "slgpt",
            Setting::WatchdogEnabled(_) => "wdog",
            Setting::WatchdogDefault(_) => "wdogdef",
            Setting::WatchdogInterval(_) => "wdogitime",
            Setting::WatchdogAudio(_) => "wdogaudio",
            Setting::WatchdogMail(_) => "wdogmail",
        }
    }

    /// Form number, parameter text before `=`, and the value in clear.
    fn wire(&self) -> (u8, String, String) {
        let bit = |b: bool| if b { "1" } else { "0" }.to_string();
        let (cmd, param, value) = match self {
            Setting::Scenario(s) => (1, "sz", bit(s.bit())),
            Setting::RelayMode(m) => (4, "mode", bit(m.bit())),
            Setting::DefaultRelayMode(m) => (1, "rm", bit(m.bit())),
            Setting::Power { port, on } => {
                return (5, format!("p={}&s", port.index()), bit(*on));
            }
            Setting::PowerDefault { port, on } => {
                return (1, format!("p{}", port.index()), bit(*on));
            }
            Setting::Hostname(h) => (3, "dn", h.clone()),
            Setting::Address(a) => (3, "ip", a.to_string()),
            Setting::Netmask(a) => (3, "nm", a.to_string()),
            Setting::Gateway(a) => (3, "gw", a.to_string()),
            Setting::Dns(a) => (3, "dns", a.to_string()),
            Setting::Dhcp(b) => (3, "dhcp", bit(*b)),
            Setting::HttpPort(p) => (3, "port", p.to_string()),
            Setting::PasswordProtection(b) => (3, "pwd", bit(*b)),
            Setting::AdminPassword(p) => (3, "apwd", p.expose().to_string()),
            Setting::Syslog(b) => (3, "syslog", bit(*b)),
            Setting::SyslogHost(a) => (3, "slgip", a.to_string()),
            Setting::SyslogPort(p) => (3, "slgpt", p.to_string()),
            Setting::WatchdogEnabled(b) => (6, "wen", bit(*b)),
            Setting::WatchdogDefault(b) => (2, "wen", bit(*b)),
            Setting::WatchdogInterval(s) => (2, "wintv", s.to_string()),
            Setting::WatchdogAudio(b) => (2, "as", bit(*b)),
            Setting::WatchdogMail(b) => (2, "men", bit(*b)),
        };
        (cmd, param.to_string(), value)
    }

    /// The request target, e.g. `/?cmd=4&mode=1`, value percent-encoded.
    pub fn request_path(&self) -> String {
        let (cmd, param, value) = self.wire();
        format!("/?cmd={cmd}&{param}={}", percent_encode(&value))
    }

    /// Builds a setting from a `bnfos` keyword and value, checked as `bnfos` checks it.
    pub fn parse(key: &str, value: &str) -> Result<Self, Error> {
        let key = key.to_ascii_lowercase();
        let b = || parse_bool(&key, value);
        let port = || parse_port(&key, value);
        let addr = || parse_addr(&key, value);
        let power = |n: u8| {
            if n == 1 {
                PowerPort::One
            } else {
                PowerPort::Two
            }
        };
        Ok(match key.as_str() {
            "scenario" => Setting::Scenario(Scenario::from_bit(b()?)),
            "mode" => Setting::RelayMode(RelayMode::from_bit(b()?)),
            "modedef" => Setting::DefaultRelayMode(RelayMode::from_bit(b()?)),
            "power1" | "power2" => Setting::Power {
                port: power(key.as_bytes()[5] - b'0'),
                on: b()?,
            },
            "power1def" | "power2def" => Setting::PowerDefault {
                port: power(key.as_bytes()[5] - b'0'),
                on: b()?,
            },
            "hostname" => Setting::Hostname(parse_hostname(value)?),
            "address" => Setting::Address(addr()?),
            "netmask" => Setting::Netmask(addr()?),
            "gateway" => Setting::Gateway(addr()?),
            "dns" => Setting::Dns(addr()?),
            "dhcp" => Setting::Dhcp(b()?),
            "port" => Setting::HttpPort(port()?),
            "pwd" => Setting::PasswordProtection(b()?),
            "apwd" => Setting::AdminPassword(parse_admin_password(value)?),
            "syslog" => Setting::Syslog(b()?),
            "slgip" => Setting::SyslogHost(addr()?),
            "slgpt" => Setting::SyslogPort(port()?),
            "wdog" => Setting::WatchdogEnabled(b()?),
            "wdogdef" => Setting::WatchdogDefault(b()?),
            "wdogitime" => Setting::WatchdogInterval(port()?),
            "wdogaudio" => Setting::WatchdogAudio(b()?),
            "wdogmail" => Setting::WatchdogMail(b()?),
            _ => return Err(invalid(&key, "not a setting the device accepts")),
        })
    }
}

impl FromStr for Setting {
    type Err = Error;

    /// Parses `key=value`, as `bnfos --set` takes it.
    fn from_str(s: &str) -> Result<Self, Error> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| invalid(s.split('=').next().unwrap_or(s), "expected key=value"))?;
        Setting::parse(key.trim(), value.trim())
    }
}

impl fmt::Display for Setting {
    /// `key=value`, with the admin password hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::AdminPassword(_) => write!(f, "apwd=***"),
            _ => write!(f, "{}={}", self.keyword(), self.wire().2),
        }
    }
}

fn invalid(key: &str, reason: &str) -> Error {
    Error::InvalidSetting {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(invalid(key, "value has to be 0 or 1")),
    }
}

fn parse_port(key: &str, value: &str) -> Result<u16, Error> {
    match value.parse::<u16>() {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(invalid(key, "value not in range 1 to 65535")),
    }
}

fn parse_addr(key: &str, value: &str) -> Result<Ipv4Addr, Error> {
    value
        .parse()
        .map_err(|_| invalid(key, "not a dotted IPv4 address"))
}

fn parse_hostname(value: &str) -> Result<String, Error> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
    if ok {
        Ok(value.to_string())
    } else {
        Err(invalid(
            "hostname",
            "use 1 to 63 letters, digits, '-' or '.'",
        ))
    }
}

fn parse_admin_password(value: &str) -> Result<Password, Error> {
    let printable = value.bytes().all(|c| c.is_ascii_graphic());
    if value.is_empty() || value.len() > ADMIN_PASSWORD_MAX || !printable {
        return Err(invalid(
            "apwd",
            "use 1 to 15 printable characters without spaces",
        ));
    }
    Ok(Password::new(value))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as curl does.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_mode_goes_to_form_four() {
        let s: Setting = "mode=1".parse().unwrap();
        assert_eq!(s, Setting::RelayMode(RelayMode::Master));
        assert_eq!(s.request_path(), "/?cmd=4&mode=1");
        assert_eq!(
            Setting::parse("MODEDEF", "no").unwrap().request_path(),
            "/?cmd=1&rm=0"
        );
    }

    #[test]
    fn power_ports_use_their_own_form() {
        let on = Setting::parse("power2", "yes").unwrap();
        assert_eq!(on.request_path(), "/?cmd=5&p=1&s=1");
        let def = Setting::parse("power1def", "0").unwrap();
        assert_eq!(def.request_path(), "/?cmd=1&p0=0");
    }

    #[test]
    fn values_are_checked_and_encoded() {
        assert!(Setting::parse("wdogitime", "0").is_err());
        assert!(Setting::parse("mode", "2").is_err());
        assert!(Setting::parse("hostname", "a\nb").is_err());
        assert!(Setting::parse("apwd", "0123456789abcdef").is_err());
        let pw = Setting::parse("apwd", "p&ss=1").unwrap();
        assert_eq!(pw.request_path(), "/?cmd=3&apwd=p%26ss%3D1");
        assert_eq!(pw.to_string(), "apwd=***");
        assert_eq!(
            Setting::parse("wdog", "TRUE").unwrap().to_string(),
            "wdog=1"
        );
    }
}
