//! The declarative model of a whole telbox: `appliance.toml`.
//!
//! [`load`] is the one way in: it parses, checks types and unknown keys,
//! then runs every cross-field rule, and hands back a [`Config`] only when
//! nothing is wrong. Otherwise the [`Report`] lists every problem with its
//! line, column and a fix.

pub mod berofos;
pub mod dhcp;
mod diag;
pub mod ha;
mod index;
pub mod limits;
mod locate;
pub mod network;
pub mod ntp;
pub(crate) mod parse;
mod report;
pub mod system;
pub mod telephony;
pub mod values;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::path;

pub use diag::{Anchor, Check, ConfigPath, Diagnostic, Seg};
pub use limits::TooLarge;
pub use locate::{Locator, Position};
pub use report::{Located, Report};

/// Everything a telbox is configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Identity of the box.
    pub system: system::System,
    /// Name servers and search domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<system::Dns>,
    /// Interfaces, VLANs and routes.
    #[serde(default)]
    pub network: network::Network,
    /// DHCP server for IP phones.
    #[serde(default)]
    pub dhcp: dhcp::Dhcp,
    /// NTP client and server.
    #[serde(default)]
    pub ntp: ntp::Ntp,
    /// DAHDI telephony hardware.
    #[serde(default)]
    pub telephony: telephony::Telephony,
    /// Berofos failover switches.
    #[serde(default)]
    pub berofos: Vec<berofos::Berofos>,
    /// Master/slave high availability.
    #[serde(default)]
    pub ha: ha::Ha,
}

impl Config {
    /// Runs every cross-field rule.
    pub fn validate(&self, cx: &mut Check) {
        if let Some(dns) = &self.dns {
            dns.validate(cx);
        }
        self.network.validate(cx);
        self.dhcp.validate(&self.network, cx);
        self.ntp.validate(&self.network, cx);
        self.telephony.validate(cx);
        berofos::validate(&self.berofos, cx);
        self.ha.validate(&self.network, &self.berofos, cx);
        self.check_service_address_is_not_leased(cx);
    }

    /// The HA service address must not be one the DHCP server hands out.
    fn check_service_address_is_not_leased(&self, cx: &mut Check) {
        let (Some(vip), true) = (self.ha.virtual_address, self.dhcp.enabled) else {
            return;
        };
        let in_pool = match (self.dhcp.pool_start, self.dhcp.pool_end) {
            (Some(start), Some(end)) => (start..=end).contains(&vip.addr),
            _ => false,
        };
        let reserved = self.dhcp.reservation.iter().any(|r| r.address == vip.addr);
        if in_pool || reserved {
            let whose = if in_pool {
                "the DHCP pool"
            } else {
                "a DHCP reservation"
            };
            cx.error_help(
                path!["ha", "virtual_address"],
                format!("{} is in {whose}: a phone could be given it", vip.addr),
                "give the service address outside `pool_start`–`pool_end` and the reservations",
            );
        }
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Config always serializes")
    }

    /// A copy with every secret replaced by `<redacted>`: what logs, history
    /// and D-Bus replies may show.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        for dev in &mut c.berofos {
            if dev.password.is_some() {
                dev.password = Some(values::Secret::redacted());
            }
        }
        c
    }
}

/// Parses and validates `text`, read from `origin` (a file name, for messages).
///
/// A text over [`limits::MAX_CONFIG_BYTES`] or a section over its entry
/// limit is one problem, found before any other rule runs.
pub fn load(text: &str, origin: &str) -> Result<Config, Report> {
    if let Err(big) = limits::check_size(text) {
        return Err(Report::too_large(origin, big));
    }
    // The span-keeping document is parsed only when there is something to
    // point at: for a valid file it would be a second parse for nothing.
    let locate = || Locator::parse(text).map_err(|(span, m)| Report::syntax(origin, text, span, m));
    let mut check = Check::new();
    // A well-typed file is read in one pass; only a file with type errors or
    // unknown keys goes through the recovery, which finds them all.
    let config = match toml::from_str::<Config>(text) {
        Ok(config) => Some(config),
        Err(_) => recover(text, origin, &mut check, locate)?,
    };
    if let Some(config) = &config {
        match config.check_limits() {
            Ok(()) => config.validate(&mut check),
            Err(big) => {
                let path = big.path();
                let help = "remove entries the box does not need; a real box stays far below this";
                check.error_help(path, big.to_string(), help);
                let mut report = Report::new(origin, &locate()?, check.into_diagnostics());
                report.too_large = Some(big);
                return Err(report);
            }
        }
    }
    match config {
        Some(config) if check.is_empty() => Ok(config),
        _ => Err(Report::new(origin, &locate()?, check.into_diagnostics())),
    }
}

/// Reads a file that does not deserialize as it is: a syntax error is the
/// whole report; otherwise every type error and unknown key goes into
/// `check`, and the config comes back when only unknown keys were wrong.
fn recover(
    text: &str,
    origin: &str,
    check: &mut Check,
    locate: impl Fn() -> Result<Locator, Report>,
) -> Result<Option<Config>, Report> {
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => Ok(parse::deserialize_all::<Config>(table, check)),
        Err(e) => {
            locate()?;
            Err(Report::syntax(
                origin,
                text,
                e.span(),
                e.message().to_owned(),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
