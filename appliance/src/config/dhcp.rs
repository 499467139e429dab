//! `[dhcp]`: the DHCP server that gives IP phones their address.

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::{Check, ConfigPath};
use super::index::{overlaps, set_of, FirstSeen, SubnetSet};
use super::network::Network;
use super::values::{Hostname, Ident, InterfaceName, Ipv4Cidr, MacAddr, SafeText};
use crate::path;

/// DHCP server for phones on the VoIP subnet (and relayed sites).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dhcp {
    /// Serve DHCP at all.
    #[serde(default)]
    pub enabled: bool,
    /// Interfaces to listen on besides the VoIP one (for relayed or extra subnets).
    #[serde(default)]
    pub interfaces: Vec<InterfaceName>,
    /// First address of the VoIP pool; inside the VoIP subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_start: Option<Ipv4Addr>,
    /// Last address of the VoIP pool; not before `pool_start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_end: Option<Ipv4Addr>,
    /// Router given to phones; the VoIP interface's gateway when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<Ipv4Addr>,
    /// Lease time in seconds (60 to 31536000).
    #[serde(default = "default_lease")]
    pub lease_time: u32,
    /// Give addresses to devices that are not known phones.
    #[serde(default)]
    pub unknown_clients: bool,
    /// Provisioning URL sent to phones (option 66/160 style), such as `http://10.0.0.1:8667`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_url: Option<SafeText>,
    /// Extra subnets (remote sites behind a DHCP relay) with their own router and range.
    #[serde(default)]
    pub subnet: Vec<DhcpSubnet>,
    /// Fixed addresses for given MAC addresses.
    #[serde(default)]
    pub reservation: Vec<Reservation>,
}

fn default_lease() -> u32 {
    86_400
}

impl Default for Dhcp {
    fn default() -> Self {
        Dhcp {
            enabled: false,
            interfaces: Vec::new(),
            pool_start: None,
            pool_end: None,
            router: None,
            lease_time: default_lease(),
            unknown_clients: false,
            provisioning_url: None,
            subnet: Vec::new(),
            reservation: Vec::new(),
        }
    }
}

/// A further subnet served by the box, usually a site behind a relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DhcpSubnet {
    /// Short name of the site, used in the generated config.
    pub name: Ident,
    /// The subnet, such as `10.1.0.0/24`.
    pub network: Ipv4Cidr,
    /// First address of the pool.
    pub pool_start: Ipv4Addr,
    /// Last address of the pool.
    pub pool_end: Ipv4Addr,
    /// Router for phones of this site.
    pub router: Ipv4Addr,
}

/// A fixed address for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reservation {
    /// The device's MAC address.
    pub mac: MacAddr,
    /// The address it always gets; inside a served subnet.
    pub address: Ipv4Addr,
    /// Host name given to the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<Hostname>,
}

/// A pool bounded by its first and last address.
fn check_pool(cx: &mut Check, base: &ConfigPath, net: Ipv4Cidr, start: Ipv4Addr, end: Ipv4Addr) {
    for (key, ip) in [("pool_start", start), ("pool_end", end)] {
        if !net.contains(ip) {
            cx.error_help(
                base.join(key),
                format!("{key} {ip} is outside the subnet {}", net.subnet()),
                format!("choose addresses inside {}", net.subnet()),
            );
        } else if ip == net.network() || ip == net.broadcast() {
            cx.error(
                base.join(key),
                format!("{key} {ip} is the network or broadcast address"),
            );
        }
    }
    if u32::from(start) > u32::from(end) {
        cx.error_help(
            base.join("pool_start"),
            format!("pool_start {start} comes after pool_end {end}"),
            "swap them, or fix the range",
        );
    }
}

fn in_pool(ip: Ipv4Addr, start: Ipv4Addr, end: Ipv4Addr) -> bool {
    (u32::from(start)..=u32::from(end)).contains(&u32::from(ip))
}

impl Dhcp {
    pub fn validate(&self, net: &Network, cx: &mut Check) {
        if !(60..=31_536_000).contains(&self.lease_time) {
            cx.error(
                path!["dhcp", "lease_time"],
                format!("lease time {} s is outside 60–31536000", self.lease_time),
            );
        }
        for (i, name) in self.interfaces.iter().enumerate() {
            if !net.has_link(name) {
                cx.error(
                    path!["dhcp", "interfaces", i],
                    format!("`{name}` is not a declared interface or VLAN"),
                );
            }
        }
        if self.enabled {
            self.check_voip_pool(net, cx);
        }
        self.check_subnets(net, cx);
        self.check_reservations(net, cx);
    }

