//! `[network]`: interfaces, VLANs and static routes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::{Check, ConfigPath};
use super::index::{set_of, SubnetSet};
use super::values::{InterfaceName, Ipv4Cidr};
use crate::path;

/// What an interface carries. The VoIP interface is the one DHCP and NTP serve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Phones and SIP trunks; served by the DHCP and NTP servers.
    Voip,
    /// Everything else (administration, data).
    #[default]
    Data,
}

/// How an interface gets its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The address given in `address`.
    #[default]
    Static,
    /// A DHCP client run by sysconfd.
    Dhcp,
    /// Link kept down.
    Off,
}

/// The MTU of a link, 68 to 9216 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "u32", into = "u32")]
pub struct Mtu(u32);

impl Mtu {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Mtu {
    type Error = String;
    fn try_from(v: u32) -> Result<Self, String> {
        if (68..=9216).contains(&v) {
            Ok(Mtu(v))
        } else {
            Err(format!(
                "MTU {v} is outside 68–9216 (1500 is usual for Ethernet)"
            ))
        }
    }
}

impl From<Mtu> for u32 {
    fn from(m: Mtu) -> u32 {
        m.0
    }
}

/// An 802.1Q VLAN id, 1 to 4094.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "u16", into = "u16")]
pub struct VlanId(u16);

impl VlanId {
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for VlanId {
    type Error = String;
    fn try_from(v: u16) -> Result<Self, String> {
        if (1..=4094).contains(&v) {
            Ok(VlanId(v))
        } else {
            Err(format!("VLAN id {v} is outside 1–4094"))
        }
    }
}

impl From<VlanId> for u16 {
    fn from(v: VlanId) -> u16 {
        v.0
    }
}

/// Network configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Physical interfaces.
    #[serde(default)]
    pub interface: Vec<Interface>,
    /// 802.1Q VLAN interfaces on a parent interface.
    #[serde(default)]
    pub vlan: Vec<Vlan>,
    /// Static routes (the default route comes from an interface's `gateway`).
    #[serde(default)]
    pub route: Vec<Route>,
}

/// A physical network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// Kernel name of the interface, such as `eth0`.
    pub name: InterfaceName,
    /// `voip` for the one interface phones live on, else `data`.
    #[serde(default)]
    pub role: Role,
    /// `static`, `dhcp` or `off`.
    #[serde(default)]
    pub method: Method,
    /// Address and prefix length, such as `10.0.0.2/24`; required when `method = "static"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Ipv4Cidr>,
    /// Default gateway reached through this interface; must lie in its subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// MTU in bytes; the kernel's value is kept when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Mtu>,
    /// When false, sysconfd never touches this interface.
    #[serde(default = "yes")]
    pub managed: bool,
}

fn yes() -> bool {
    true
}

/// An 802.1Q VLAN interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vlan {
    /// Name of the VLAN interface, such as `eth0.20`.
    pub name: InterfaceName,
    /// The interface it is tagged on; must be one of `network.interface`.
    pub parent: InterfaceName,
    /// VLAN id, 1–4094.
    pub id: VlanId,
    /// `voip` or `data`.
    #[serde(default)]
    pub role: Role,
    /// `static`, `dhcp` or `off`.
    #[serde(default)]
    pub method: Method,
    /// Address and prefix length; required when `method = "static"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Ipv4Cidr>,
    /// Default gateway reached through this VLAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// MTU in bytes; at most the parent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Mtu>,
}

/// A static route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Destination network, such as `10.20.0.0/16`.
    pub destination: Ipv4Cidr,
    /// Next hop; must be on the subnet of one of the box's static addresses.
    pub via: Ipv4Addr,
    /// Interface to send through; found from `via` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<InterfaceName>,
}

