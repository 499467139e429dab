//! The wizard's form: what the browser sends, the `appliance.toml` built
//! from it (serialized from types, so no value can break out of its
//! string), and sysconfd's problems mapped back to the fields they concern.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// The fields of the page's form, as the browser sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Form {
    pub hostname: String,
    pub domain: String,
    pub interface: String,
    pub address: String,
    pub prefix: String,
    pub gateway: String,
    /// Name servers, separated by commas or spaces.
    pub dns: String,
    pub timezone: String,
}

/// Longest value one field may carry; sysconfd bounds the whole text too.
pub const MAX_FIELD: usize = 256;

#[derive(Serialize)]
struct Doc<'a> {
    system: System<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<Dns<'a>>,
    network: Network<'a>,
}

#[derive(Serialize)]
struct System<'a> {
    hostname: &'a str,
    domain: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    timezone: &'a str,
}

#[derive(Serialize)]
struct Dns<'a> {
    nameservers: Vec<&'a str>,
}

#[derive(Serialize)]
struct Network<'a> {
    interface: Vec<Interface<'a>>,
}

#[derive(Serialize)]
struct Interface<'a> {
    name: &'a str,
    role: &'static str,
    address: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    gateway: &'a str,
}

impl Form {
    /// Trims every field and cuts it to [`MAX_FIELD`] characters.
    pub fn tidy(mut self) -> Form {
        for f in [
            &mut self.hostname,
            &mut self.domain,
            &mut self.interface,
            &mut self.address,
            &mut self.prefix,
            &mut self.gateway,
            &mut self.dns,
            &mut self.timezone,
        ] {
            let t: String = f.trim().chars().take(MAX_FIELD).collect();
            *f = t;
        }
        self
    }

    fn nameservers(&self) -> Vec<&str> {
        self.dns
            .split([',', ' ', ';', '\n', '\t'])
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The configuration this form asks for, in `appliance.toml` syntax.
    pub fn to_toml(&self) -> String {
        let address = if self.prefix.is_empty() {
            self.address.clone()
        } else {
            format!("{}/{}", self.address, self.prefix)
        };
        let servers = self.nameservers();
        let doc = Doc {
            system: System {
                hostname: &self.hostname,
                domain: &self.domain,
                timezone: &self.timezone,
            },
            dns: (!servers.is_empty()).then_some(Dns {
                nameservers: servers,
            }),
            network: Network {
                interface: vec![Interface {
                    name: &self.interface,
                    role: "voip",
                    address,
                    gateway: &self.gateway,
                }],
            },
        };
        toml::to_string(&doc).unwrap_or_default()
    }

    /// Puts a value that validates in place of `field`'s, so that another
    /// round of validation reaches the rules that run only once every value
    /// reads (a gateway's subnet, say, is checked only when the host name
    /// is a host name). False when the field has no such stand-in.
    pub fn stand_in(&mut self, field: &str) -> bool {
        let (slot, value) = match field {
            "hostname" => (&mut self.hostname, "telbox"),
            "domain" => (&mut self.domain, "example.com"),
            "timezone" => (&mut self.timezone, "UTC"),
            "dns" => (&mut self.dns, ""),
            "gateway" => (&mut self.gateway, ""),
            _ => return false,
        };
        if slot == value {
            return false;
        }
        *slot = value.to_owned();
        true
    }

    /// The box's address once this form is applied, if it reads as one.
    pub fn new_address(&self) -> Option<Ipv4Addr> {
        self.address.parse().ok()
    }
}

/// One problem as sysconfd's `Config.Validate` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub path: String,
    pub message: String,
    #[serde(default)]
    pub help: Option<String>,
}

/// A problem as the page shows it beside a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shown {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Problems by the form field they belong to; `form` holds those no field owns.
pub type ByField = BTreeMap<&'static str, Vec<Shown>>;

/// The form field a configuration path belongs to (`form` for none).
pub fn field_of(path: &str) -> &'static str {
    let path = path.trim();
    let iface = "network.interface[0]";
    if let Some(rest) = path.strip_prefix(iface) {
        return match rest.trim_start_matches('.') {
            "address" => "address",
            "gateway" => "gateway",
            _ => "interface",
        };
    }
    match path {
        "system.hostname" => "hostname",
        "system.domain" => "domain",
        "system.timezone" => "timezone",
        p if p == "dns" || p.starts_with("dns.") => "dns",
        p if p == "network" || p.starts_with("network.interface") => "interface",
        _ => "form",
    }
}

