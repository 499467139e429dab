//! One step of a network plan. Actions name links by name, not index, so a
//! journaled plan still means the same thing after a VLAN is re-created.

use std::fmt;
use std::net::Ipv4Addr;

use appliance::config::values::Ipv4Cidr;
use serde::{Deserialize, Serialize};

use super::state::RouteEntry;

/// A change to the network, applied by [`super::Netlink::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NetAction {
    /// Create an 802.1Q VLAN link on `parent`, marked as sysconfd's.
    CreateVlan {
        name: String,
        parent: String,
        id: u16,
    },
    /// Delete a VLAN link sysconfd created earlier.
    DeleteVlan {
        name: String,
    },
    SetMtu {
        link: String,
        from: u32,
        to: u32,
    },
    SetUp {
        link: String,
    },
    SetDown {
        link: String,
    },
    AddAddress {
        link: String,
        address: Ipv4Cidr,
    },
    RemoveAddress {
        link: String,
        address: Ipv4Cidr,
    },
    /// Add a route with sysconfd's route protocol (fails if it exists).
    AddRoute {
        route: RouteSpec,
    },
    /// Remove one of sysconfd's routes.
    RemoveRoute {
        route: RouteSpec,
    },
    /// Make this the default route, replacing whatever default route has metric 0.
    SetDefaultRoute {
        via: Ipv4Addr,
        link: String,
    },
}

impl NetAction {
    /// The action that takes this one back, for undoing an apply that had
    /// no generation before it to return to. Deleting a VLAN has none (what
    /// it was is gone), nor has replacing the default route (what it
    /// replaced is gone): its undo removes the route it set.
    pub fn undo(&self) -> Option<NetAction> {
        use NetAction::*;
        Some(match self {
            CreateVlan { name, .. } => DeleteVlan { name: name.clone() },
            DeleteVlan { .. } => return None,
            SetMtu { link, from, to } => SetMtu {
                link: link.clone(),
                from: *to,
                to: *from,
            },
            SetUp { link } => SetDown { link: link.clone() },
            SetDown { link } => SetUp { link: link.clone() },
            AddAddress { link, address } => RemoveAddress {
                link: link.clone(),
                address: *address,
            },
            RemoveAddress { link, address } => AddAddress {
                link: link.clone(),
                address: *address,
            },
            AddRoute { route } => RemoveRoute {
                route: route.clone(),
            },
            RemoveRoute { route } => AddRoute {
                route: route.clone(),
            },
            SetDefaultRoute { via, link } => RemoveRoute {
                route: RouteSpec {
                    destination: super::state::default_destination(),
                    via: Some(*via),
                    dev: Some(link.clone()),
                    metric: 0,
                },
            },
        })
    }

    /// What takes a run of actions back, last first. A VLAN the run created
    /// is deleted whole: what was done on it goes with it, and taking its
    /// MTU back first could ask for more than its parent has by then.
    pub fn undo_all(actions: &[NetAction]) -> Vec<NetAction> {
        let created: Vec<&str> = actions
            .iter()
            .filter_map(|a| match a {
                NetAction::CreateVlan { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        actions
            .iter()
            .rev()
            .filter(|a| {
                matches!(a, NetAction::CreateVlan { .. })
                    || a.link().is_none_or(|l| !created.contains(&l))
            })
            .filter_map(NetAction::undo)
            .collect()
    }

    /// The link this action changes something on, if it names one.
    pub fn link(&self) -> Option<&str> {
        use NetAction::*;
        match self {
            CreateVlan { name, .. } | DeleteVlan { name } => Some(name),
            SetMtu { link, .. }
            | SetUp { link }
            | SetDown { link }
            | AddAddress { link, .. }
            | RemoveAddress { link, .. }
            | SetDefaultRoute { link, .. } => Some(link),
            AddRoute { route } | RemoveRoute { route } => route.dev.as_deref(),
        }
    }

    /// Whether this action takes something away (done once it is gone).
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            NetAction::DeleteVlan { .. }
                | NetAction::RemoveAddress { .. }
                | NetAction::RemoveRoute { .. }
        )
    }
}

/// An IPv4 route as an action names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteSpec {
    pub destination: Ipv4Cidr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default)]
    pub metric: u32,
}

impl From<&RouteEntry> for RouteSpec {
    fn from(r: &RouteEntry) -> Self {
        RouteSpec {
            destination: r.destination,
            via: r.gateway,
            dev: r.dev.clone(),
            metric: r.metric,
        }
    }
}

