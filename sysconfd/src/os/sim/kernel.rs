//! The kernel's rules for links, addresses and routes, as the simulated
//! machine applies them: what it refuses (EEXIST, ENETUNREACH, ENETDOWN,
//! ERANGE, EINVAL) and what it flushes on its own (a deleted link's
//! addresses, routes and VLANs; a downed link's routes; VLAN MTUs under a
//! lowered parent). `make image-test`'s netdiff holds them against a real
//! kernel.

use std::collections::BTreeMap;

use appliance::config::values::Ipv4Cidr;

use super::DEVICE_MTUS;
use crate::network::{
    default_destination, Link, NetAction, NetError, NetState, RouteEntry, RouteSpec, TELBOX_ALIAS,
    TELBOX_RTPROTO,
};
use crate::os::netlink::{link_waves, LinkSettings};

/// Applies a run of actions in the requests [`Netlink::apply_all`] sends
/// them in: a run of link settings as one MTU-and-state request per link, in
/// its waves; everything else one action after the other.
///
/// [`Netlink::apply_all`]: crate::os::netlink::Netlink::apply_all
pub(super) fn apply_run(
    net: &mut NetState,
    ranges: &BTreeMap<String, (u32, u32)>,
    actions: &[NetAction],
) -> Result<(), NetError> {
    let mut rest = actions;
    while let Some(first) = rest.first() {
        if !LinkSettings::covers(first) {
            match apply(net, ranges, first) {
                Err(NetError::NoSuchLink(_)) if first.is_removal() => {}
                other => other?,
            }
            rest = &rest[1..];
            continue;
        }
        let len = rest.iter().take_while(|a| LinkSettings::covers(a)).count();
        let vlans: Vec<String> = net
            .links
            .iter()
            .filter(|l| l.is_vlan())
            .map(|l| l.name.clone())
            .collect();
        for wave in link_waves(&rest[..len], |l| vlans.iter().any(|v| v == l)) {
            for s in wave {
                set_link(net, ranges, &s)?;
            }
        }
        rest = &rest[len..];
    }
    Ok(())
}

/// One link's MTU-and-state request: the MTU first, then the state, as
/// `do_setlink` takes them; a refusal names the plan's actions it carried.
fn set_link(
    net: &mut NetState,
    ranges: &BTreeMap<String, (u32, u32)>,
    s: &LinkSettings<'_>,
) -> Result<(), NetError> {
    let link = s.link.to_owned();
    let from = net.link(s.link).map_or(0, |l| l.mtu);
    let mtu = s.mtu.map(|to| NetAction::SetMtu {
        link: link.clone(),
        from,
        to,
    });
    let state = s.up.map(|up| match up {
        true => NetAction::SetUp { link: link.clone() },
        false => NetAction::SetDown { link: link.clone() },
    });
    for action in mtu.iter().chain(state.iter()) {
        match apply(net, ranges, action) {
            Err(NetError::Apply { source, .. }) => {
                return Err(NetError::Apply {
                    action: s.actions.join("; "),
                    source,
                })
            }
            other => other?,
        }
    }
    Ok(())
}

/// The route protocol of the prefix routes the kernel adds for an address
/// (`RTPROT_KERNEL`, `proto kernel` in `ip route`).
pub const RTPROT_KERNEL: u8 = 2;

