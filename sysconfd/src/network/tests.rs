//! The planner on hand-built systems, and the netlink requests it leads to.

use std::net::{IpAddr, Ipv4Addr};

use appliance::config::network::Network;
use rtnetlink::packet_core::{Emitable, Parseable};
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoVlan, LinkAttribute, LinkInfo, LinkMessage,
};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteProtocol};

use super::*;

fn net(toml_text: &str) -> Network {
    toml::from_str(toml_text).expect("network config")
}

fn cidr(s: &str) -> appliance::config::values::Ipv4Cidr {
    s.parse().unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn link(index: u32, name: &str, up: bool, mtu: u32, addrs: &[&str]) -> Link {
    let mut l = Link::new(index, name, mtu);
    l.up = up;
    l.ipv4 = addrs.iter().map(|a| cidr(a)).collect();
    l
}

fn route(dest: &str, via: Option<&str>, dev: &str, protocol: u8) -> RouteEntry {
    RouteEntry {
        destination: cidr(dest),
        gateway: via.map(ip),
        dev: Some(dev.into()),
        protocol,
        metric: 0,
    }
}

fn lines(plan: &[NetAction]) -> Vec<String> {
    plan.iter().map(|a| a.to_string()).collect()
}

const ETH0: &str = r#"
[[interface]]
name = "eth0"
address = "10.0.0.2/24"
gateway = "10.0.0.1"
mtu = 9000

[[route]]
destination = "10.20.0.0/16"
via = "10.0.0.254"
"#;

/// eth0 exactly as ETH0 asks, with the kernel's own prefix route.
fn eth0_done() -> NetState {
    NetState {
        links: vec![link(2, "eth0", true, 9000, &["10.0.0.2/24"])],
        routes: vec![
            route("0.0.0.0/0", Some("10.0.0.1"), "eth0", TELBOX_RTPROTO),
            route("10.0.0.0/24", None, "eth0", 2),
            route("10.20.0.0/16", Some("10.0.0.254"), "eth0", TELBOX_RTPROTO),
        ],
    }
}

#[test]
fn a_fresh_link_gets_mtu_then_up_then_address_then_routes() {
    let observed = NetState {
        links: vec![link(2, "eth0", false, 1500, &[])],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&net(ETH0), &observed)),
        [
            "set eth0 mtu 1500 -> 9000",
            "set eth0 up",
            "add address 10.0.0.2/24 to eth0",
            "add route 10.20.0.0/16 via 10.0.0.254 dev eth0 proto telbox",
            "set default route via 10.0.0.1 dev eth0 proto telbox",
        ]
    );
}

#[test]
fn an_up_to_date_system_plans_nothing() {
    assert_eq!(plan(&net(ETH0), &eth0_done()), []);
    assert_eq!(verify(&net(ETH0), &eth0_done()), Ok(()));
}

#[test]
fn unmanaged_and_undeclared_links_are_left_alone() {
    let config = format!(
        "{ETH0}\n[[interface]]\nname = \"eth1\"\naddress = \"10.1.0.2/24\"\nmanaged = false\n"
    );
    let mut observed = eth0_done();
    observed
        .links
        .push(link(3, "eth1", false, 1400, &["192.168.5.5/24"]));
    observed
        .links
        .push(link(4, "wlan0", false, 1500, &["172.16.0.9/16"]));
    assert_eq!(plan(&net(&config), &observed), []);
}

#[test]
fn only_routes_with_our_protocol_are_removed() {
    let mut observed = eth0_done();
    observed
        .routes
        .push(route("192.168.99.0/24", Some("10.0.0.9"), "eth0", 4));
    observed.routes.push(route(
        "10.30.0.0/16",
        Some("10.0.0.9"),
        "eth0",
        TELBOX_RTPROTO,
    ));
    assert_eq!(
        lines(&plan(&net(ETH0), &observed)),
        ["remove route 10.30.0.0/16 via 10.0.0.9 dev eth0 proto telbox"]
    );
}

#[test]
fn a_changed_gateway_replaces_the_default_route() {
    let config = ETH0.replace("gateway = \"10.0.0.1\"", "gateway = \"10.0.0.3\"");
    assert_eq!(
        lines(&plan(&net(&config), &eth0_done())),
        [
            "remove route default via 10.0.0.1 dev eth0 proto telbox",
            "set default route via 10.0.0.3 dev eth0 proto telbox",
        ]
    );
}

#[test]
fn a_foreign_default_route_is_replaced_by_the_declared_gateway() {
    let mut observed = eth0_done();
    observed.routes[0].protocol = 3;
    assert_eq!(
        lines(&plan(&net(ETH0), &observed)),
        ["set default route via 10.0.0.1 dev eth0 proto telbox"]
    );
}

