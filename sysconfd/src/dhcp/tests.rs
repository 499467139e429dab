//! Rendering tests: what the generated Kea JSON says for typical boxes.

use std::path::Path;

use serde_json::{json, Value};

use super::*;

const BASE: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[dns]
nameservers = ["192.168.1.1", "192.168.1.2"]

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.168.1.10/24"
gateway = "192.168.1.254"

[[network.interface]]
name = "eth1"
address = "10.9.0.2/24"

[dhcp]
enabled = true
pool_start = "192.168.1.100"
pool_end = "192.168.1.199"
"#;

fn rendered(extra: &str) -> Value {
    let cfg = appliance::config::load(&format!("{BASE}{extra}"), "test.toml").unwrap();
    let spec = render(&cfg, "eth0", &KeaPaths::under(Path::new("/var/lib/telbox"))).unwrap();
    assert_eq!(spec.path, Path::new(KEA_CONF));
    serde_json::from_str(&spec.contents).unwrap()
}

fn option<'a>(list: &'a Value, name: &str) -> Option<&'a str> {
    list.as_array()?
        .iter()
        .find(|o| o["name"] == name)
        .and_then(|o| o["data"].as_str())
}

#[test]
fn voip_subnet_pool_is_for_known_phones_with_the_gateway_as_router() {
    let v = rendered("");
    let d = &v["Dhcp4"];
    assert_eq!(d["interfaces-config"]["interfaces"], json!(["eth0"]));
    assert_eq!(d["interfaces-config"]["dhcp-socket-type"], "raw");
    assert_eq!(
        d["interfaces-config"]["service-sockets-retry-wait-time"],
        5000
    );
    assert_eq!(d["authoritative"], true);
    assert_eq!(d["valid-lifetime"], 86400);
    let s = &d["subnet4"][0];
    assert_eq!(s["subnet"], "192.168.1.0/24");
    assert_eq!(s["id"], u32::from(std::net::Ipv4Addr::new(192, 168, 1, 0)));
    assert_eq!(
        s["pools"],
        json!([{"pool": "192.168.1.100 - 192.168.1.199", "client-class": "telbox-phone"}])
    );
    assert_eq!(option(&s["option-data"], "routers"), Some("192.168.1.254"));
    assert_eq!(
        option(&d["option-data"], "domain-name-servers"),
        Some("192.168.1.1, 192.168.1.2")
    );
    assert_eq!(
        option(&d["option-data"], "ntp-servers"),
        Some("192.168.1.10")
    );
    assert_eq!(
        option(&d["option-data"], "tftp-server-name"),
        Some("192.168.1.10")
    );
    assert_eq!(
        option(&d["option-data"], "domain-name"),
        Some("example.com")
    );
}

#[test]
fn phone_classes_test_oui_and_vendor_class() {
    let v = rendered("");
    let classes = v["Dhcp4"]["client-classes"].as_array().unwrap();
    let aastra = classes
        .iter()
        .find(|c| c["name"] == "telbox-phone-aastra")
        .unwrap();
    let test = aastra["test"].as_str().unwrap();
    assert!(
        test.contains("substring(pkt4.mac,0,3) == 0x00085d"),
        "{test}"
    );
    assert!(
        test.contains("substring(option[60].hex,0,13) == 'AastraIPPhone'"),
        "{test}"
    );
    let admitted = classes.last().unwrap();
    assert_eq!(admitted["name"], ADMITTED_CLASS);
    let test = admitted["test"].as_str().unwrap();
    assert!(
        test.contains("member('telbox-phone-snom')") && test.ends_with("member('KNOWN')"),
        "{test}"
    );
}

#[test]
fn unknown_clients_open_the_pools() {
    let v = rendered("unknown_clients = true\n");
    assert_eq!(
        v["Dhcp4"]["subnet4"][0]["pools"],
        json!([{"pool": "192.168.1.100 - 192.168.1.199"}])
    );
}

