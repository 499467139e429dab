//! `[ntp]`: time for the box, and for the phones it serves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::Check;
use super::index::FirstSeen;
use super::network::Network;
use super::values::HostAddr;
use crate::path;

/// NTP client and server (chrony).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ntp {
    /// Upstream servers, asked with `iburst`.
    #[serde(default)]
    pub servers: Vec<HostAddr>,
    /// Upstream pools (several servers behind one name).
    #[serde(default)]
    pub pools: Vec<HostAddr>,
    /// Serve time to the VoIP subnet.
    #[serde(default = "yes")]
    pub serve_voip: bool,
    /// Stratum announced from the local clock when no upstream answers (1–15); 0 turns the fallback off.
    #[serde(default = "default_stratum", with = "stratum")]
    #[schemars(with = "u8")]
    pub local_stratum: Option<u8>,
}

fn yes() -> bool {
    true
}

fn default_stratum() -> Option<u8> {
    Some(10)
}

impl Default for Ntp {
    fn default() -> Self {
        Ntp {
            servers: Vec::new(),
            pools: Vec::new(),
            serve_voip: true,
            local_stratum: default_stratum(),
        }
    }
}

/// `local_stratum` in TOML: a number, 0 meaning no local fallback.
mod stratum {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(v.unwrap_or(0))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
        Ok(match u8::deserialize(d)? {
            0 => None,
            n => Some(n),
        })
    }
}

impl Ntp {
    pub fn validate(&self, net: &Network, cx: &mut Check) {
        if let Some(s) = self.local_stratum {
            if !(1..=15).contains(&s) {
                cx.error(
                    path!["ntp", "local_stratum"],
                    format!("stratum {s} is outside 1–15"),
                );
            }
        }
        if self.serve_voip && net.voip_link().is_none() && !net.interface.is_empty() {
            cx.error_help(
                path!["ntp", "serve_voip"],
                "time is served to the VoIP subnet, but no interface has `role = \"voip\"`",
                "mark the phones' interface with `role = \"voip\"`, or set `serve_voip = false`",
            );
        }
        for (key, list) in [("servers", &self.servers), ("pools", &self.pools)] {
            let mut hosts = FirstSeen::new();
            for (i, host) in list.iter().enumerate() {
                if hosts.seen(host, i).is_some() {
                    cx.error(path!["ntp", key, i], format!("`{host}` is listed twice"));
                }
            }
        }
    }
}
