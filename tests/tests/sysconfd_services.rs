//! The DHCP and NTP servers end to end through sysconfd: apply over the bus,
//! sysconfd runs the real kea-dhcp4 and chronyd, real dhclients ask for
//! addresses from another namespace, and `appliance dhcp leases` /
//! `appliance ntp status` show what the daemons know.

use std::time::Duration;

use telbox_tests::bins::require_root;
use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::{shared_file, text, Sysconfd};
use telbox_tests::dhcp_client::{dhclient, ClientSpec};
use telbox_tests::netns::Netns;

const PHONE: &str = "00:08:5d:11:22:33";
const PC: &str = "02:00:00:aa:bb:cc";

fn config(unknown_clients: bool, pool_end: &str) -> String {
    format!(
        r#"
[system]
hostname = "telbox"
domain = "example.com"

[dns]
nameservers = ["10.77.0.1"]

[[network.interface]]
name = "eth0"
role = "voip"
address = "10.77.0.1/24"
gateway = "10.77.0.254"

[dhcp]
enabled = true
pool_start = "10.77.0.100"
pool_end = "{pool_end}"
unknown_clients = {unknown_clients}

[ntp]
local_stratum = 10
"#
    )
}

const DHCP_CLIENT_BOX: &str = r#"
[system]
hostname = "branch"
domain = "example.com"

[[network.interface]]
name = "lan0"
role = "voip"
method = "dhcp"
"#;

/// The address `appliance network show` reports leased on lan0 (waits up to 20 s).
fn wait_for_lease(d: &Sysconfd) -> Option<String> {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let out = d.appliance(&["network", "show", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if let Some(addr) = v["dhcp_leases"]["lan0"]["address"].as_str() {
            return Some(addr.split('/').next().unwrap_or(addr).to_owned());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    None
}

fn leases(d: &Sysconfd) -> Vec<serde_json::Value> {
    let out = d.appliance(&["dhcp", "leases", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn lease_for<'a>(leases: &'a [serde_json::Value], mac: &str) -> Option<&'a serde_json::Value> {
    leases.iter().find(|l| l["mac"] == mac)
}

#[test]
fn phones_lease_through_sysconfd_and_leases_survive_a_pool_change() {
    require_root("DHCP through sysconfd");
    let boxns = Netns::create();
    let lan = Netns::create();
    boxns.veth_to("eth0", &lan, "lan0");
    let bus = PrivateBus::with_project_policy();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let d = Sysconfd::start_in(&bus, &root, boxns.name());

    let known_only = shared_file(dir.path(), "known.toml", &config(false, "10.77.0.150"));
    let out = d.appliance(&["config", "apply", known_only.to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{}", text(&out), d.log_text());

    let spec = |mac, secs| ClientSpec {
        iface: "lan0",
        mac,
        vendor_class: None,
        timeout: Duration::from_secs(secs),
    };
    let phone = dhclient(&lan, &dir.path().join("phone"), &spec(PHONE, 15))
        .expect("the phone gets an address");
    let phone_ip = phone.get("new_ip_address").unwrap().to_owned();
    assert!(
        phone_ip.starts_with("10.77.0.1"),
        "{phone_ip} is not from the pool"
    );
    assert_eq!(phone.get("new_routers"), Some("10.77.0.254"));
    assert_eq!(phone.get("new_ntp_servers"), Some("10.77.0.1"));
    assert!(
        dhclient(&lan, &dir.path().join("pc"), &spec(PC, 4)).is_none(),
        "a PC got an address while unknown_clients = false"
    );

    let everyone = shared_file(dir.path(), "everyone.toml", &config(true, "10.77.0.150"));
    let out = d.appliance(&["config", "apply", everyone.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let pc = dhclient(&lan, &dir.path().join("pc"), &spec(PC, 15))
        .expect("the PC gets an address once unknown clients are allowed");
    assert!(pc.get("new_ip_address").is_some());

    let before = leases(&d);
    let phone_lease = lease_for(&before, PHONE)
        .expect("the phone's lease is listed")
        .clone();
    assert_eq!(phone_lease["ip"], phone_ip.as_str());
    assert_eq!(phone_lease["vendor"], "aastra");
    assert!(lease_for(&before, PC).is_some(), "{before:?}");

    let table = text(&d.appliance(&["dhcp", "leases"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(phone_ip.as_str()) && l.contains(PHONE) && l.contains("aastra")),
        "{table}"
    );
    let wider = shared_file(dir.path(), "wider.toml", &config(true, "10.77.0.199"));
    let out = d.appliance(&["config", "apply", wider.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let after = leases(&d);
    let kept = lease_for(&after, PHONE).expect("the phone's lease survived the pool change");
    assert_eq!(kept["ip"], phone_ip.as_str());
    assert!(kept["expires"].as_u64() >= phone_lease["expires"].as_u64());
    let again =
        dhclient(&lan, &dir.path().join("phone"), &spec(PHONE, 15)).expect("the phone renews");
    assert_eq!(again.get("new_ip_address"), Some(phone_ip.as_str()));

    // A second telbox on the LAN takes its address by DHCP from the first.
    let lan_bus = PrivateBus::with_project_policy();
    let lan_root = dir.path().join("lan-root");
    let client_box = Sysconfd::start_in(&lan_bus, &lan_root, lan.name());
    let dhcp_box = shared_file(dir.path(), "dhcp-box.toml", DHCP_CLIENT_BOX);
    let out = client_box.appliance(&["config", "apply", dhcp_box.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out),
        client_box.log_text()
    );
    let leased = wait_for_lease(&client_box)
        .unwrap_or_else(|| panic!("no DHCP lease on lan0; log:\n{}", client_box.log_text()));
    assert!(leased.starts_with("10.77.0."), "{leased}");
    let addrs = lan.ip(&["-4", "-o", "address", "show", "lan0"]);
    assert!(
        addrs.contains(&leased),
        "the lease {leased} is not on lan0: {addrs}"
    );
    let shown = text(&client_box.appliance(&["network", "show"]));
    assert!(
        shown.contains(&format!(
            "DHCP lease on lan0: {leased}/24, router 10.77.0.254"
        )),
        "{shown}"
    );
    let out = client_box.appliance(&["config", "plan", "--json", dhcp_box.to_str().unwrap()]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["actions"],
        serde_json::json!([]),
        "a leased DHCP link must plan nothing"
    );

    // No upstream is reachable, so the box serves its local clock at stratum 10.
    let start = std::time::Instant::now();
    loop {
        let out = d.appliance(&["ntp", "status", "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        let ntp: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if ntp["tracking"]["reference_id"] == "7F7F0101" && ntp["tracking"]["stratum"] == 10 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "chronyd never fell back to its local clock: {ntp}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let out = d.appliance(&["ntp", "status"]);
    assert!(
        text(&out).contains("reference local clock  stratum 10"),
        "{}",
        text(&out)
    );
    let status = d.appliance(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["sections"]["services"]["dhcp"], "active", "{status}");
    assert_eq!(status["sections"]["services"]["ntp"], "active", "{status}");
}
