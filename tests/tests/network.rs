//! The network domain against a real kernel, in throw-away network
//! namespaces with veth pairs. Each test applies an appliance.toml with
//! sysconfd itself (`sysconfd plan`, then `sysconfd apply --once` over a
//! scratch root) and reads the result back with iproute2, an independent
//! witness.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use telbox_tests::bins::bin;
use telbox_tests::netns::{is_up, run, Netns};

const SYSTEM: &str = "[system]\nhostname = \"pbx\"\ndomain = \"example.com\"\n";

/// The config `v0` static with gateway, MTU and a route; `v1` static; `v2` off.
const BASE: &str = r#"
[[network.interface]]
name = "v0"
role = "voip"
address = "10.10.0.2/24"
gateway = "10.10.0.1"
mtu = 9000

[[network.interface]]
name = "v1"
address = "10.11.0.2/24"
mtu = 1400

[[network.interface]]
name = "v2"
method = "off"

[[network.route]]
destination = "10.20.0.0/16"
via = "10.10.0.254"
"#;

/// A namespace and the scratch root sysconfd keeps its files and generations under.
struct Box {
    ns: Netns,
    root: tempfile::TempDir,
}

impl std::ops::Deref for Box {
    type Target = Netns;
    fn deref(&self) -> &Netns {
        &self.ns
    }
}

fn config_file(body: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp config");
    write!(f, "{SYSTEM}{body}").expect("write config");
    f
}

/// `sysconfd --root ROOT --services none ARGS…` inside `ns`.
fn sysconfd(ns: &Netns, root: &Path, args: &[&str]) -> Command {
    let mut cmd = ns.command(bin("sysconfd"));
    cmd.arg("--root")
        .arg(root)
        .args(["--services", "none"])
        .args(args);
    cmd
}

/// The network lines of what sysconfd would do for `file`.
fn network_plan(bx: &Box, file: &Path) -> Vec<String> {
    let path = file.to_str().unwrap();
    let out = run(&mut sysconfd(
        &bx.ns,
        bx.root.path(),
        &["plan", "--json", "--config", path],
    ));
    let plan: Value = serde_json::from_str(&out).expect("sysconfd plan --json prints JSON");
    plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "network")
        .map(|a| a["summary"].as_str().unwrap().to_owned())
        .collect()
}

/// Applies `body` inside the box; returns the network lines of its plan.
/// Afterwards the re-observed network must plan nothing.
fn apply(bx: &Box, body: &str) -> Vec<String> {
    let file = config_file(body);
    let planned = network_plan(bx, file.path());
    let path = file.path().to_str().unwrap();
    run(&mut sysconfd(
        &bx.ns,
        bx.root.path(),
        &["apply", "--once", "--config", path],
    ));
    let left = network_plan(bx, file.path());
    assert!(
        left.is_empty(),
        "re-observed system must plan empty: {left:#?}"
    );
    planned
}

/// Three veth pairs v0–v0p, v1–v1p, v2–v2p; peers up; v2 up, as the config must take it down.
fn three_links() -> Box {
    let ns = Netns::create();
    for i in 0..3 {
        ns.veth(&format!("v{i}"), &format!("v{i}p"));
        ns.ip(&["link", "set", &format!("v{i}p"), "up"]);
    }
    ns.ip(&["link", "set", "v2", "up"]);
    ns.ip(&["addr", "add", "10.12.0.2/24", "dev", "v2"]);
    let root = telbox_tests::daemon::scratch_dir("network");
    Box { ns, root }
}

/// `ip route` lines, as text, for readable assertions.
fn routes(ns: &Netns) -> Vec<String> {
    ns.ip(&["route", "show", "table", "main"])
        .lines()
        .map(|l| l.trim().to_owned())
        .collect()
}

/// Links (name, MTU, flags), IPv4 addresses and routes: what an apply may change.
fn snapshot(ns: &Netns) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
    let links = ns.ip_json(&["link"]);
    let links: Vec<String> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{} mtu {} {}", l["ifname"], l["mtu"], l["flags"]))
        .collect();
    let names = ["v0", "v1", "v2", "v0p", "v1p", "v2p"];
    let addrs = names.iter().map(|n| ns.ipv4(n)).collect();
    (links, addrs, routes(ns))
}

#[test]
fn addresses_mtu_link_state_and_routes_are_applied() {
    let ns = three_links();
    let report = apply(&ns, BASE);
    assert_eq!(
        report,
        [
            "set v0 mtu 1500 -> 9000",
            "set v1 mtu 1500 -> 1400",
            "set v0 up",
            "set v1 up",
            "set v2 down",
            "remove address 10.12.0.2/24 from v2",
            "add address 10.10.0.2/24 to v0",
            "add address 10.11.0.2/24 to v1",
            "add route 10.20.0.0/16 via 10.10.0.254 dev v0 proto telbox",
            "set default route via 10.10.0.1 dev v0 proto telbox",
        ]
    );
    let v0 = ns.link("v0");
    assert_eq!(v0["mtu"], 9000);
    assert!(is_up(&v0), "{v0}");
    assert_eq!(ns.link("v1")["mtu"], 1400);
    assert!(!is_up(&ns.link("v2")), "method = off must take v2 down");
    assert_eq!(ns.ipv4("v0"), ["10.10.0.2/24"]);
    assert_eq!(ns.ipv4("v1"), ["10.11.0.2/24"]);
    assert_eq!(ns.ipv4("v2"), Vec::<String>::new());
    let r = routes(&ns);
    assert!(
        r.contains(&"default via 10.10.0.1 dev v0 proto 207".to_owned()),
        "{r:#?}"
    );
    assert!(
        r.contains(&"10.20.0.0/16 via 10.10.0.254 dev v0 proto 207".to_owned()),
        "{r:#?}"
    );
}

