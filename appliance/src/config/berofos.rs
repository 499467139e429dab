//! `[[berofos]]`: beroNet Berofos failover switches the box drives.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::Check;
use super::index::FirstSeen;
use super::values::{AbsPath, Ident, MacAddr, Secret};
use crate::path;

/// One Berofos failover switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Berofos {
    /// `fos1`, `fos2`, …: the section name in /etc/bnfos.conf; numbered from 1 without gaps.
    pub name: Ident,
    /// IP address of the device.
    pub host: IpAddr,
    /// MAC address of the device (as `bnfos --scan` shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Login user of the device's web interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Ident>,
    /// File (mode 0600) holding the password; preferred over `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<AbsPath>,
    /// The password itself; sysconfd moves it into a 0600 secrets file and never shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// The number N of a `fosN` name.
pub fn fos_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("fos")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub fn validate(devices: &[Berofos], cx: &mut Check) {
    let mut numbers = Vec::new();
    let mut hosts = FirstSeen::new();
    for (i, dev) in devices.iter().enumerate() {
        let base = path!["berofos", i];
        match fos_number(dev.name.as_str()) {
            Some(n) => numbers.push((n, i)),
            None => cx.error_help(
                base.join("name"),
                format!("Berofos name `{}` is not of the form fosN", dev.name),
                "name the devices fos1, fos2, … as bnfos.conf does",
            ),
        }
        if dev.password.is_some() && dev.password_file.is_some() {
            cx.error(
                base.join("password"),
                "give either `password` or `password_file`, not both",
            );
        }
        if dev.user.is_none() && (dev.password.is_some() || dev.password_file.is_some()) {
            cx.error(base.join("user"), "a password is set but `user` is missing");
        }
        if hosts.seen(&dev.host, i).is_some() {
            cx.error(
                base.join("host"),
                format!("{} is used by another Berofos", dev.host),
            );
        }
    }
    numbers.sort();
    for (expected, (n, i)) in (1u32..).zip(&numbers) {
        if *n != expected {
            cx.error_help(
                path!["berofos", *i, "name"],
                format!("`fos{n}` found where `fos{expected}` was expected"),
                "number the devices fos1 to fosN without gaps or repeats",
            );
            break;
        }
    }
}
