//! How big a configuration may be. A real box has a handful of interfaces,
//! a few dozen VLANs and routes and a few hundred phones; the limits are
//! far above that and far below what could make one call expensive.
//! They are checked before any other rule, so the work a file can cause is
//! bounded by them.

use std::fmt;

use super::diag::{ConfigPath, Seg};
use super::Config;

/// Largest `appliance.toml` accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// Longest confirm window a generation may wait for its `Confirm`, in seconds.
pub const MAX_CONFIRM_TIMEOUT_S: u32 = 3600;

/// Most entries each repeated section may hold: (path, limit).
pub const MAX_ENTRIES: &[(&str, usize)] = &[
    ("network.interface", 64),
    ("network.vlan", 1024),
    ("network.route", 1024),
    ("dhcp.interfaces", 64),
    ("dhcp.subnet", 256),
    ("dhcp.reservation", 4096),
    ("dns.nameservers", 8),
    ("dns.search", 16),
    ("ntp.servers", 16),
    ("ntp.pools", 16),
    ("telephony.card", 32),
    ("telephony.span", 256),
    ("telephony.port", 1024),
    ("berofos", 16),
];

/// A configuration over one of the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// What is counted: `bytes`, or the section's dotted path.
    pub what: String,
    pub found: usize,
    pub limit: usize,
}

impl TooLarge {
    /// Where a diagnostic points: the first entry over the limit.
    pub fn path(&self) -> ConfigPath {
        let mut segs: Vec<Seg> = self.what.split('.').map(Seg::from).collect();
        segs.push(Seg::Index(self.limit));
        ConfigPath(segs)
    }
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.what == "bytes" {
            write!(
                f,
                "the configuration is {} bytes; the limit is {} bytes ({} KiB)",
                self.found,
                self.limit,
                self.limit / 1024
            )
        } else {
            write!(
                f,
                "`{}` has {} entries; the limit is {}",
                self.what, self.found, self.limit
            )
        }
    }
}

impl std::error::Error for TooLarge {}

/// Refuses a text longer than [`MAX_CONFIG_BYTES`].
pub fn check_size(text: &str) -> Result<(), TooLarge> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(TooLarge {
            what: "bytes".into(),
            found: text.len(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    Ok(())
}

fn limit_of(what: &str) -> usize {
    MAX_ENTRIES
        .iter()
        .find(|(w, _)| *w == what)
        .map_or(usize::MAX, |(_, l)| *l)
}

impl Config {
    /// The first repeated section with more entries than [`MAX_ENTRIES`] allows.
    pub fn check_limits(&self) -> Result<(), TooLarge> {
        let dns = self.dns.as_ref();
        let counts = [
            ("network.interface", self.network.interface.len()),
            ("network.vlan", self.network.vlan.len()),
            ("network.route", self.network.route.len()),
            ("dhcp.interfaces", self.dhcp.interfaces.len()),
            ("dhcp.subnet", self.dhcp.subnet.len()),
            ("dhcp.reservation", self.dhcp.reservation.len()),
            ("dns.nameservers", dns.map_or(0, |d| d.nameservers.len())),
            ("dns.search", dns.map_or(0, |d| d.search.len())),
            ("ntp.servers", self.ntp.servers.len()),
            ("ntp.pools", self.ntp.pools.len()),
            ("telephony.card", self.telephony.card.len()),
            ("telephony.span", self.telephony.span.len()),
            ("telephony.port", self.telephony.port.len()),
            ("berofos", self.berofos.len()),
        ];
        for (what, found) in counts {
            let limit = limit_of(what);
            if found > limit {
                return Err(TooLarge {
                    what: what.into(),
                    found,
                    limit,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counted_section_has_a_limit() {
        let c: Config =
            toml::from_str("[system]\nhostname = \"pbx\"\ndomain = \"example.com\"\n").unwrap();
        assert!(c.check_limits().is_ok());
        for (what, limit) in MAX_ENTRIES {
            assert!(*limit < usize::MAX, "{what}");
        }
    }

    #[test]
    fn a_section_over_its_limit_names_it_and_the_limit() {
        let mut text = String::from("[system]\nhostname = \"pbx\"\ndomain = \"example.com\"\n");
        for i in 0..=limit_of("network.route") {
            text.push_str(&format!(
                "[[network.route]]\ndestination = \"10.{}.{}.0/24\"\nvia = \"10.0.0.1\"\n",
                i / 256,
                i % 256
            ));
        }
        let c: Config = toml::from_str(&text).unwrap();
        let err = c.check_limits().unwrap_err();
        assert_eq!(err.what, "network.route");
        assert_eq!(err.found, 1025);
        assert_eq!(
            err.to_string(),
            "`network.route` has 1025 entries; the limit is 1024"
        );
        assert_eq!(err.path().to_string(), "network.route[1024]");
    }

    #[test]
    fn a_text_over_the_size_limit_is_refused_before_parsing() {
        let text = "#".repeat(MAX_CONFIG_BYTES + 1);
        let err = check_size(&text).unwrap_err();
        assert!(err.to_string().contains("limit is 262144 bytes"), "{err}");
        assert!(check_size(&text[..MAX_CONFIG_BYTES]).is_ok());
    }
}