/// Applies one action to a simulated kernel, as Linux (6.1, with 8021q)
/// would, refusing what it refuses with the errno it answers and flushing
/// what it flushes:
///
/// * creating a link, an address or a route that is there already: `EEXIST`
///   (a route is "there" when one has the same destination and metric, the
///   key of the kernel's FIB, whatever its gateway or protocol);
/// * a VLAN opened on a parent that is down: `ENETDOWN` (`vlan_dev_open`);
/// * a route whose gateway no link-scope route on its link reaches (an
///   address's prefix route, which exists only while the link is up):
///   `ENETUNREACH` (`fib_check_nh_v4_gw`); a route without gateway on a
///   link that is down: `ENETDOWN`;
/// * an MTU above a VLAN's parent's: `ERANGE` (`vlan_dev_change_mtu`); one
///   outside the device's range: `EINVAL` (`dev_validate_mtu`);
/// * deleting a link deletes its addresses, its routes and its VLANs;
/// * a link going down loses its IPv4 routes (its addresses stay) and
///   closes its VLANs; coming up, it gets its prefix routes back and
///   reopens its VLANs (`vlan_device_event`);
/// * removing an address removes its prefix route; removing a link's last
///   address removes every IPv4 route through the link
///   (`fib_inetaddr_event`, `fib_disable_ip`);
/// * lowering a link's MTU below its VLANs' lowers theirs to it.
///
/// A removal of something already gone succeeds; a link that is not there
/// is [`NetError::NoSuchLink`], as the real path reports it.
fn apply(
    net: &mut NetState,
    ranges: &BTreeMap<String, (u32, u32)>,
    action: &NetAction,
) -> Result<(), NetError> {
    let refuse = |errno| {
        Err(NetError::Apply {
            action: action.to_string(),
            source: kernel_error(errno),
        })
    };
    let missing = |name: &str| NetError::NoSuchLink(name.to_owned());
    match action {
        NetAction::CreateVlan { name, parent, id } => {
            let parent = net.link(parent).ok_or_else(|| missing(parent))?;
            let taken = net.links.iter().any(|l| {
                &l.name == name || (l.parent == Some(parent.index) && l.vlan_id == Some(*id))
            });
            if taken {
                return refuse(libc::EEXIST);
            }
            let mut link = Link::new(
                net.links.iter().map(|l| l.index).max().unwrap_or(0) + 1,
                name,
                parent.mtu,
            );
            link.kind = Some("vlan".into());
            link.parent = Some(parent.index);
            link.vlan_id = Some(*id);
            link.alias = Some(TELBOX_ALIAS.into());
            net.links.push(link);
        }
        NetAction::DeleteVlan { name } => {
            let index = net.link(name).ok_or_else(|| missing(name))?.index;
            delete_link(net, index);
        }
        NetAction::SetMtu { link, to, .. } => {
            let l = net.link(link).ok_or_else(|| missing(link))?;
            let (min, max) = match l.is_vlan() {
                true => (0, DEVICE_MTUS.1),
                false => ranges.get(link).copied().unwrap_or(DEVICE_MTUS),
            };
            if !(min..=max).contains(to) {
                return refuse(libc::EINVAL);
            }
            if *to > parent_mtu(net, link) {
                return refuse(libc::ERANGE);
            }
            let l = link_mut(net, link)?;
            l.mtu = *to;
            // 8021q lowers the VLANs on a link with it.
            let index = l.index;
            for vlan in net.links.iter_mut().filter(|v| v.parent == Some(index)) {
                vlan.mtu = vlan.mtu.min(*to);
            }
        }
        NetAction::SetUp { link } => {
            let l = net.link(link).ok_or_else(|| missing(link))?;
            let parent_down = l.is_vlan()
                && l.parent
                    .and_then(|p| net.link_by_index(p))
                    .is_some_and(|p| !p.up);
            if parent_down {
                return refuse(libc::ENETDOWN);
            }
            let index = l.index;
            open(net, index);
        }
        NetAction::SetDown { link } => {
            let index = net.link(link).ok_or_else(|| missing(link))?.index;
            close(net, index);
        }
        NetAction::AddAddress { link, address } => {
            let l = link_mut(net, link)?;
            if l.ipv4.contains(address) {
                return refuse(libc::EEXIST);
            }
            let primary = !l.ipv4.iter().any(|a| a.subnet() == address.subnet());
            l.ipv4.push(*address);
            if l.up && primary {
                let name = l.name.clone();
                net.routes.extend(prefix_route(&name, address));
            }
        }
        NetAction::RemoveAddress { link, address } => {
            let l = link_mut(net, link)?;
            let Some(at) = l.ipv4.iter().position(|a| a == address) else {
                return Ok(());
            };
            l.ipv4.remove(at);
            let (name, last) = (l.name.clone(), l.ipv4.is_empty());
            let subnet_left = l.ipv4.iter().any(|a| a.subnet() == address.subnet());
            if last {
                net.routes.retain(|r| r.dev.as_ref() != Some(&name));
            } else if !subnet_left {
                let gone = prefix_route(&name, address);
                net.routes.retain(|r| Some(r) != gone.as_ref());
            }
        }
        NetAction::AddRoute { route } => {
            if let Some(dev) = &route.dev {
                net.link(dev).ok_or_else(|| missing(dev))?;
            }
            check_route(net, route).or_else(refuse)?;
            if net
                .routes
                .iter()
                .any(|r| r.destination == route.destination && r.metric == route.metric)
            {
                return refuse(libc::EEXIST);
            }
            net.routes.push(entry(route));
        }
        NetAction::RemoveRoute { route } => {
            net.routes
                .retain(|r| RouteSpec::from(r) != *route || !r.is_telbox());
        }
        NetAction::SetDefaultRoute { via, link } => {
            let route = RouteSpec {
                destination: default_destination(),
                via: Some(*via),
                dev: Some(link.clone()),
                metric: 0,
            };
            net.link(link).ok_or_else(|| missing(link))?;
            check_route(net, &route).or_else(refuse)?;
            net.routes.retain(|r| !(r.is_default() && r.metric == 0));
            net.routes.push(entry(&route));
        }
    }
    Ok(())
}

