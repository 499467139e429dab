//! The device's web pages as data: `config.txt` and the `?cmd=N` forms.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Instant;

use super::state::DeviceState;

/// The key of the first data line; `bnfos` ignores everything before it.
pub const MAGIC_KEY: &str = "bnfos_confmap_magic";
/// The layout version firmware 1.53 sends, the one `bnfos` expects.
pub const MAGIC_VERSION: &str = "0.1";

/// How this firmware writes `config.txt`: its magic version and the keys
/// it does not send (an older or newer firmware's template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub magic: String,
    pub omitted_keys: Vec<String>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            magic: MAGIC_VERSION.to_string(),
            omitted_keys: Vec::new(),
        }
    }
}

/// A checkbox macro's value: `checked` or empty.
fn checked(on: bool) -> &'static str {
    if on {
        "checked"
    } else {
        ""
    }
}

fn digit(on: bool) -> u8 {
    u8::from(on)
}

/// `config.txt`: one `<form>_<key>=<value>` line each, LF endings, in the
/// firmware's layout.
pub fn config_txt(d: &DeviceState, layout: &Layout, now: Instant) -> String {
    let wd = d.watchdog as u8;
    let mut t = format!("{MAGIC_KEY}={}\n", layout.magic);
    let mut line = |key: &str, value: &dyn std::fmt::Display| {
        if !layout.omitted_keys.iter().any(|k| k == key) {
            let _ = writeln!(t, "{key}={value}");
        }
    };
    line("1_sz", &digit(d.bypass));
    line("4_mode", &digit(d.relay.bit()));
    line("1_rm", &checked(d.default_relay.bit()));
    line("5_p0", &digit(d.power[0]));
    line("1_p0", &checked(d.power_default[0]));
    line("5_p1", &digit(d.power[1]));
    line("1_p1", &checked(d.power_default[1]));
    line("3_dn", &d.hostname);
    line("3_ip", &d.address);
    line("3_nm", &d.netmask);
    line("3_gw", &d.gateway);
    line("3_dns", &d.dns);
    line("3_dhcp", &checked(d.dhcp));
    line("3_port", &d.http_port);
    line("3_pwd", &checked(d.password_protection));
    line("2_mhost", &d.mail[0]);
    line("2_mfrom", &d.mail[1]);
    line("2_mto", &d.mail[2]);
    line("3_log", &checked(d.syslog));
    line("3_loghost", &d.syslog_host);
    line("3_logport", &d.syslog_port);
    line("6_wen", &wd);
    line("2_wen", &checked(d.watchdog_default));
    line("6_wstate", &wd);
    line("2_wintv", &d.watchdog_interval);
    line("2_as", &checked(d.watchdog_audio));
    line("2_men", &checked(d.watchdog_mail));
    line("0_wretv", &d.watchdog_remaining(now));
    // Lines real firmware also prints; clients must skip keys they do not know.
    line("1_szd00", &0);
    line("1_szd01", &0);
    line("2_mail", &0);
    t
}

/// One parsed form field, checked before anything is changed.
enum Change {
    Bypass(bool),
    DefaultRelay(bool),
    PowerDefault(usize, bool),
    WatchdogDefault(bool),
    WatchdogInterval(u16),
    WatchdogAudio(bool),
    WatchdogMail(bool),
    Mail(usize, String),
    TestMail,
    Hostname(String),
    Addr(&'static str, Ipv4Addr),
    Dhcp(bool),
    HttpPort(u16),
    PasswordProtection(bool),
    AdminPassword(String),
    Syslog(bool),
    SyslogPort(u16),
    Relay(bool),
    Power(usize, bool),
    Watchdog(bool),
}

/// Applies `cmd=N&…` (already split into decoded pairs). Every field must be
/// known and valid, or nothing changes and the reason is returned.
pub fn apply(d: &mut DeviceState, fields: &[(String, String)], now: Instant) -> Result<(), String> {
    let cmd = field(fields, "cmd").ok_or("no cmd parameter")?;
    let rest: Vec<&(String, String)> = fields.iter().filter(|(k, _)| k != "cmd").collect();
    let changes = match cmd {
        "5" => vec![power_change(fields)?],
        "7" => vec![Change::TestMail],
        _ => rest
            .iter()
            .map(|(k, v)| change(cmd, k, v))
            .collect::<Result<_, _>>()?,
    };
    for c in changes {
        commit(d, c, now);
    }
    Ok(())
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn power_change(fields: &[(String, String)]) -> Result<Change, String> {
    let port = match field(fields, "p") {
        Some("0") => 0,
        Some("1") => 1,
        other => return Err(format!("bad power port {other:?}")),
    };
    let on = bool_value("s", field(fields, "s").unwrap_or_default())?;
    Ok(Change::Power(port, on))
}

fn bool_value(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(format!("{key}={v:?} is not 0 or 1")),
    }
}

fn port_value(key: &str, v: &str) -> Result<u16, String> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("{key}={v:?} is not 1..65535")),
    }
}

fn addr_value(key: &str, v: &str) -> Result<Ipv4Addr, String> {
    v.parse()
        .map_err(|_| format!("{key}={v:?} is not an address"))
}

