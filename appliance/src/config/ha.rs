//! `[ha]`: master/slave high availability (keepalived VRRP + Berofos).

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::berofos::Berofos;
use super::diag::Check;
use super::network::{LinkView, Network};
use super::values::{AbsPath, Ident, InterfaceName, Ipv4Cidr, SafeText};
use crate::path;

/// This box's part in an HA pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HaRole {
    /// Runs the services; the slave takes over when it dies.
    Master,
    /// Watches the master and takes over.
    Slave,
    /// No HA.
    #[default]
    Disabled,
}

/// High availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ha {
    /// `master`, `slave` or `disabled`.
    #[serde(default)]
    pub role: HaRole,
    /// Address of the other box of the pair (unicast VRRP adverts go there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<Ipv4Addr>,
    /// Interface the adverts use; the VoIP interface when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<InterfaceName>,
    /// Service address that follows the active box, such as `10.0.0.10/24`: a
    /// free address of the advert link's subnet, with its prefix. The box
    /// that becomes active adds it and announces it by gratuitous ARP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_address: Option<Ipv4Cidr>,
    /// File (mode 0600) with the key both boxes share to authenticate adverts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_key_file: Option<AbsPath>,
    /// Interval between adverts in milliseconds (100–10000).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_interval_ms: u32,
    /// Seconds the slave waits after the master is seen dead before taking over (0–300).
    #[serde(default)]
    pub failover_delay_s: u32,
    /// Seconds a recovered master waits before taking back (0–3600); avoids flapping.
    #[serde(default = "default_failback")]
    pub failback_delay_s: u32,
    /// Berofos to switch on failover (`fosN`); every `[[berofos]]` when absent.
    /// With `role = "disabled"`, the Berofos whose bypass watchdog sysconfd
    /// kicks while the health checks pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub berofos: Option<Ident>,
    /// The peer's address on a second network path, such as the replication
    /// link. The slave takes over only when the peer is silent on both paths:
    /// a cut VRRP path alone does not move the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_peer: Option<Ipv4Addr>,
    /// Interface of the second path (required with `second_peer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_interface: Option<InterfaceName>,
    /// The services the active box runs and the standby box stops, in start order.
    #[serde(default = "default_services")]
    pub services: Vec<Ident>,
    /// Health checks run while this box is active: a check that fails makes
    /// the box hand the service over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub check: Vec<HealthCheck>,
}

/// A command whose exit status says whether a service works (0: healthy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// The service it checks (one of `services`); it runs only while that service runs.
    pub service: Ident,
    /// Program (absolute path) and arguments, such as
    /// `["/usr/sbin/asterisk", "-rx", "core show uptime"]`.
    pub command: Vec<SafeText>,
}

fn default_services() -> Vec<Ident> {
    vec!["asterisk".parse().expect("a valid identifier")]
}

fn default_heartbeat() -> u32 {
    1000
}

fn default_failback() -> u32 {
    60
}

impl Default for Ha {
    fn default() -> Self {
        Ha {
            role: HaRole::Disabled,
            peer: None,
            interface: None,
            virtual_address: None,
            shared_key_file: None,
            heartbeat_interval_ms: default_heartbeat(),
            failover_delay_s: 0,
            failback_delay_s: default_failback(),
            berofos: None,
            second_peer: None,
            second_interface: None,
            services: default_services(),
            check: Vec::new(),
        }
    }
}

impl Ha {
    pub fn validate(&self, net: &Network, berofos: &[Berofos], cx: &mut Check) {
        if !(100..=10_000).contains(&self.heartbeat_interval_ms) {
            cx.error(
                path!["ha", "heartbeat_interval_ms"],
                format!("{} ms is outside 100–10000", self.heartbeat_interval_ms),
            );
        }
        if self.failover_delay_s > 300 {
            cx.error(
                path!["ha", "failover_delay_s"],
                format!("{} s is more than 300", self.failover_delay_s),
            );
        }
        if self.failback_delay_s > 3600 {
            cx.error(
                path!["ha", "failback_delay_s"],
                format!("{} s is more than 3600", self.failback_delay_s),
            );
        }
        if let Some(name) = &self.berofos {
            if !berofos.iter().any(|b| &b.name == name) {
                cx.error(
                    path!["ha", "berofos"],
                    format!("no [[berofos]] is named `{name}`"),
                );
            }
        }
        if let Some(dev) = &self.interface {
            if !net.has_link(dev) {
                cx.error(
                    path!["ha", "interface"],
                    format!("`{dev}` is not a declared interface or VLAN"),
                );
            }
        }
        if let Some(dev) = &self.second_interface {
            if !net.has_link(dev) {
                cx.error(
                    path!["ha", "second_interface"],
                    format!("`{dev}` is not a declared interface or VLAN"),
                );
            }
        }
        self.check_services(cx);
        if self.role != HaRole::Disabled {
            self.check_pair(net, cx);
            self.check_second_path(net, cx);
            self.check_virtual_address(net, cx);
        }
    }