/// Sorts every problem to its field, in the order reported. A message
/// that starts with its own path loses it: the field says where.
pub fn by_field(problems: Vec<Problem>) -> ByField {
    let mut out = ByField::new();
    for p in problems {
        let message = p
            .message
            .strip_prefix(&format!("{}: ", p.path))
            .filter(|_| !p.path.is_empty())
            .map(str::to_owned)
            .unwrap_or(p.message);
        out.entry(field_of(&p.path)).or_default().push(Shown {
            message,
            help: p.help,
        });
    }
    out
}

/// Every problem of a form at once: it is validated, then again with
/// stand-ins for the fields already found wrong, until no new field has a
/// problem (at most [`ROUNDS`] times).
pub struct Rounds {
    all: ByField,
    probe: Form,
    left: usize,
}

/// Most validation rounds a form gets.
pub const ROUNDS: usize = 4;

impl Rounds {
    pub fn new(form: &Form) -> Rounds {
        Rounds {
            all: ByField::new(),
            probe: form.clone(),
            left: ROUNDS,
        }
    }

    /// What to validate next.
    pub fn probe(&self) -> &Form {
        &self.probe
    }

    /// Takes one round's problems; true when another round is worth making.
    pub fn take(&mut self, round: ByField) -> bool {
        self.left = self.left.saturating_sub(1);
        let mut new = false;
        for (field, list) in round {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.all.entry(field) {
                slot.insert(list);
                new = true;
            }
        }
        if !new || self.left == 0 {
            return false;
        }
        let mut changed = false;
        for field in self.all.keys() {
            changed |= self.probe.stand_in(field);
        }
        changed
    }

    pub fn finish(self) -> ByField {
        self.all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Form {
        Form {
            hostname: "pbx".into(),
            domain: "example.com".into(),
            interface: "eth0".into(),
            address: "192.0.2.20".into(),
            prefix: "24".into(),
            gateway: "192.0.2.1".into(),
            dns: "192.0.2.53, 198.51.100.53".into(),
            timezone: "Europe/Paris".into(),
        }
    }

    #[test]
    fn a_form_becomes_a_valid_configuration() {
        let text = form().to_toml();
        let config = appliance::config::load(&text, "wizard")
            .unwrap_or_else(|r| panic!("{text}\n{:?}", r.problems));
        assert_eq!(config.system.hostname.to_string(), "pbx");
        assert!(text.contains("address = \"192.0.2.20/24\""), "{text}");
        assert!(
            text.contains("nameservers = [\"192.0.2.53\", \"198.51.100.53\"]"),
            "{text}"
        );
    }

    #[test]
    fn a_value_that_would_break_out_stays_inside_its_string() {
        let mut f = form();
        f.hostname = "x\"\n[berofos]\nhost = \"evil".into();
        let text = f.to_toml();
        let parsed: toml::Table = toml::from_str(&text).expect("still one TOML document");
        assert!(!parsed.contains_key("berofos"), "{text}");
        let problems = match appliance::config::load(&text, "wizard") {
            Ok(_) => panic!("a host name with a newline validated"),
            Err(r) => r.problems,
        };
        assert!(
            problems.iter().any(|p| p.path == "system.hostname"),
            "{problems:?}"
        );
    }

    #[test]
    fn problems_land_beside_their_fields() {
        let mut f = form();
        f.hostname = "bad_host!".into();
        f.gateway = "10.9.0.1".into();
        let mut rounds = Rounds::new(&f);
        let mut made = 0;
        loop {
            made += 1;
            let round = match appliance::config::load(&rounds.probe().to_toml(), "wizard") {
                Ok(_) => ByField::new(),
                Err(report) => {
                    let json = serde_json::to_string(&report).unwrap();
                    by_field(serde_json::from_str(&json).unwrap())
                }
            };
            if !rounds.take(round) {
                break;
            }
        }
        assert_eq!(made, 3, "found wrong, found wrong again, valid");
        let shown = rounds.finish();
        assert!(
            shown["hostname"][0]
                .message
                .starts_with("invalid host name"),
            "{shown:?}"
        );
        assert!(shown["gateway"][0].message.contains("outside"), "{shown:?}");
        assert!(!shown.contains_key("form"), "{shown:?}");
    }

    #[test]
    fn paths_map_to_fields() {
        assert_eq!(field_of("network.interface[0].address"), "address");
        assert_eq!(field_of("network.interface[0].gateway"), "gateway");
        assert_eq!(field_of("network.interface[0].name"), "interface");
        assert_eq!(field_of("network.interface[0]"), "interface");
        assert_eq!(field_of("dns.nameservers[1]"), "dns");
        assert_eq!(field_of("system.timezone"), "timezone");
        assert_eq!(field_of("dhcp.pool_start"), "form");
        assert_eq!(field_of(""), "form");
    }
}
