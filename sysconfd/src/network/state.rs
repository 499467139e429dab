//! What the kernel reports: links, their addresses, and the IPv4 routes of
//! the main table. Plain data, built by [`super::Netlink::observe`] or by
//! hand in tests.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use appliance::config::values::Ipv4Cidr;
use serde::{Deserialize, Serialize};

/// The network as observed at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetState {
    pub links: Vec<Link>,
    /// IPv4 unicast routes of the main table.
    pub routes: Vec<RouteEntry>,
}

/// One network link, as `ip link` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// Hardware address as `aa:bb:cc:dd:ee:ff`, when the link has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Operational state as the kernel names it (`up`, `down`, `lowerlayerdown`…).
    pub oper: String,
    pub mtu: u32,
    /// Link kind (`veth`, `vlan`, `bridge`…); absent for plain hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Index of the lower link (a VLAN's parent, a veth's peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<u16>,
    /// The interface alias (`ip link set … alias`); sysconfd marks the VLANs it creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub ipv4: Vec<Ipv4Cidr>,
    pub ipv6: Vec<Ipv6Prefix>,
}

impl Link {
    /// A plain, administratively down link with no addresses.
    pub fn new(index: u32, name: &str, mtu: u32) -> Link {
        Link {
            index,
            name: name.to_owned(),
            mac: None,
            up: false,
            oper: "down".to_owned(),
            mtu,
            kind: None,
            parent: None,
            vlan_id: None,
            alias: None,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        }
    }

    pub fn is_vlan(&self) -> bool {
        self.kind.as_deref() == Some("vlan")
    }
}

/// An IPv6 address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Prefix {
    pub addr: Ipv6Addr,
    pub prefix: u8,
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// One IPv4 route of the main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// Destination prefix; `0.0.0.0/0` for the default route.
    pub destination: Ipv4Cidr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// Name of the output link, when the route has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// Route protocol number (`proto` in `ip route`); sysconfd's own is [`super::TELBOX_RTPROTO`].
    pub protocol: u8,
    /// Route metric (`RTA_PRIORITY`), 0 when unset.
    pub metric: u32,
}

impl RouteEntry {
    pub fn is_default(&self) -> bool {
        self.destination.prefix == 0
    }

    pub fn is_telbox(&self) -> bool {
        self.protocol == super::TELBOX_RTPROTO
    }
}

impl NetState {
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn link_by_index(&self, index: u32) -> Option<&Link> {
        self.links.iter().find(|l| l.index == index)
    }
}

/// The default route (`0.0.0.0/0`).
pub fn default_destination() -> Ipv4Cidr {
    Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0).expect("prefix 0 is valid")
}