/// What interfaces and VLANs have in common, for rules that apply to both.
pub struct LinkView<'a> {
    /// `interface` or `vlan`: the array under `network` it sits in.
    pub table: &'static str,
    pub index: usize,
    pub name: &'a InterfaceName,
    pub role: Role,
    pub method: Method,
    pub address: Option<Ipv4Cidr>,
    pub gateway: Option<Ipv4Addr>,
}

impl LinkView<'_> {
    /// Where the link sits in the config; built only for a diagnostic.
    pub fn path(&self) -> ConfigPath {
        path!["network", self.table, self.index]
    }
}

impl Network {
    /// Interfaces and VLANs alike, each with its path in the config.
    pub fn links(&self) -> impl Iterator<Item = LinkView<'_>> {
        let ifaces = self.interface.iter().enumerate().map(|(i, l)| LinkView {
            table: "interface",
            index: i,
            name: &l.name,
            role: l.role,
            method: l.method,
            address: l.address,
            gateway: l.gateway,
        });
        let vlans = self.vlan.iter().enumerate().map(|(i, l)| LinkView {
            table: "vlan",
            index: i,
            name: &l.name,
            role: l.role,
            method: l.method,
            address: l.address,
            gateway: l.gateway,
        });
        ifaces.chain(vlans)
    }

    /// The link phones live on, if one is declared.
    pub fn voip_link(&self) -> Option<LinkView<'_>> {
        self.links().find(|l| l.role == Role::Voip)
    }

    pub fn has_link(&self, name: &InterfaceName) -> bool {
        self.links().any(|l| l.name == name)
    }

    pub fn validate(&self, cx: &mut Check) {
        self.check_names(cx);
        for link in self.links() {
            check_link(&link, cx);
        }
        self.check_voip(cx);
        self.check_gateways(cx);
        self.check_vlans(cx);
        self.check_routes(cx);
    }

    fn check_names(&self, cx: &mut Check) {
        let mut seen = BTreeMap::new();
        for link in self.links() {
            if let Some(first) = seen.insert(link.name.clone(), link.path()) {
                cx.error_help(
                    link.path().join("name"),
                    format!(
                        "interface `{}` is declared twice (first at `{first}`)",
                        link.name
                    ),
                    "give each interface and VLAN a unique name",
                );
            }
        }
    }

    fn check_voip(&self, cx: &mut Check) {
        let voip: Vec<_> = self.links().filter(|l| l.role == Role::Voip).collect();
        for extra in voip.iter().skip(1) {
            cx.error_help(
                extra.path().join("role"),
                format!(
                    "`{}` is a second VoIP interface; `{}` already is",
                    extra.name, voip[0].name
                ),
                "a box has one VoIP interface; set `role = \"data\"` on the others",
            );
        }
    }

    fn check_gateways(&self, cx: &mut Check) {
        let with_gw: Vec<_> = self.links().filter(|l| l.gateway.is_some()).collect();
        for extra in with_gw.iter().skip(1) {
            cx.error_help(
                extra.path().join("gateway"),
                format!(
                    "a second default gateway on `{}`; `{}` already has one",
                    extra.name, with_gw[0].name
                ),
                "keep one `gateway`; reach other networks with [[network.route]]",
            );
        }
    }

    fn check_vlans(&self, cx: &mut Check) {
        let mut ids = HashSet::new();
        let mut parents = HashMap::new();
        for p in &self.interface {
            parents.entry(&p.name).or_insert(p);
        }
        for (i, vlan) in self.vlan.iter().enumerate() {
            let parent = parents.get(&vlan.parent);
            match parent {
                None => cx.error_help(
                    path!["network", "vlan", i, "parent"],
                    format!(
                        "VLAN `{}` names parent `{}`, which is not a [[network.interface]]",
                        vlan.name, vlan.parent
                    ),
                    "declare the parent interface, or fix its name",
                ),
                Some(p) => {
                    if let (Some(m), Some(pm)) = (vlan.mtu, p.mtu) {
                        if m.get() > pm.get() {
                            cx.error(
                                path!["network", "vlan", i, "mtu"],
                                format!(
                                    "VLAN MTU {} is larger than its parent's MTU {}",
                                    m.get(),
                                    pm.get()
                                ),
                            );
                        }
                    }
                }
            }
            if !ids.insert((vlan.parent.clone(), vlan.id)) {
                cx.error(
                    path!["network", "vlan", i, "id"],
                    format!(
                        "VLAN id {} is used twice on `{}`",
                        vlan.id.get(),
                        vlan.parent
                    ),
                );
            }
        }
    }

    fn check_routes(&self, cx: &mut Check) {
        let mut subnets = SubnetSet::new();
        for l in self.links() {
            if let Some(a) = l.address {
                subnets.insert(a, l.name);
            }
        }
        let names = set_of(self.links().map(|l| l.name));
        let has_dhcp = self.links().any(|l| l.method == Method::Dhcp);
        for (i, route) in self.route.iter().enumerate() {
            let at = |field: &str| path!["network", "route", i, field];
            if route.destination.addr != route.destination.network() {
                cx.error_help(
                    at("destination"),
                    format!("`{}` has host bits set", route.destination),
                    format!("write the network address: {}", route.destination.subnet()),
                );
            }
            if let Some(dev) = route.interface.as_ref().filter(|d| !names.contains(d)) {
                cx.error(
                    at("interface"),
                    format!("route names interface `{dev}`, which is not declared"),
                );
                continue;
            }
            let on_link = subnets
                .containing(route.via)
                .any(|name| route.interface.as_ref().is_none_or(|d| d == *name));
            if !on_link && !has_dhcp {
                cx.error_help(
                    at("via"),
                    format!(
                        "next hop {} is not on the subnet of any static address",
                        route.via
                    ),
                    "use a gateway on one of the box's subnets",
                );
            }
        }
    }
}