/// Whether the kernel takes `route`: its link exists, and its gateway is
/// reached by a link-scope route (no gateway) out of that link, which must
/// be up. The errno of a refusal.
fn check_route(net: &NetState, route: &RouteSpec) -> Result<(), i32> {
    let dev = match &route.dev {
        Some(d) => Some(net.link(d).ok_or(libc::ENODEV)?),
        None => None,
    };
    let Some(via) = route.via else {
        return match dev {
            Some(d) if !d.up => Err(libc::ENETDOWN),
            _ => Ok(()),
        };
    };
    let reached = net
        .routes
        .iter()
        .filter(|r| r.gateway.is_none() && r.destination.contains(via))
        .filter(|r| dev.is_none_or(|d| r.dev.as_ref() == Some(&d.name)))
        .max_by_key(|r| r.destination.prefix)
        .ok_or(libc::ENETUNREACH)?;
    match reached.dev.as_deref().and_then(|d| net.link(d)) {
        Some(l) if !l.up => Err(libc::ENETDOWN),
        _ => Ok(()),
    }
}

/// The route the kernel adds for a primary address on a link that is up
/// (none for a /32).
fn prefix_route(link: &str, address: &Ipv4Cidr) -> Option<RouteEntry> {
    (address.prefix < 32).then(|| RouteEntry {
        destination: address.subnet(),
        gateway: None,
        dev: Some(link.to_owned()),
        protocol: RTPROT_KERNEL,
        metric: 0,
    })
}

/// Brings link `index` up with its prefix routes, and reopens its VLANs.
fn open(net: &mut NetState, index: u32) {
    let Some(l) = net.links.iter_mut().find(|l| l.index == index) else {
        return;
    };
    let was_up = std::mem::replace(&mut l.up, true);
    l.oper = "up".into();
    if was_up {
        return;
    }
    let mut primaries: Vec<Ipv4Cidr> = Vec::new();
    for a in &l.ipv4 {
        if !primaries.iter().any(|p| p.subnet() == a.subnet()) {
            primaries.push(*a);
        }
    }
    let name = l.name.clone();
    net.routes
        .extend(primaries.iter().filter_map(|a| prefix_route(&name, a)));
    for v in vlans_on(net, index) {
        open(net, v);
    }
}

/// Takes link `index` down: its IPv4 routes go, its VLANs close.
fn close(net: &mut NetState, index: u32) {
    let Some(l) = net.links.iter_mut().find(|l| l.index == index) else {
        return;
    };
    let was_up = std::mem::replace(&mut l.up, false);
    l.oper = "down".into();
    if !was_up {
        return;
    }
    let name = l.name.clone();
    net.routes.retain(|r| r.dev.as_ref() != Some(&name));
    for v in vlans_on(net, index) {
        close(net, v);
    }
}