fn change(cmd: &str, key: &str, v: &str) -> Result<Change, String> {
    let b = || bool_value(key, v);
    Ok(match (cmd, key) {
        ("1", "sz") => Change::Bypass(b()?),
        ("1", "rm") => Change::DefaultRelay(b()?),
        ("1", "p0") => Change::PowerDefault(0, b()?),
        ("1", "p1") => Change::PowerDefault(1, b()?),
        ("2", "wen") => Change::WatchdogDefault(b()?),
        ("2", "wintv") => Change::WatchdogInterval(port_value(key, v)?),
        ("2", "as") => Change::WatchdogAudio(b()?),
        ("2", "men") => Change::WatchdogMail(b()?),
        ("2", "mhost") => Change::Mail(0, v.to_string()),
        ("2", "mfrom") => Change::Mail(1, v.to_string()),
        ("2", "mto") => Change::Mail(2, v.to_string()),
        ("3", "dn") => Change::Hostname(v.to_string()),
        ("3", "ip") => Change::Addr("ip", addr_value(key, v)?),
        ("3", "nm") => Change::Addr("nm", addr_value(key, v)?),
        ("3", "gw") => Change::Addr("gw", addr_value(key, v)?),
        ("3", "dns") => Change::Addr("dns", addr_value(key, v)?),
        ("3", "slgip") => Change::Addr("slgip", addr_value(key, v)?),
        ("3", "dhcp") => Change::Dhcp(b()?),
        ("3", "port") => Change::HttpPort(port_value(key, v)?),
        ("3", "pwd") => Change::PasswordProtection(b()?),
        ("3", "apwd") if !v.is_empty() && v.len() <= 15 => Change::AdminPassword(v.to_string()),
        ("3", "syslog") => Change::Syslog(b()?),
        ("3", "slgpt") => Change::SyslogPort(port_value(key, v)?),
        ("4", "mode") => Change::Relay(b()?),
        ("6", "wen") => Change::Watchdog(b()?),
        _ => {
            return Err(format!(
                "form {cmd} has no field {key:?} (or its value is refused)"
            ))
        }
    })
}

fn commit(d: &mut DeviceState, change: Change, now: Instant) {
    match change {
        Change::Bypass(on) => d.bypass = on,
        Change::DefaultRelay(bit) => d.set_default_relay_bit(bit),
        Change::PowerDefault(i, on) => d.power_default[i] = on,
        Change::WatchdogDefault(on) => d.watchdog_default = on,
        Change::WatchdogInterval(s) => d.set_watchdog_interval(s, now),
        Change::WatchdogAudio(on) => d.watchdog_audio = on,
        Change::WatchdogMail(on) => d.watchdog_mail = on,
        Change::Mail(i, v) => d.mail[i] = v,
        Change::TestMail => d.counters.test_mails += 1,
        Change::Hostname(h) => d.hostname = h,
        Change::Addr(which, a) => match which {
            "ip" => d.address = a,
            "nm" => d.netmask = a,
            "gw" => d.gateway = a,
            "dns" => d.dns = a,
            _ => d.syslog_host = a,
        },
        Change::Dhcp(on) => d.dhcp = on,
        Change::HttpPort(p) => d.http_port = p,
        Change::PasswordProtection(on) => d.password_protection = on,
        Change::AdminPassword(p) => d.password = p,
        Change::Syslog(on) => d.syslog = on,
        Change::SyslogPort(p) => d.syslog_port = p,
        Change::Relay(bit) => d.command_relay_bit(bit),
        Change::Power(i, on) => d.power[i] = on,
        Change::Watchdog(on) => d.set_watchdog(on, now),
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::Relay;
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn config_txt_starts_with_magic_and_uses_lf() {
        let d = DeviceState::factory([0; 6], Ipv4Addr::LOCALHOST, 80);
        let text = config_txt(&d, &Layout::default(), Instant::now());
        assert!(text.starts_with("bnfos_confmap_magic=0.1\n"));
        assert!(!text.contains('\r'));
        assert!(text.contains("\n4_mode=0\n"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn another_layout_changes_the_magic_and_leaves_keys_out() {
        let d = DeviceState::factory([0; 6], Ipv4Addr::LOCALHOST, 80);
        let layout = Layout {
            magic: "0.2".into(),
            omitted_keys: vec!["6_wstate".into(), "4_mode".into()],
        };
        let text = config_txt(&d, &layout, Instant::now());
        assert!(text.starts_with("bnfos_confmap_magic=0.2\n"), "{text}");
        assert!(
            !text.contains("6_wstate=") && !text.contains("4_mode="),
            "{text}"
        );
        assert!(text.contains("\n6_wen=0\n"), "{text}");
    }

    #[test]
    fn a_bad_field_changes_nothing() {
        let mut d = DeviceState::factory([0; 6], Ipv4Addr::LOCALHOST, 80);
        let now = Instant::now();
        assert!(apply(&mut d, &pairs(&[("cmd", "4"), ("mode", "1")]), now).is_ok());
        assert_eq!(d.relay, Relay::AB);
        let bad = pairs(&[("cmd", "1"), ("rm", "1"), ("bogus", "1")]);
        assert!(apply(&mut d, &bad, now).is_err());
        assert_eq!(d.default_relay, Relay::AD);
    }
}