#[test]
fn undeclared_addresses_go_before_declared_ones_come() {
    let mut observed = eth0_done();
    observed.links[0].ipv4.push(cidr("10.0.0.77/24"));
    assert_eq!(
        lines(&plan(&net(ETH0), &observed)),
        ["remove address 10.0.0.77/24 from eth0"]
    );
    let moved = ETH0.replace("10.0.0.2/24", "10.0.0.5/24");
    assert_eq!(
        lines(&plan(&net(&moved), &eth0_done())),
        [
            "remove address 10.0.0.2/24 from eth0",
            "add address 10.0.0.5/24 to eth0",
            "add route 10.20.0.0/16 via 10.0.0.254 dev eth0 proto telbox",
            "set default route via 10.0.0.1 dev eth0 proto telbox",
        ],
        "removing the last address flushes the link's routes, so they are added again"
    );
}

#[test]
fn method_off_takes_the_link_down_and_its_addresses_away() {
    let config = net("[[interface]]\nname = \"eth0\"\nmethod = \"off\"\n");
    let observed = NetState {
        links: vec![link(2, "eth0", true, 1500, &["10.0.0.2/24"])],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&config, &observed)),
        ["set eth0 down", "remove address 10.0.0.2/24 from eth0"]
    );
}

#[test]
fn dhcp_links_are_brought_up_and_their_addresses_left_to_the_client() {
    let config = net("[[interface]]\nname = \"eth0\"\nmethod = \"dhcp\"\n");
    let down = NetState {
        links: vec![link(2, "eth0", false, 1500, &["10.0.0.99/24"])],
        routes: vec![],
    };
    assert_eq!(lines(&plan(&config, &down)), ["set eth0 up"]);
    let up = NetState {
        links: vec![link(2, "eth0", true, 1500, &["10.0.0.99/24"])],
        routes: vec![],
    };
    assert_eq!(plan(&config, &up), []);
}

#[test]
fn declared_links_missing_from_the_system_are_skipped_and_reported() {
    let observed = NetState::default();
    assert_eq!(plan(&net(ETH0), &observed), []);
    assert_eq!(absent_links(&net(ETH0), &observed), ["eth0"]);
}

const VLAN: &str = r#"
[[interface]]
name = "eth0"
method = "off"

[[vlan]]
name = "eth0.20"
parent = "eth0"
id = 20
address = "10.20.0.2/24"
mtu = 1400
"#;

fn vlan_link(index: u32, name: &str, parent: u32, id: u16, alias: Option<&str>) -> Link {
    let mut l = link(index, name, true, 1400, &["10.20.0.2/24"]);
    l.kind = Some("vlan".into());
    l.parent = Some(parent);
    l.vlan_id = Some(id);
    l.alias = alias.map(str::to_owned);
    l
}

#[test]
fn a_vlan_is_created_then_configured_like_any_link() {
    let observed = NetState {
        links: vec![link(2, "eth0", false, 1500, &[])],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&net(VLAN), &observed)),
        [
            "create vlan eth0.20 id 20 on eth0",
            "set eth0.20 mtu 1500 -> 1400",
            "set eth0.20 up",
            "add address 10.20.0.2/24 to eth0.20",
        ]
    );
}

#[test]
fn vlans_are_recreated_when_wrong_and_deleted_only_when_ours() {
    let eth0 = link(2, "eth0", false, 1500, &[]);
    let right = vlan_link(5, "eth0.20", 2, 20, Some(TELBOX_ALIAS));
    let done = NetState {
        links: vec![eth0.clone(), right],
        routes: vec![],
    };
    assert_eq!(plan(&net(VLAN), &done), []);

    let wrong = vlan_link(5, "eth0.20", 2, 21, Some(TELBOX_ALIAS));
    let ours_stale = vlan_link(6, "eth0.30", 2, 30, Some(TELBOX_ALIAS));
    let foreign = vlan_link(7, "eth0.40", 2, 40, None);
    let observed = NetState {
        links: vec![eth0, wrong, ours_stale, foreign],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&net(VLAN), &observed))[..3],
        [
            "delete vlan eth0.30",
            "delete vlan eth0.20",
            "create vlan eth0.20 id 20 on eth0"
        ]
    );
}