/// The VLAN links whose parent is link `index`.
fn vlans_on(net: &NetState, index: u32) -> Vec<u32> {
    net.links
        .iter()
        .filter(|v| v.is_vlan() && v.parent == Some(index))
        .map(|v| v.index)
        .collect()
}

/// Deletes link `index` with its addresses, its routes and its VLANs.
fn delete_link(net: &mut NetState, index: u32) {
    for v in vlans_on(net, index) {
        delete_link(net, v);
    }
    let Some(at) = net.links.iter().position(|l| l.index == index) else {
        return;
    };
    let gone = net.links.remove(at);
    net.routes.retain(|r| r.dev.as_ref() != Some(&gone.name));
}

/// The MTU a link may take at most: its parent's, for a VLAN.
fn parent_mtu(net: &NetState, name: &str) -> u32 {
    net.link(name)
        .filter(|l| l.is_vlan())
        .and_then(|l| l.parent)
        .and_then(|p| net.link_by_index(p))
        .map_or(u32::MAX, |p| p.mtu)
}

/// The error the kernel answers a request with.
pub fn kernel_error(errno: i32) -> rtnetlink::Error {
    let mut m = rtnetlink::packet_core::ErrorMessage::default();
    m.code = std::num::NonZeroI32::new(-errno);
    rtnetlink::Error::NetlinkError(m)
}

fn link_mut<'a>(net: &'a mut NetState, name: &str) -> Result<&'a mut Link, NetError> {
    net.links
        .iter_mut()
        .find(|l| l.name == name)
        .ok_or_else(|| NetError::NoSuchLink(name.to_owned()))
}

fn entry(route: &RouteSpec) -> RouteEntry {
    RouteEntry {
        destination: route.destination,
        gateway: route.via,
        dev: route.dev.clone(),
        protocol: TELBOX_RTPROTO,
        metric: route.metric,
    }
}

