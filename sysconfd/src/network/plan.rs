//! The pure diff from the `[network]` config and an observed [`NetState`] to
//! the ordered [`NetAction`]s that make the system match.
//!
//! Order: VLANs deleted, VLANs created, link settings, stale routes removed,
//! stale addresses removed, addresses added, routes added, default route set.
//! Every deletion comes before every creation, so VLANs that swap names or
//! ids never meet an existing one (`EEXIST`). Link settings go in the order
//! 8021q takes them: VLAN MTUs that go down, then the parents' MTUs and
//! admin states, then the VLANs' raised MTUs and admin states (a VLAN's MTU
//! may not exceed its parent's, `ERANGE`; a VLAN does not open on a parent
//! that is down, `ENETDOWN`; a parent coming up reopens its VLANs). Removing
//! before adding lets an address move within a subnet without the kernel
//! treating the new one as a secondary.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use appliance::config::network::{Method, Network};
use appliance::config::values::Ipv4Cidr;

use super::action::{NetAction, RouteSpec};
use super::state::{default_destination, Link, NetState, RouteEntry};
use super::TELBOX_ALIAS;

/// What the config asks of one link sysconfd manages.
#[derive(Debug)]
struct Intent<'a> {
    name: &'a str,
    method: Method,
    address: Option<Ipv4Cidr>,
    gateway: Option<Ipv4Addr>,
    mtu: Option<u32>,
    vlan: Option<(&'a str, u16)>,
}

impl Intent<'_> {
    /// The addresses this link should carry, or `None` when DHCP owns them.
    fn addresses(&self) -> Option<Vec<Ipv4Cidr>> {
        match self.method {
            Method::Static => Some(self.address.into_iter().collect()),
            Method::Off => Some(Vec::new()),
            Method::Dhcp => None,
        }
    }
}

/// Interfaces marked `managed`, then every VLAN.
fn intents(net: &Network) -> Vec<Intent<'_>> {
    let ifaces = net.interface.iter().filter(|i| i.managed).map(|i| Intent {
        name: i.name.as_str(),
        method: i.method,
        address: i.address,
        gateway: i.gateway,
        mtu: i.mtu.map(|m| m.get()),
        vlan: None,
    });
    let vlans = net.vlan.iter().map(|v| Intent {
        name: v.name.as_str(),
        method: v.method,
        address: v.address,
        gateway: v.gateway,
        mtu: v.mtu.map(|m| m.get()),
        vlan: Some((v.parent.as_str(), v.id.get())),
    });
    ifaces.chain(vlans).collect()
}

/// Diffs `desired` against `observed`. Pure; an up-to-date system gives an empty plan.
///
/// Only interfaces declared with `managed = true` and declared VLANs are
/// touched; declared links missing from the system are skipped (see
/// [`absent_links`]). Only routes carrying [`super::TELBOX_RTPROTO`] and
/// VLANs carrying [`TELBOX_ALIAS`] are ever removed.
pub fn plan(desired: &Network, observed: &NetState) -> Vec<NetAction> {
    plan_keeping(desired, observed, None)
}

/// [`plan`], leaving `kept` (a link and an address on it: the HA service
/// address, which the HA runtime adds and takes away) as it finds it.
pub fn plan_keeping(
    desired: &Network,
    observed: &NetState,
    kept: Option<(&str, Ipv4Cidr)>,
) -> Vec<NetAction> {
    let intents = intents(desired);
    let mut p = Planner {
        observed,
        kept,
        links: Vec::new(),
        out: Vec::new(),
    };
    p.vlans(desired, &intents);
    p.resolve(&intents);
    p.link_settings();
    let flushed = p.links_losing_all_addresses();
    let routes = desired_routes(desired, observed, &p.links);
    p.stale_routes(&routes, &flushed);
    p.addresses();
    p.new_routes(&routes, &flushed);
    p.out
}