#[test]
fn a_second_apply_plans_nothing_and_changes_nothing() {
    let ns = three_links();
    apply(&ns, BASE);
    let before = snapshot(&ns);
    let again = apply(&ns, BASE);
    assert_eq!(again, Vec::<String>::new());
    assert_eq!(snapshot(&ns), before);
}

#[test]
fn unmanaged_links_and_hand_made_routes_survive_every_apply() {
    let ns = three_links();
    ns.veth("u0", "u0p");
    ns.ip(&["link", "set", "u0", "up"]);
    ns.ip(&["addr", "add", "192.168.5.5/24", "dev", "u0"]);
    ns.ip(&["link", "set", "v1", "mtu", "1300"]);
    ns.ip(&["addr", "add", "172.16.0.9/16", "dev", "v1"]);
    let unmanaged = BASE.replace("mtu = 1400\n", "mtu = 1400\nmanaged = false\n");
    apply(&ns, &unmanaged);
    ns.ip(&[
        "route",
        "add",
        "192.168.99.0/24",
        "via",
        "10.10.0.9",
        "proto",
        "static",
    ]);
    let without_route = &unmanaged[..unmanaged.find("[[network.route]]").unwrap()];
    for body in [unmanaged.as_str(), without_route, unmanaged.as_str()] {
        apply(&ns, body);
        assert_eq!(
            ns.ipv4("u0"),
            ["192.168.5.5/24"],
            "an undeclared link is not ours"
        );
        assert_eq!(
            ns.ipv4("v1"),
            ["172.16.0.9/16"],
            "an unmanaged link keeps its addresses"
        );
        assert_eq!(ns.link("v1")["mtu"], 1300, "and its MTU");
        assert!(!is_up(&ns.link("v1")), "and its link state");
        let r = routes(&ns);
        assert!(
            r.contains(&"192.168.99.0/24 via 10.10.0.9 dev v0 proto static".to_owned()),
            "{r:#?}"
        );
    }
}

#[test]
fn routes_dropped_from_the_config_are_withdrawn() {
    let ns = three_links();
    apply(&ns, BASE);
    let no_route = &BASE[..BASE.find("[[network.route]]").unwrap()];
    let no_gateway = no_route.replace("gateway = \"10.10.0.1\"\n", "");
    let report = apply(&ns, &no_gateway);
    assert_eq!(
        report,
        [
            "remove route default via 10.10.0.1 dev v0 proto telbox",
            "remove route 10.20.0.0/16 via 10.10.0.254 dev v0 proto telbox",
        ]
    );
    let r = routes(&ns);
    assert!(r.iter().all(|l| !l.contains("proto 207")), "{r:#?}");
}

#[test]
fn addresses_dropped_from_the_config_are_removed() {
    let ns = three_links();
    apply(&ns, BASE);
    ns.ip(&["addr", "add", "10.10.0.77/24", "dev", "v0"]);
    let moved = BASE.replace("10.11.0.2/24", "10.11.0.5/24");
    let report = apply(&ns, &moved);
    assert_eq!(
        report,
        [
            "remove address 10.10.0.77/24 from v0",
            "remove address 10.11.0.2/24 from v1",
            "add address 10.11.0.5/24 to v1",
        ]
    );
    assert_eq!(ns.ipv4("v0"), ["10.10.0.2/24"]);
    assert_eq!(ns.ipv4("v1"), ["10.11.0.5/24"]);
    assert!(routes(&ns).contains(&"default via 10.10.0.1 dev v0 proto 207".to_owned()));
}

#[test]
fn moving_the_gateway_link_address_brings_its_routes_back() {
    let ns = three_links();
    apply(&ns, BASE);
    let renumbered = BASE
        .replace("10.10.0.2/24", "10.50.0.2/24")
        .replace("10.10.0.1\"", "10.50.0.1\"")
        .replace("10.10.0.254", "10.50.0.254");
    apply(&ns, &renumbered);
    let r = routes(&ns);
    assert!(
        r.contains(&"default via 10.50.0.1 dev v0 proto 207".to_owned()),
        "{r:#?}"
    );
    assert!(
        r.contains(&"10.20.0.0/16 via 10.50.0.254 dev v0 proto 207".to_owned()),
        "{r:#?}"
    );
    assert!(r.iter().all(|l| !l.contains("10.10.0.")), "{r:#?}");
}