fn check_link(link: &LinkView<'_>, cx: &mut Check) {
    match (link.method, link.address) {
        (Method::Static, None) => cx.error_help(
            link.path().join("address"),
            format!("`{}` has `method = \"static\"` but no address", link.name),
            "add `address = \"A.B.C.D/N\"`, or set `method = \"dhcp\"`",
        ),
        (Method::Dhcp | Method::Off, Some(_)) => cx.error_help(
            link.path().join("address"),
            format!(
                "`{}` gets no static address with this method, but `address` is set",
                link.name
            ),
            "remove `address`, or set `method = \"static\"`",
        ),
        _ => {}
    }
    if let Some(addr) = link.address {
        check_host_address(link, addr, cx);
    }
    if let (Some(gw), Some(addr)) = (link.gateway, link.address) {
        if !addr.contains(gw) {
            cx.error_help(
                link.path().join("gateway"),
                format!(
                    "gateway {gw} is outside the subnet {} of `{}`",
                    addr.subnet(),
                    link.name
                ),
                format!(
                    "use a gateway inside {}, or fix the prefix length",
                    addr.subnet()
                ),
            );
        } else if gw == addr.addr {
            cx.error(
                link.path().join("gateway"),
                format!("gateway {gw} is the box's own address"),
            );
        }
    }
    if link.gateway.is_some() && link.method != Method::Static {
        cx.error(
            link.path().join("gateway"),
            "a gateway is only set with `method = \"static\"`; DHCP provides its own",
        );
    }
}

fn check_host_address(link: &LinkView<'_>, addr: Ipv4Cidr, cx: &mut Check) {
    let bad = if addr.prefix >= 31 {
        None
    } else if addr.addr == addr.network() {
        Some("is the network address of its subnet")
    } else if addr.addr == addr.broadcast() {
        Some("is the broadcast address of its subnet")
    } else if addr.addr.is_loopback() || addr.addr.is_multicast() || addr.addr.is_unspecified() {
        Some("cannot be an interface address")
    } else {
        None
    };
    if let Some(why) = bad {
        cx.error(link.path().join("address"), format!("{} {why}", addr.addr));
    }
}