#[cfg(test)]
mod kernel_tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// eth1 (down, MTU 1500, no address) and nothing else.
    fn machine() -> (NetState, BTreeMap<String, (u32, u32)>) {
        let net = NetState {
            links: vec![Link::new(1, "lo", 65536), Link::new(3, "eth1", 1500)],
            routes: Vec::new(),
        };
        (net, BTreeMap::new())
    }

    fn run(net: &mut NetState, actions: &[NetAction]) -> Result<(), NetError> {
        apply_run(net, &BTreeMap::new(), actions)
    }

    fn errno(r: Result<(), NetError>) -> i32 {
        match r {
            Err(NetError::Apply {
                source: rtnetlink::Error::NetlinkError(m),
                ..
            }) => -m.raw_code(),
            other => panic!("not a kernel refusal: {other:?}"),
        }
    }

    fn up(link: &str) -> NetAction {
        NetAction::SetUp { link: link.into() }
    }

    fn down(link: &str) -> NetAction {
        NetAction::SetDown { link: link.into() }
    }

    fn mtu(link: &str, to: u32) -> NetAction {
        NetAction::SetMtu {
            link: link.into(),
            from: 0,
            to,
        }
    }

    fn vlan(name: &str, id: u16) -> NetAction {
        NetAction::CreateVlan {
            name: name.into(),
            parent: "eth1".into(),
            id,
        }
    }

    fn addr(link: &str, a: &str) -> NetAction {
        NetAction::AddAddress {
            link: link.into(),
            address: cidr(a),
        }
    }

    fn route(dest: &str, via: &str, dev: &str) -> NetAction {
        NetAction::AddRoute {
            route: RouteSpec {
                destination: cidr(dest),
                via: Some(ip(via)),
                dev: Some(dev.into()),
                metric: 0,
            },
        }
    }

    fn routes(net: &NetState) -> Vec<String> {
        let mut r: Vec<String> = net
            .routes
            .iter()
            .map(|r| {
                let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
                format!(
                    "{}{via} dev {}",
                    r.destination,
                    r.dev.as_deref().unwrap_or("-")
                )
            })
            .collect();
        r.sort();
        r
    }

    /// eth1 up with 10.1.0.2/24, VLAN eth1.10 up with 10.10.0.2/24 and a
    /// route through each.
    fn configured() -> NetState {
        let (mut net, _) = machine();
        run(
            &mut net,
            &[
                vlan("eth1.10", 10),
                up("eth1"),
                up("eth1.10"),
                addr("eth1", "10.1.0.2/24"),
                addr("eth1.10", "10.10.0.2/24"),
                route("10.20.0.0/16", "10.1.0.1", "eth1"),
                route("10.30.0.0/16", "10.10.0.1", "eth1.10"),
            ],
        )
        .unwrap();
        net
    }

    #[test]
    fn creating_what_is_there_is_eexist() {
        let mut net = configured();
        assert_eq!(errno(run(&mut net, &[vlan("eth1.10", 11)])), libc::EEXIST);
        assert_eq!(errno(run(&mut net, &[vlan("eth1.11", 10)])), libc::EEXIST);
        assert_eq!(
            errno(run(&mut net, &[addr("eth1", "10.1.0.2/24")])),
            libc::EEXIST
        );
        assert_eq!(
            errno(run(&mut net, &[route("10.20.0.0/16", "10.1.0.3", "eth1")])),
            libc::EEXIST,
            "the FIB key is destination and metric"
        );
        assert_eq!(
            errno(run(&mut net, &[route("10.1.0.0/24", "10.1.0.1", "eth1")])),
            libc::EEXIST,
            "the address's prefix route is there"
        );
    }

    #[test]
    fn a_gateway_off_every_subnet_of_its_link_is_enetunreach() {
        let mut net = configured();
        for r in [
            route("10.40.0.0/16", "10.2.0.1", "eth1"),
            // On a subnet, but of another link.
            route("10.40.0.0/16", "10.10.0.1", "eth1"),
            // Reached only through a route with a gateway.
            route("10.40.0.0/16", "10.20.0.1", "eth1"),
        ] {
            assert_eq!(errno(run(&mut net, &[r])), libc::ENETUNREACH);
        }
    }

    #[test]
    fn a_route_on_a_link_that_is_down_is_refused() {
        let (mut net, _) = machine();
        run(&mut net, &[addr("eth1", "10.1.0.2/24")]).unwrap();
        assert!(net.routes.is_empty(), "no prefix route while down");
        assert_eq!(
            errno(run(&mut net, &[route("10.20.0.0/16", "10.1.0.1", "eth1")])),
            libc::ENETUNREACH,
            "the gateway's subnet has no route while the link is down"
        );
        let dev_route = NetAction::AddRoute {
            route: RouteSpec {
                destination: cidr("10.20.0.0/16"),
                via: None,
                dev: Some("eth1".into()),
                metric: 0,
            },
        };
        assert_eq!(errno(run(&mut net, &[dev_route])), libc::ENETDOWN);
    }

    #[test]
    fn a_vlan_does_not_open_on_a_parent_that_is_down() {
        let (mut net, _) = machine();
        run(&mut net, &[vlan("eth1.10", 10)]).unwrap();
        // As one request on the VLAN alone: the parent stays down.
        assert_eq!(
            errno(apply(&mut net, &BTreeMap::new(), &up("eth1.10"))),
            libc::ENETDOWN
        );
        // The same run in plan order is sent parent first.
        run(&mut net, &[mtu("eth1.10", 1400), up("eth1.10"), up("eth1")]).unwrap();
        assert!(net.link("eth1.10").unwrap().up);
    }

    #[test]
    fn mtus_out_of_range_are_refused() {
        let mut net = configured();
        assert_eq!(errno(run(&mut net, &[mtu("eth1.10", 1501)])), libc::ERANGE);
        assert_eq!(errno(run(&mut net, &[mtu("eth1", 67)])), libc::EINVAL);
        assert_eq!(errno(run(&mut net, &[mtu("eth1", 65536)])), libc::EINVAL);
        let ranges = BTreeMap::from([("eth1".to_owned(), (68, 9000))]);
        assert_eq!(
            errno(apply_run(&mut net, &ranges, &[mtu("eth1", 9001)])),
            libc::EINVAL
        );
        // Parent and VLAN raised in one run: the parent goes first.
        run(&mut net, &[mtu("eth1.10", 9000), mtu("eth1", 9000)]).unwrap();
        assert_eq!(net.link("eth1.10").unwrap().mtu, 9000);
    }

    #[test]
    fn lowering_a_parent_lowers_its_vlans_above_it() {
        let mut net = configured();
        run(&mut net, &[mtu("eth1", 9000), mtu("eth1.10", 9000)]).unwrap();
        run(&mut net, &[mtu("eth1", 1400)]).unwrap();
        assert_eq!(net.link("eth1.10").unwrap().mtu, 1400);
        run(&mut net, &[mtu("eth1.10", 1300), mtu("eth1", 1500)]).unwrap();
        assert_eq!(net.link("eth1.10").unwrap().mtu, 1300, "raising leaves it");
    }

    #[test]
    fn deleting_a_link_takes_its_addresses_routes_and_vlans() {
        let mut net = configured();
        run(&mut net, &[vlan("eth1.11", 11)]).unwrap();
        let eth1 = net.link("eth1").unwrap().index;
        delete_link(&mut net, eth1);
        assert_eq!(
            net.links
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>(),
            ["lo"]
        );
        assert!(net.routes.is_empty(), "{:?}", routes(&net));
        let mut net = configured();
        run(
            &mut net,
            &[NetAction::DeleteVlan {
                name: "eth1.10".into(),
            }],
        )
        .unwrap();
        assert_eq!(
            routes(&net),
            ["10.1.0.0/24 dev eth1", "10.20.0.0/16 via 10.1.0.1 dev eth1"]
        );
    }

    #[test]
    fn a_link_going_down_loses_its_routes_not_its_addresses_and_closes_its_vlans() {
        let mut net = configured();
        run(&mut net, &[down("eth1")]).unwrap();
        assert!(net.routes.is_empty(), "{:?}", routes(&net));
        let (eth1, v) = (net.link("eth1").unwrap(), net.link("eth1.10").unwrap());
        assert!(!eth1.up && !v.up);
        assert_eq!(
            (eth1.ipv4.clone(), v.ipv4.clone()),
            (vec![cidr("10.1.0.2/24")], vec![cidr("10.10.0.2/24")])
        );
        // Up again: 8021q reopens the VLAN, the prefix routes come back,
        // the static routes do not.
        run(&mut net, &[up("eth1")]).unwrap();
        assert!(net.link("eth1.10").unwrap().up);
        assert_eq!(
            routes(&net),
            ["10.1.0.0/24 dev eth1", "10.10.0.0/24 dev eth1.10"]
        );
    }

    #[test]
    fn removing_an_address_removes_the_routes_that_needed_it() {
        let mut net = configured();
        run(&mut net, &[addr("eth1", "10.5.0.2/24")]).unwrap();
        run(&mut net, &[route("10.50.0.0/16", "10.5.0.1", "eth1")]).unwrap();
        let remove = |a: &str| NetAction::RemoveAddress {
            link: "eth1".into(),
            address: cidr(a),
        };
        // Not the last address: its prefix route goes; the kernel does not
        // look again at the gateways it reached.
        run(&mut net, &[remove("10.5.0.2/24")]).unwrap();
        assert!(!routes(&net).contains(&"10.5.0.0/24 dev eth1".to_owned()));
        // The last one: every IPv4 route through the link goes.
        run(&mut net, &[remove("10.1.0.2/24")]).unwrap();
        assert_eq!(
            routes(&net),
            [
                "10.10.0.0/24 dev eth1.10",
                "10.30.0.0/16 via 10.10.0.1 dev eth1.10"
            ]
        );
        // Already gone: done.
        run(&mut net, &[remove("10.1.0.2/24")]).unwrap();
    }
}