    fn check_voip_pool(&self, net: &Network, cx: &mut Check) {
        let Some(voip) = net.voip_link() else {
            cx.error_help(
                path!["dhcp", "enabled"],
                "DHCP is enabled but no interface has `role = \"voip\"`",
                "mark the phones' interface with `role = \"voip\"`",
            );
            return;
        };
        let Some(addr) = voip.address else {
            cx.error(
                path!["dhcp", "enabled"],
                format!(
                    "the VoIP interface `{}` needs a static address to serve DHCP",
                    voip.name
                ),
            );
            return;
        };
        let (Some(start), Some(end)) = (self.pool_start, self.pool_end) else {
            cx.error_help(
                path!["dhcp", "pool_start"],
                "DHCP is enabled but the pool is not set",
                "set `pool_start` and `pool_end`",
            );
            return;
        };
        check_pool(cx, &path!["dhcp"], addr, start, end);
        if in_pool(addr.addr, start, end) {
            cx.error(
                path!["dhcp", "pool_start"],
                format!(
                    "the pool {start}–{end} contains the box's own address {}",
                    addr.addr
                ),
            );
        }
        if let Some(r) = self.router {
            if !addr.contains(r) {
                cx.error(
                    path!["dhcp", "router"],
                    format!("router {r} is outside the VoIP subnet {}", addr.subnet()),
                );
            }
        }
    }

    fn served_subnets(&self, net: &Network) -> Vec<Ipv4Cidr> {
        let voip = net.voip_link().and_then(|l| l.address).map(|a| a.subnet());
        voip.into_iter()
            .chain(self.subnet.iter().map(|s| s.network.subnet()))
            .collect()
    }

    fn check_subnets(&self, net: &Network, cx: &mut Check) {
        let voip = net.voip_link().and_then(|l| l.address);
        let spans: Vec<_> = self
            .subnet
            .iter()
            .map(|s| u32::from(s.network.network())..=u32::from(s.network.broadcast()))
            .collect();
        let overlapping = overlaps(&spans);
        let mut names = FirstSeen::new();
        for (i, s) in self.subnet.iter().enumerate() {
            let base = path!["dhcp", "subnet", i];
            check_pool(cx, &base, s.network, s.pool_start, s.pool_end);
            if !s.network.contains(s.router) {
                cx.error(
                    base.join("router"),
                    format!("router {} is outside {}", s.router, s.network.subnet()),
                );
            }
            if let Some(v) = voip.filter(|v| v.overlaps(&s.network)) {
                cx.error(
                    base.join("network"),
                    format!(
                        "{} overlaps the VoIP subnet {}",
                        s.network.subnet(),
                        v.subnet()
                    ),
                );
            }
            if names.seen(&s.name, i).is_some() {
                cx.error(
                    base.join("name"),
                    format!("subnet name `{}` is used twice", s.name),
                );
            }
            if let Some(&j) = overlapping.get(&i) {
                let other = &self.subnet[j];
                cx.error_help(
                    base.join("network"),
                    format!(
                        "{} overlaps subnet `{}` ({})",
                        s.network.subnet(),
                        other.name,
                        other.network.subnet()
                    ),
                    format!("extra subnets must not overlap; see dhcp.subnet[{j}]"),
                );
            }
        }
    }

    fn check_reservations(&self, net: &Network, cx: &mut Check) {
        let mut served = SubnetSet::new();
        for s in self.served_subnets(net) {
            served.insert(s, ());
        }
        let own = set_of(net.links().filter_map(|l| l.address.map(|a| a.addr)));
        let (mut macs, mut addresses) = (FirstSeen::new(), FirstSeen::new());
        for (i, r) in self.reservation.iter().enumerate() {
            let base = path!["dhcp", "reservation", i];
            if !served.contains(r.address) {
                cx.error(
                    base.join("address"),
                    format!("{} is not inside any subnet this box serves", r.address),
                );
            }
            if own.contains(&r.address) {
                cx.error(
                    base.join("address"),
                    format!("{} is the box's own address", r.address),
                );
            }
            if macs.seen(&r.mac, i).is_some() {
                cx.error(base.join("mac"), format!("MAC {} is reserved twice", r.mac));
            }
            if addresses.seen(r.address, i).is_some() {
                cx.error(
                    base.join("address"),
                    format!("address {} is reserved twice", r.address),
                );
            }
        }
    }
}