    /// The link the adverts leave on: `interface`, else the VoIP link.
    pub fn link<'a>(&self, net: &'a Network) -> Option<LinkView<'a>> {
        match &self.interface {
            Some(name) => net.links().find(|l| l.name == name),
            None => net.voip_link(),
        }
    }

    /// The service address and the link it goes on while this box is
    /// active; `None` without a pair or without `virtual_address`.
    pub fn service_address<'a>(&self, net: &'a Network) -> Option<(&'a str, Ipv4Cidr)> {
        if self.role == HaRole::Disabled {
            return None;
        }
        let address = self.virtual_address?;
        Some((self.link(net)?.name.as_str(), address))
    }

    /// The service address: a free host of the advert link's own subnet.
    fn check_virtual_address(&self, net: &Network, cx: &mut Check) {
        let Some(vip) = self.virtual_address else {
            return;
        };
        let at = path!["ha", "virtual_address"];
        let Some(own) = self.link_subnet(net) else {
            return cx.error_help(
                at,
                "the service address needs a static address on the link the adverts use",
                "give that link a static `address` in the same subnet",
            );
        };
        if !own.contains(vip.addr) || vip.prefix != own.prefix {
            return cx.error_help(
                at,
                format!(
                    "{vip} is not inside {}, the subnet the adverts leave on",
                    own.subnet()
                ),
                format!(
                    "give a free address of {} with the same prefix",
                    own.subnet()
                ),
            );
        }
        let taken = [
            (Some(own.addr), "this box's own address"),
            (self.peer, "the peer's address"),
        ];
        if let Some((_, what)) = taken.iter().find(|(a, _)| *a == Some(vip.addr)) {
            cx.error_help(
                at,
                format!("{} is {what}", vip.addr),
                "the service address follows the active box: give one neither box has",
            );
        }
    }

    fn check_services(&self, cx: &mut Check) {
        for (i, name) in self.services.iter().enumerate() {
            if self.services[..i].contains(name) {
                cx.error(
                    path!["ha", "services", i],
                    format!("`{name}` is listed twice"),
                );
            }
        }
        for (i, check) in self.check.iter().enumerate() {
            if !self.services.contains(&check.service) {
                cx.error_help(
                    path!["ha", "check", i, "service"],
                    format!("`{}` is not one of `services`", check.service),
                    "name a service listed in `services`",
                );
            }
            match check.command.first() {
                None => cx.error(path!["ha", "check", i, "command"], "the command is empty"),
                Some(program) if !program.as_str().starts_with('/') => cx.error_help(
                    path!["ha", "check", i, "command"],
                    format!("`{program}` is not an absolute path"),
                    "give the program's full path, such as /usr/sbin/asterisk",
                ),
                Some(_) => {}
            }
        }
    }

    /// The second path: both of its settings or neither, on another link
    /// than the adverts, with the peer inside that link's subnet.
    fn check_second_path(&self, net: &Network, cx: &mut Check) {
        let (peer, dev) = match (self.second_peer, &self.second_interface) {
            (None, None) => return,
            (Some(_), None) => {
                return cx.error_help(
                    path!["ha", "second_peer"],
                    "`second_peer` is set but `second_interface` is missing",
                    "add `second_interface`, the link the second path leaves on",
                )
            }
            (None, Some(_)) => {
                return cx.error(
                    path!["ha", "second_interface"],
                    "`second_interface` is set but `second_peer` is missing",
                )
            }
            (Some(peer), Some(dev)) => (peer, dev),
        };
        let first = self
            .interface
            .as_ref()
            .map(|i| i.as_str().to_owned())
            .or_else(|| net.voip_link().map(|l| l.name.to_string()));
        if first.as_deref() == Some(dev.as_str()) {
            cx.error_help(
                path!["ha", "second_interface"],
                format!("`{dev}` already carries the VRRP adverts"),
                "the second path must leave on another link",
            );
        }
        if Some(peer) == self.peer {
            cx.error(
                path!["ha", "second_peer"],
                format!("{peer} is the same address as `peer`"),
            );
        }
        if net
            .links()
            .any(|l| l.address.is_some_and(|a| a.addr == peer))
        {
            cx.error(
                path!["ha", "second_peer"],
                format!("second peer {peer} is this box's own address"),
            );
        }
        let subnet = net.links().find(|l| l.name == dev).and_then(|l| l.address);
        if let Some(subnet) = subnet.filter(|s| !s.contains(peer)) {
            cx.error(
                path!["ha", "second_peer"],
                format!(
                    "second peer {peer} is outside {}, the subnet of `{dev}`",
                    subnet.subnet()
                ),
            );
        }
    }

    /// The address of the link the adverts use: `interface`, else the VoIP link.
    fn link_subnet(&self, net: &Network) -> Option<Ipv4Cidr> {
        self.link(net).and_then(|l| l.address)
    }

    fn check_pair(&self, net: &Network, cx: &mut Check) {
        match self.peer {
            None => cx.error_help(
                path!["ha", "role"],
                "an HA role is set but `peer` is missing",
                "add `peer = \"A.B.C.D\"`, the other box's address",
            ),
            Some(peer) => {
                if net
                    .links()
                    .any(|l| l.address.is_some_and(|a| a.addr == peer))
                {
                    cx.error(
                        path!["ha", "peer"],
                        format!("peer {peer} is this box's own address"),
                    );
                }
                if let Some(subnet) = self.link_subnet(net).filter(|s| !s.contains(peer)) {
                    cx.error_help(
                        path!["ha", "peer"],
                        format!("peer {peer} is outside {}, the subnet the adverts leave on", subnet.subnet()),
                        "give the peer's address on the HA interface (the VoIP one unless `interface` is set)",
                    );
                }
            }
        }
        if self.shared_key_file.is_none() {
            cx.error_help(
                path!["ha", "role"],
                "an HA role is set but `shared_key_file` is missing",
                "add `shared_key_file = \"/etc/telbox/secrets/ha.key\"` (same key on both boxes)",
            );
        }
    }
}