#[test]
fn removing_the_session_address_is_flagged() {
    let moved = ETH0.replace("10.0.0.2/24", "10.0.0.5/24");
    let observed = eth0_done();
    let p = plan(&net(&moved), &observed);
    let hit = session_address_removed(&p, &observed, IpAddr::V4(ip("10.0.0.2")));
    assert_eq!(
        hit.map(|a| a.to_string()).as_deref(),
        Some("remove address 10.0.0.2/24 from eth0")
    );
    assert_eq!(
        session_address_removed(&p, &observed, IpAddr::V4(ip("10.9.9.9"))),
        None
    );

    let off = net("[[interface]]\nname = \"eth0\"\nmethod = \"off\"\n");
    let p = plan(&off, &observed);
    let hit = session_address_removed(&p, &observed, IpAddr::V4(ip("10.0.0.2")));
    assert_eq!(hit.map(|a| a.to_string()).as_deref(), Some("set eth0 down"));
}

#[test]
fn verify_lists_what_is_left_to_do() {
    let mut observed = eth0_done();
    observed.links[0].mtu = 1500;
    assert_eq!(
        verify(&net(ETH0), &observed),
        Err(vec!["still to do: set eth0 mtu 1500 -> 9000".to_owned()])
    );
}

/// Emits a link message to its wire form and parses it back, as the kernel would read it.
fn on_the_wire(msg: &LinkMessage) -> LinkMessage {
    let mut bytes = vec![0; msg.buffer_len()];
    msg.emit(&mut bytes);
    LinkMessage::parse(bytes.as_slice()).expect("parse back")
}

#[test]
fn the_vlan_request_names_parent_kind_and_id() {
    let msg = on_the_wire(&vlan_request("eth0.20", 7, 20));
    let attrs = &msg.attributes;
    assert!(
        attrs.contains(&LinkAttribute::IfName("eth0.20".into())),
        "{attrs:?}"
    );
    assert!(
        attrs.contains(&LinkAttribute::Link(7)),
        "IFLA_LINK must be the parent index: {attrs:?}"
    );
    let info = attrs
        .iter()
        .find_map(|a| match a {
            LinkAttribute::LinkInfo(i) => Some(i),
            _ => None,
        })
        .expect("IFLA_LINKINFO");
    assert!(info.contains(&LinkInfo::Kind(InfoKind::Vlan)), "{info:?}");
    assert!(
        info.contains(&LinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(20)]))),
        "{info:?}"
    );
}

#[test]
fn route_requests_carry_our_protocol_in_the_main_table() {
    let spec = RouteSpec {
        destination: cidr("10.20.0.0/16"),
        via: Some(ip("10.0.0.254")),
        dev: Some("eth0".into()),
        metric: 0,
    };
    let msg = route_request(&spec, Some(3));
    assert_eq!(msg.header.protocol, RouteProtocol::from(TELBOX_RTPROTO));
    assert_eq!(msg.header.table, RouteHeader::RT_TABLE_MAIN);
    assert_eq!(msg.header.destination_prefix_length, 16);
    let attrs = &msg.attributes;
    assert!(
        attrs.contains(&RouteAttribute::Destination(RouteAddress::Inet(ip(
            "10.20.0.0"
        ))))
    );
    assert!(
        attrs.contains(&RouteAttribute::Gateway(RouteAddress::Inet(ip(
            "10.0.0.254"
        ))))
    );
    assert!(attrs.contains(&RouteAttribute::Oif(3)));
}

#[test]
fn the_ha_service_address_is_neither_removed_nor_counted_as_the_links_own() {
    let mut observed = eth0_done();
    let vip = cidr("10.0.0.9/24");
    observed.links[0].ipv4.push(vip);
    assert_eq!(
        lines(&plan(&net(ETH0), &observed)),
        ["remove address 10.0.0.9/24 from eth0"],
        "without the HA address kept, it is a stray address"
    );
    assert_eq!(
        lines(&plan_keeping(&net(ETH0), &observed, Some(("eth0", vip)))),
        Vec::<String>::new()
    );
    // Kept on eth0 only: the same address on another link is still stray.
    assert_eq!(
        lines(&plan_keeping(&net(ETH0), &observed, Some(("eth1", vip)))),
        ["remove address 10.0.0.9/24 from eth0"]
    );
}

fn vlan_of(index: u32, name: &str, parent: u32, id: u16, up: bool, mtu: u32) -> Link {
    let mut l = link(index, name, up, mtu, &[]);
    l.kind = Some("vlan".into());
    l.parent = Some(parent);
    l.vlan_id = Some(id);
    l.alias = Some(TELBOX_ALIAS.into());
    l
}

