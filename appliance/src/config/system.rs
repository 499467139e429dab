//! `[system]` and `[dns]`: who the box is and whom it asks for names.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::Check;
use super::values::{DomainName, Hostname};
use crate::path;

/// Identity of the box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// Host name of the box (one label, no dots), written to /etc/hostname and /etc/hosts.
    pub hostname: Hostname,
    /// DNS domain of the box; with the host name it makes the FQDN in /etc/hosts.
    pub domain: DomainName,
    /// Time zone name from the tz database, such as `Europe/Paris`.
    #[serde(default = "default_timezone")]
    pub timezone: Timezone,
}

fn default_timezone() -> Timezone {
    Timezone("UTC".to_owned())
}

/// A tz database name: `Area/Location` made of letters, digits, `_`, `-`, `+`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(String);

impl Timezone {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Timezone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && !s.starts_with('/')
            && s.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if ok {
            Ok(Timezone(s))
        } else {
            Err(format!(
                "`{}` is not a time zone name; write one like Europe/Paris or UTC",
                s.escape_debug()
            ))
        }
    }
}

impl From<Timezone> for String {
    fn from(t: Timezone) -> String {
        t.0
    }
}

/// Name resolution for the box, written to /etc/resolv.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// One to three name server addresses, asked in order.
    pub nameservers: Vec<IpAddr>,
    /// Up to six domains to search for short names.
    #[serde(default)]
    pub search: Vec<DomainName>,
}

impl Dns {
    pub fn validate(&self, cx: &mut Check) {
        let n = self.nameservers.len();
        if !(1..=3).contains(&n) {
            cx.error_help(
                path!["dns", "nameservers"],
                format!("{n} name servers given; the resolver uses one to three"),
                "list between one and three addresses, most reliable first",
            );
        }
        if self.search.len() > 6 {
            cx.error_help(
                path!["dns", "search", 6],
                format!(
                    "{} search domains given; at most six are allowed",
                    self.search.len()
                ),
                "keep the six most used domains",
            );
        }
        for (i, ns) in self.nameservers.iter().enumerate() {
            if ns.is_unspecified() || ns.is_multicast() {
                cx.error(
                    path!["dns", "nameservers", i],
                    format!("{ns} cannot be a name server"),
                );
            }
        }
    }
}