#[test]
fn router_override_lease_time_and_provisioning_url() {
    let v = rendered(
        "router = \"192.168.1.1\"\nlease_time = 600\nprovisioning_url = \"http://192.168.1.10:8667/a,b\"\n",
    );
    let d = &v["Dhcp4"];
    assert_eq!(d["valid-lifetime"], 600);
    assert_eq!(
        option(&d["subnet4"][0]["option-data"], "routers"),
        Some("192.168.1.1")
    );
    assert_eq!(
        option(&d["option-data"], "tftp-server-name"),
        Some("http://192.168.1.10:8667/a\\,b")
    );
    assert_eq!(
        option(&d["option-data"], "telbox-provisioning-url"),
        Some("http://192.168.1.10:8667/a\\,b")
    );
    assert_eq!(d["option-def"][0]["code"], 160);
}

#[test]
fn extra_interfaces_sites_and_reservations() {
    let v = rendered(
        r#"interfaces = ["eth1", "eth0"]

[[dhcp.subnet]]
name = "site2"
network = "10.20.0.0/24"
pool_start = "10.20.0.10"
pool_end = "10.20.0.200"
router = "10.20.0.1"

[[dhcp.reservation]]
mac = "00:08:5d:aa:bb:cc"
address = "10.20.0.5"
hostname = "lobby"

[[dhcp.reservation]]
mac = "02:00:00:00:00:01"
address = "192.168.1.50"
"#,
    );
    let d = &v["Dhcp4"];
    assert_eq!(
        d["interfaces-config"]["interfaces"],
        json!(["eth0", "eth1"])
    );
    let site = &d["subnet4"][1];
    assert_eq!(site["subnet"], "10.20.0.0/24");
    assert_eq!(option(&site["option-data"], "routers"), Some("10.20.0.1"));
    assert_eq!(site["pools"][0]["pool"], "10.20.0.10 - 10.20.0.200");
    assert_eq!(
        site["reservations"],
        json!([{"hw-address": "00:08:5d:aa:bb:cc", "ip-address": "10.20.0.5", "hostname": "lobby"}])
    );
    assert_eq!(
        d["subnet4"][0]["reservations"][0]["ip-address"],
        "192.168.1.50"
    );
}

#[test]
fn leases_and_control_socket_live_in_the_state_dir() {
    let v = rendered("");
    let d = &v["Dhcp4"];
    assert_eq!(
        d["lease-database"],
        json!({"type": "memfile", "persist": true, "name": "/var/lib/telbox/kea-leases4.csv", "lfc-interval": 3600})
    );
    assert_eq!(
        d["control-socket"],
        json!({"socket-type": "unix", "socket-name": "/var/lib/telbox/kea4-ctrl.sock"})
    );
}

#[test]
fn disabled_dhcp_renders_nothing() {
    let text = BASE.replace("enabled = true", "enabled = false");
    let cfg = appliance::config::load(&text, "test.toml").unwrap();
    let err = render(&cfg, "eth0", &KeaPaths::under(Path::new("/s"))).unwrap_err();
    assert!(matches!(err, KeaError::Disabled), "{err}");
}

#[test]
fn kea_accepts_what_is_rendered() {
    if std::process::Command::new("kea-dhcp4")
        .arg("-V")
        .output()
        .is_err()
    {
        panic!("kea-dhcp4 is not installed; it is needed to check generated configs");
    }
    let cfg = appliance::config::load(
        &format!("{BASE}provisioning_url = \"http://x/a,b\"\n"),
        "t.toml",
    )
    .unwrap();
    let spec = render(&cfg, "eth0", &KeaPaths::under(Path::new("/var/lib/telbox"))).unwrap();
    check_contents(&spec.contents, InterfaceCheck::Skip).unwrap();
    let broken = spec
        .contents
        .replace("\"valid-lifetime\": 86400", "\"valid-lifetime\": \"soon\"");
    let err = check_contents(&broken, InterfaceCheck::Skip).unwrap_err();
    assert!(
        matches!(&err, KeaError::Rejected(m) if m.contains("expecting integer")),
        "{err}"
    );
}