#[test]
fn a_vlan_with_its_own_mtu_comes_up_after_its_parent() {
    let desired = net(r#"
[[interface]]
name = "eth1"
address = "10.1.0.2/24"
mtu = 9000

[[vlan]]
name = "eth1.10"
parent = "eth1"
id = 10
address = "10.10.0.2/24"
mtu = 9000
"#);
    let observed = NetState {
        links: vec![link(3, "eth1", false, 1500, &[])],
        routes: vec![],
    };
    let plan = lines(&plan(&desired, &observed));
    let at = |line: &str| plan.iter().position(|l| l == line).expect(line);
    assert!(
        at("set eth1 mtu 1500 -> 9000") < at("set eth1.10 mtu 1500 -> 9000"),
        "{plan:?}"
    );
    assert!(at("set eth1 up") < at("set eth1.10 up"), "{plan:?}");
}

#[test]
fn mtus_go_down_vlan_first_and_up_parent_first() {
    let lower = net(r#"
[[interface]]
name = "eth1"
method = "off"
mtu = 1500

[[vlan]]
name = "eth1.10"
parent = "eth1"
id = 10
method = "off"
mtu = 1400
"#);
    let observed = NetState {
        links: vec![
            link(3, "eth1", false, 9000, &[]),
            vlan_of(4, "eth1.10", 3, 10, false, 9000),
        ],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&lower, &observed)),
        ["set eth1.10 mtu 9000 -> 1400", "set eth1 mtu 9000 -> 1500"]
    );
    let raise = net(r#"
[[interface]]
name = "eth1"
method = "off"
mtu = 9000

[[vlan]]
name = "eth1.10"
parent = "eth1"
id = 10
method = "off"
mtu = 9000
"#);
    let observed = NetState {
        links: vec![
            link(3, "eth1", false, 1500, &[]),
            vlan_of(4, "eth1.10", 3, 10, false, 1400),
        ],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&raise, &observed)),
        ["set eth1 mtu 1500 -> 9000", "set eth1.10 mtu 1400 -> 9000"]
    );
}

#[test]
fn a_vlan_kept_off_is_taken_down_again_after_its_parent_comes_up() {
    // 8021q opens every VLAN on a parent that comes up.
    let desired = net(r#"
[[interface]]
name = "eth1"
address = "10.1.0.2/24"

[[vlan]]
name = "eth1.10"
parent = "eth1"
id = 10
method = "off"
"#);
    let observed = NetState {
        links: vec![
            link(3, "eth1", false, 1500, &[]),
            vlan_of(4, "eth1.10", 3, 10, false, 1500),
        ],
        routes: vec![],
    };
    assert_eq!(
        lines(&plan(&desired, &observed))[..2],
        ["set eth1 up", "set eth1.10 down"]
    );
}

#[test]
fn vlans_swapping_ids_are_all_deleted_before_any_is_created() {
    let desired = net(r#"
[[interface]]
name = "eth1"
method = "off"

[[vlan]]
name = "a"
parent = "eth1"
id = 20
method = "off"

[[vlan]]
name = "b"
parent = "eth1"
id = 10
method = "off"
"#);
    let observed = NetState {
        links: vec![
            link(3, "eth1", false, 1500, &[]),
            vlan_of(4, "a", 3, 10, false, 1500),
            vlan_of(5, "b", 3, 20, false, 1500),
        ],
        routes: vec![],
    };
    let plan = lines(&plan(&desired, &observed));
    assert!(
        plan[0].starts_with("delete") && plan[1].starts_with("delete"),
        "{plan:?}"
    );
    assert!(
        plan[2].starts_with("create") && plan[3].starts_with("create"),
        "{plan:?}"
    );
}

#[test]
fn a_vlan_recreated_on_another_parent_gets_its_routes_again() {
    let desired = net(r#"
[[interface]]
name = "eth0"
address = "10.0.0.2/24"

[[interface]]
name = "eth1"
address = "10.1.0.2/24"

[[vlan]]
name = "v1"
parent = "eth1"
id = 10
address = "10.10.0.2/24"

[[route]]
destination = "172.16.0.0/24"
via = "10.10.0.1"
"#);
    let mut v1 = vlan_of(4, "v1", 2, 10, true, 1500);
    v1.ipv4 = vec![cidr("10.10.0.2/24")];
    let observed = NetState {
        links: vec![
            link(2, "eth0", true, 1500, &["10.0.0.2/24"]),
            link(3, "eth1", true, 1500, &["10.1.0.2/24"]),
            v1,
        ],
        routes: vec![
            route("10.10.0.0/24", None, "v1", 2),
            route("172.16.0.0/24", Some("10.10.0.1"), "v1", TELBOX_RTPROTO),
        ],
    };
    // Deleting v1 from eth0 takes its route with it: added again, never removed.
    let plan = lines(&plan(&desired, &observed));
    assert_eq!(
        plan,
        [
            "delete vlan v1",
            "create vlan v1 id 10 on eth1",
            "set v1 up",
            "add address 10.10.0.2/24 to v1",
            "add route 172.16.0.0/24 via 10.10.0.1 dev v1 proto telbox",
        ]
    );
}