/// The network as sysconfd's own netlink observe sees it from inside `ns`.
fn observe(ns: &Netns) -> Value {
    let state = ns.run(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let nl = sysconfd::network::Netlink::connect().expect("netlink");
            nl.observe().await.expect("observe")
        })
    });
    serde_json::to_value(state).unwrap()
}

#[test]
fn observe_agrees_with_iproute2() {
    let ns = three_links();
    apply(&ns, BASE);
    ns.ip(&["link", "set", "v1p", "alias", "set by hand"]);
    let state = observe(&ns);
    let ip_links = ns.ip_json(&["link"]);
    for l in ip_links.as_array().unwrap() {
        let ours = state["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == l["ifname"])
            .expect("every link observed");
        assert_eq!(ours["index"], l["ifindex"]);
        assert_eq!(ours["mtu"], l["mtu"]);
        assert_eq!(ours["mac"], l["address"]);
        assert_eq!(ours["up"], is_up(l));
        let oper = l["operstate"].as_str().unwrap().to_lowercase();
        assert_eq!(ours["oper"], oper.as_str(), "{}", l["ifname"]);
        assert_eq!(ours.get("alias"), l.get("ifalias"), "{}", l["ifname"]);
        let name_of = |index: u64| {
            let links = ip_links.as_array().unwrap();
            links.iter().find(|p| p["ifindex"] == index).unwrap()["ifname"].clone()
        };
        let parent = ours["parent"].as_u64().map(name_of);
        assert_eq!(parent.as_ref(), l.get("link"), "{}", l["ifname"]);
    }
    assert_eq!(
        ip_links
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l.get("ifalias").is_some())
            .count(),
        1,
        "the alias set by hand is seen"
    );
    let v0 = state["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "v0")
        .unwrap();
    assert_eq!(v0["kind"], "veth");
    assert_eq!(v0["ipv4"], serde_json::json!(["10.10.0.2/24"]));
    let ours: Vec<&Value> = state["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["protocol"] == 207)
        .collect();
    assert_eq!(ours.len(), 2, "{ours:#?}");
}

#[test]
fn host_identity_is_written_under_the_root_and_set_in_a_uts_namespace() {
    telbox_tests::bins::require_root("a UTS namespace");
    let outside = nix::unistd::gethostname().unwrap();
    let body =
        format!("{BASE}\n[dns]\nnameservers = [\"10.10.0.1\"]\nsearch = [\"example.com\"]\n");
    let file = config_file(&body);
    let bx = three_links();
    let root = bx.root.path();
    // sysconfd sets the host name of the UTS namespace it runs in; `hostname`
    // then reads it back from inside that namespace, before it goes away.
    let apply = format!(
        "ip netns exec {} {} --root {} --services none --set-hostname true apply --once --config {} >/dev/null && hostname",
        bx.name(),
        bin("sysconfd").display(),
        root.display(),
        file.path().display()
    );
    let inside = run(Command::new("unshare").args(["--uts", "sh", "-c", &apply]));
    assert_eq!(inside.trim(), "pbx");
    assert_eq!(
        nix::unistd::gethostname().unwrap(),
        outside,
        "the test's own host name is untouched"
    );
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert_eq!(read("etc/hostname"), "pbx\n");
    assert!(
        read("etc/hosts").contains("\n10.10.0.2\tpbx.example.com\tpbx\n"),
        "{}",
        read("etc/hosts")
    );
    let resolv = read("etc/resolv.conf");
    assert!(
        resolv.contains("\nsearch example.com\nnameserver 10.10.0.1\n"),
        "{resolv}"
    );
}

/// Several observes at once on one connection, from several threads (a plan
/// and a status call, say)
/// all succeed: the kernel runs one dump at a time per netlink socket, and a
/// second dump sent meanwhile would be refused with EBUSY.
#[test]
fn observes_at_the_same_time_share_one_connection() {
    const ADDRESSES: usize = 2000;
    let bx = three_links();
    let mut batch = tempfile::NamedTempFile::new().unwrap();
    for i in 0..ADDRESSES {
        writeln!(
            batch,
            "addr add 10.30.{}.{}/32 dev v1",
            i / 250,
            i % 250 + 1
        )
        .unwrap();
    }
    bx.ip(&["-batch", batch.path().to_str().unwrap()]);
    let states = bx.run(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let nl = std::sync::Arc::new(sysconfd::network::Netlink::connect().expect("netlink"));
            let observes = (0..8).map(|_| {
                let nl = nl.clone();
                tokio::spawn(async move { nl.observe().await })
            });
            let joined = futures::future::join_all(observes).await;
            joined
                .into_iter()
                .map(|j| j.expect("observe task"))
                .collect::<Vec<_>>()
        })
    });
    for state in states {
        let state = state.expect("every observe succeeds");
        let v1 = state
            .links
            .iter()
            .find(|l| l.name == "v1")
            .expect("v1 observed");
        assert_eq!(v1.ipv4.len(), ADDRESSES, "every address of v1 is seen");
    }
}