impl fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.destination.prefix == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}", self.destination)?;
        }
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        if let Some(dev) = &self.dev {
            write!(f, " dev {dev}")?;
        }
        if self.metric != 0 {
            write!(f, " metric {}", self.metric)?;
        }
        f.write_str(" proto telbox")
    }
}

/// One line, as `appliance config plan` prints it.
impl fmt::Display for NetAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use NetAction::*;
        match self {
            CreateVlan { name, parent, id } => write!(f, "create vlan {name} id {id} on {parent}"),
            DeleteVlan { name } => write!(f, "delete vlan {name}"),
            SetMtu { link, from, to } => write!(f, "set {link} mtu {from} -> {to}"),
            SetUp { link } => write!(f, "set {link} up"),
            SetDown { link } => write!(f, "set {link} down"),
            AddAddress { link, address } => write!(f, "add address {address} to {link}"),
            RemoveAddress { link, address } => write!(f, "remove address {address} from {link}"),
            AddRoute { route } => write!(f, "add route {route}"),
            RemoveRoute { route } => write!(f, "remove route {route}"),
            SetDefaultRoute { via, link } => {
                write!(f, "set default route via {via} dev {link} proto telbox")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn actions_print_as_one_line_each() {
        let route = RouteSpec {
            destination: cidr("10.20.0.0/16"),
            via: Some("10.0.0.254".parse().unwrap()),
            dev: Some("eth0".into()),
            metric: 0,
        };
        let cases = [
            (
                NetAction::SetMtu {
                    link: "eth0".into(),
                    from: 1500,
                    to: 9000,
                },
                "set eth0 mtu 1500 -> 9000",
            ),
            (
                NetAction::AddAddress {
                    link: "eth0".into(),
                    address: cidr("10.0.0.2/24"),
                },
                "add address 10.0.0.2/24 to eth0",
            ),
            (
                NetAction::AddRoute { route },
                "add route 10.20.0.0/16 via 10.0.0.254 dev eth0 proto telbox",
            ),
            (
                NetAction::CreateVlan {
                    name: "eth0.20".into(),
                    parent: "eth0".into(),
                    id: 20,
                },
                "create vlan eth0.20 id 20 on eth0",
            ),
        ];
        for (action, line) in cases {
            assert_eq!(action.to_string(), line);
        }
    }

    #[test]
    fn an_undo_takes_the_actions_back_last_first() {
        let plan = [
            NetAction::SetMtu {
                link: "eth0".into(),
                from: 1500,
                to: 9000,
            },
            NetAction::SetUp {
                link: "eth0".into(),
            },
            NetAction::AddAddress {
                link: "eth0".into(),
                address: cidr("10.0.0.2/24"),
            },
            NetAction::SetDefaultRoute {
                via: "10.0.0.1".parse().unwrap(),
                link: "eth0".into(),
            },
            NetAction::DeleteVlan {
                name: "eth0.20".into(),
            },
        ];
        let lines: Vec<String> = NetAction::undo_all(&plan)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "remove route default via 10.0.0.1 dev eth0 proto telbox",
                "remove address 10.0.0.2/24 from eth0",
                "set eth0 down",
                "set eth0 mtu 9000 -> 1500",
            ]
        );
    }

    #[test]
    fn an_undo_deletes_a_created_vlan_whole_before_it_takes_its_parent_back() {
        let plan = [
            NetAction::SetMtu {
                link: "eth1".into(),
                from: 1500,
                to: 1400,
            },
            NetAction::CreateVlan {
                name: "eth1.30".into(),
                parent: "eth1".into(),
                id: 30,
            },
            NetAction::SetMtu {
                link: "eth1.30".into(),
                from: 1500,
                to: 1400,
            },
            NetAction::SetUp {
                link: "eth1.30".into(),
            },
            NetAction::AddAddress {
                link: "eth1.30".into(),
                address: cidr("10.30.0.2/24"),
            },
            NetAction::AddRoute {
                route: RouteSpec {
                    destination: cidr("10.31.0.0/24"),
                    via: Some("10.30.0.1".parse().unwrap()),
                    dev: Some("eth1.30".into()),
                    metric: 0,
                },
            },
        ];
        let lines: Vec<String> = NetAction::undo_all(&plan)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines, ["delete vlan eth1.30", "set eth1 mtu 1400 -> 1500"]);
    }

    #[test]
    fn actions_survive_a_journal_round_trip() {
        let a = NetAction::RemoveAddress {
            link: "eth1".into(),
            address: cidr("10.1.0.2/24"),
        };
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"action":"remove_address","link":"eth1","address":"10.1.0.2/24"}"#
        );
        assert_eq!(serde_json::from_str::<NetAction>(&json).unwrap(), a);
    }
}