/// The routes the config asks for, with their output link resolved.
fn desired_routes(
    net: &Network,
    observed: &NetState,
    links: &[(&Intent<'_>, Link)],
) -> Vec<RouteSpec> {
    let managed = |name: &str| links.iter().any(|(_, l)| l.name == name);
    let present = |name: &str| managed(name) || observed.link(name).is_some();
    let mut routes: Vec<RouteSpec> = net
        .route
        .iter()
        .map(|r| RouteSpec {
            destination: r.destination,
            via: Some(r.via),
            dev: r
                .interface
                .as_ref()
                .map(|i| i.to_string())
                .or_else(|| on_link_of(net, r.via)),
            metric: 0,
        })
        .filter(|r| r.dev.as_deref().is_none_or(present))
        .collect();
    let gateway = links
        .iter()
        .map(|(i, _)| i)
        .find(|i| i.method == Method::Static && i.gateway.is_some());
    if let Some(i) = gateway {
        routes.push(RouteSpec {
            destination: default_destination(),
            via: i.gateway,
            dev: Some(i.name.to_owned()),
            metric: 0,
        });
    }
    routes
}

/// The declared link whose static address has `via` on its subnet.
fn on_link_of(net: &Network, via: Ipv4Addr) -> Option<String> {
    net.links()
        .find(|l| l.address.is_some_and(|a| a.contains(via)))
        .map(|l| l.name.to_string())
}

/// Whether observed route `r` is the declared route `want`.
fn route_matches(want: &RouteSpec, r: &RouteEntry) -> bool {
    want.destination == r.destination
        && want.via == r.gateway
        && want.metric == r.metric
        && want.dev.as_ref().is_none_or(|d| r.dev.as_ref() == Some(d))
}

struct Planner<'a, 'i> {
    observed: &'a NetState,
    /// An address neither added nor removed, on its link.
    kept: Option<(&'a str, Ipv4Cidr)>,
    /// Each managed intent with its link as it will be once VLANs exist.
    links: Vec<(&'i Intent<'i>, Link)>,
    out: Vec<NetAction>,
}

impl<'a, 'i> Planner<'a, 'i> {
    fn vlans(&mut self, desired: &Network, intents: &[Intent<'_>]) {
        let declared: HashSet<&str> = desired.vlan.iter().map(|v| v.name.as_str()).collect();
        for link in &self.observed.links {
            let ours = link.is_vlan() && link.alias.as_deref() == Some(TELBOX_ALIAS);
            if ours && !declared.contains(link.name.as_str()) {
                self.out.push(NetAction::DeleteVlan {
                    name: link.name.clone(),
                });
            }
        }
        let mut creates = Vec::new();
        for (name, parent, id) in intents
            .iter()
            .filter_map(|i| i.vlan.map(|(p, id)| (i.name, p, id)))
        {
            let Some(parent_link) = self.observed.link(parent) else {
                continue;
            };
            match self.observed.link(name) {
                Some(l) if !l.is_vlan() => continue,
                Some(l) if l.parent == Some(parent_link.index) && l.vlan_id == Some(id) => continue,
                Some(_) => self.out.push(NetAction::DeleteVlan {
                    name: name.to_owned(),
                }),
                None => {}
            }
            creates.push(NetAction::CreateVlan {
                name: name.to_owned(),
                parent: parent.to_owned(),
                id,
            });
        }
        self.out.extend(creates);
    }

    /// Pairs each intent with its observed link, or with a fresh link for a
    /// VLAN about to be created (down, no addresses, the parent's MTU).
    fn resolve(&mut self, intents: &'i [Intent<'i>]) {
        for intent in intents {
            let created = self
                .out
                .iter()
                .any(|a| matches!(a, NetAction::CreateVlan { name, .. } if name == intent.name));
            let link = if created {
                let (parent, _) = intent.vlan.expect("only VLANs are created");
                let mtu = self.observed.link(parent).map_or(1500, |p| p.mtu);
                Some(Link::new(0, intent.name, mtu))
            } else {
                self.observed.link(intent.name).cloned()
            };
            if let Some(link) = link {
                self.links.push((intent, link));
            }
        }
    }

    /// MTUs and admin states, in the order 8021q accepts them (see the
    /// module's notes): VLANs lower their MTU first, then the other links
    /// take their MTU and state, then VLANs raise their MTU and take theirs.
    fn link_settings(&mut self) {
        let mut lowered = Vec::new();
        let (mut parent_mtus, mut parent_states) = (Vec::new(), Vec::new());
        let (mut vlan_mtus, mut vlan_states) = (Vec::new(), Vec::new());
        for (intent, link) in &self.links {
            let name = link.name.clone();
            let mtu = intent
                .mtu
                .filter(|&m| m != link.mtu)
                .map(|to| NetAction::SetMtu {
                    link: name.clone(),
                    from: link.mtu,
                    to,
                });
            let Some((parent, _)) = intent.vlan else {
                parent_mtus.extend(mtu);
                parent_states.extend(self.admin_state(intent, link.up, name));
                continue;
            };
            match mtu {
                Some(m @ NetAction::SetMtu { from, to, .. }) if to < from => lowered.push(m),
                other => vlan_mtus.extend(other),
            }
            // A parent coming up opens every VLAN on it: one kept off is
            // taken down again after.
            let reopened = intent.method == Method::Off && self.comes_up(parent);
            vlan_states.extend(self.admin_state(intent, link.up || reopened, name));
        }
        self.out.extend(lowered);
        self.out.extend(parent_mtus);
        self.out.extend(parent_states);
        self.out.extend(vlan_mtus);
        self.out.extend(vlan_states);
    }

    /// The change that gives the link of `intent` its admin state, when it
    /// will be `up` otherwise.
    fn admin_state(&self, intent: &Intent<'_>, up: bool, link: String) -> Option<NetAction> {
        match (intent.method == Method::Off, up) {
            (true, true) => Some(NetAction::SetDown { link }),
            (false, false) => Some(NetAction::SetUp { link }),
            _ => None,
        }
    }

    /// Whether the plan brings managed link `name` up from down.
    fn comes_up(&self, name: &str) -> bool {
        self.links
            .iter()
            .any(|(i, l)| l.name == name && !l.up && i.method != Method::Off)
    }

    /// Links whose every IPv4 address is about to be removed: the kernel
    /// flushes their routes with the last address, when they go down, or
    /// when they are deleted (a VLAN re-created on another parent or id).
    fn links_losing_all_addresses(&self) -> HashSet<String> {
        let deleted = self.out.iter().filter_map(|a| match a {
            NetAction::DeleteVlan { name } => Some(name.clone()),
            _ => None,
        });
        self.links
            .iter()
            .filter(|(intent, link)| {
                let going_down = intent.method == Method::Off && link.up;
                let emptied = intent.addresses().is_some_and(|want| {
                    !link.ipv4.is_empty()
                        && link
                            .ipv4
                            .iter()
                            .all(|a| !want.contains(a) && !is_kept(self.kept, &link.name, a))
                });
                going_down || emptied
            })
            .map(|(_, link)| link.name.clone())
            .chain(deleted)
            .collect()
    }

    fn stale_routes(&mut self, routes: &[RouteSpec], flushed: &HashSet<String>) {
        for r in self.observed.routes.iter().filter(|r| r.is_telbox()) {
            let on_flushed = r.dev.as_ref().is_some_and(|d| flushed.contains(d));
            if !on_flushed && !routes.iter().any(|want| route_matches(want, r)) {
                self.out.push(NetAction::RemoveRoute {
                    route: RouteSpec::from(r),
                });
            }
        }
    }

    fn addresses(&mut self) {
        let mut adds = Vec::new();
        for (intent, link) in &self.links {
            let Some(want) = intent.addresses() else {
                continue;
            };
            let stale = link
                .ipv4
                .iter()
                .filter(|a| !want.contains(a) && !is_kept(self.kept, &link.name, a));
            for have in stale {
                self.out.push(NetAction::RemoveAddress {
                    link: link.name.clone(),
                    address: *have,
                });
            }
            for add in want.iter().filter(|a| !link.ipv4.contains(a)) {
                adds.push(NetAction::AddAddress {
                    link: link.name.clone(),
                    address: *add,
                });
            }
        }
        self.out.extend(adds);
    }

    fn new_routes(&mut self, routes: &[RouteSpec], flushed: &HashSet<String>) {
        for want in routes {
            let on_flushed = want.dev.as_ref().is_some_and(|d| flushed.contains(d));
            let present = self
                .observed
                .routes
                .iter()
                .any(|r| r.is_telbox() && route_matches(want, r));
            if present && !on_flushed {
                continue;
            }
            self.out
                .push(match (want.destination.prefix, want.via, &want.dev) {
                    (0, Some(via), Some(link)) => NetAction::SetDefaultRoute {
                        via,
                        link: link.clone(),
                    },
                    _ => NetAction::AddRoute {
                        route: want.clone(),
                    },
                });
        }
    }
}

/// Checks a re-observed system against the config: `Ok` when nothing is left
/// to do, else one line per remaining difference.
pub fn verify(desired: &Network, observed: &NetState) -> Result<(), Vec<String>> {
    let left = plan(desired, observed);
    if left.is_empty() {
        Ok(())
    } else {
        Err(left.iter().map(|a| format!("still to do: {a}")).collect())
    }
}

fn is_kept(kept: Option<(&str, Ipv4Cidr)>, link: &str, address: &Ipv4Cidr) -> bool {
    kept == Some((link, *address))
}

/// Managed links the config declares that the system lacks (a missing NIC,
/// a VLAN whose parent is missing); the plan skips them.
pub fn absent_links(desired: &Network, observed: &NetState) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for i in desired.interface.iter().filter(|i| i.managed) {
        if observed.link(i.name.as_str()).is_none() {
            missing.push(i.name.to_string());
        }
    }
    for v in &desired.vlan {
        if observed.link(v.parent.as_str()).is_none() && observed.link(v.name.as_str()).is_none() {
            missing.push(v.name.to_string());
        }
    }
    missing
}

/// The action of `plan` that takes away `local`, the box's address a remote
/// session arrives on: removing it, or taking its link down or away.
pub fn session_address_removed<'p>(
    plan: &'p [NetAction],
    observed: &NetState,
    local: IpAddr,
) -> Option<&'p NetAction> {
    let IpAddr::V4(local) = local else {
        return None;
    };
    let carries = |name: &str| {
        observed
            .link(name)
            .is_some_and(|l| l.ipv4.iter().any(|a| a.addr == local))
    };
    plan.iter().find(|a| match a {
        NetAction::RemoveAddress { address, .. } => address.addr == local,
        NetAction::SetDown { link } | NetAction::DeleteVlan { name: link } => carries(link),
        _ => false,
    })
}
