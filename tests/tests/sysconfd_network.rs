//! Commit-confirmed over a real link: a config that takes away the address
//! the admin reaches the box on, applied without a confirm, comes back by
//! itself and the box is reachable again.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::{shared_file, text, Sysconfd, ONE_VOIP_LINK};
use telbox_tests::netns::{is_up, Netns};

const MANAGED: &str = ONE_VOIP_LINK;

/// Whether the admin's namespace gets an answer from the box's address.
fn reachable(admin: &Netns) -> bool {
    admin
        .command("ping")
        .args(["-c", "1", "-W", "1", "192.0.2.10"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `appliance config apply --confirm-timeout SECONDS FILE`, never confirmed.
fn apply_unconfirmed(d: &Sysconfd, file: &Path, seconds: u32) -> Output {
    let seconds = seconds.to_string();
    d.appliance(&[
        "config",
        "apply",
        "--confirm-timeout",
        &seconds,
        file.to_str().unwrap(),
    ])
}

#[test]
fn removing_the_management_address_without_confirm_is_rolled_back() {
    let boxns = Netns::create();
    let admin = Netns::create();
    boxns.veth("eth0", "admin0");
    boxns.ip(&["link", "set", "admin0", "netns", admin.name()]);
    admin.ip(&["address", "add", "192.0.2.100/24", "dev", "admin0"]);
    admin.ip(&["link", "set", "admin0", "up"]);

    let bus = PrivateBus::with_project_policy();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let d = Sysconfd::start_in(&bus, &root, boxns.name());
    let good = shared_file(dir.path(), "good.toml", MANAGED);
    let lockout = shared_file(
        dir.path(),
        "lockout.toml",
        &MANAGED.replace("192.0.2.10/24", "198.51.100.10/24"),
    );

    let out = d.appliance(&["config", "apply", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let up = Instant::now();
    while !reachable(&admin) {
        assert!(
            up.elapsed() < Duration::from_secs(5),
            "the box does not answer on its management address"
        );
    }

    // From an SSH session arriving on 192.0.2.10, the plan says so loudly.
    let out = Command::new(telbox_tests::bins::bin("appliance"))
        .args(["config", "plan", lockout.to_str().unwrap()])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .env("SSH_CONNECTION", "192.0.2.100 50022 192.0.2.10 22")
        .output()
        .unwrap();
    assert!(
        text(&out).contains("remove address 192.0.2.10/24"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out)
            .contains("WARNING: this plan removes 192.0.2.10, the address your session arrives on"),
        "{}",
        text(&out)
    );
    let start = Instant::now();
    let out = apply_unconfirmed(&d, &lockout, 3);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !reachable(&admin),
        "the lock-out config should cut the admin off"
    );

    while !reachable(&admin) {
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "the box did not come back; log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let addrs = Command::new("ip")
        .args(["-n", boxns.name(), "-4", "-o", "address", "show", "eth0"])
        .output()
        .unwrap();
    let addrs = String::from_utf8_lossy(&addrs.stdout);
    assert!(
        addrs.contains("192.0.2.10/24") && !addrs.contains("198.51.100.10"),
        "{addrs}"
    );
    let history = d.appliance(&["config", "history", "--json"]);
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(history[0]["outcome"], "rolled-back", "{history}");
}

/// eth0's IPv4 addresses, MTU and admin state, as `ip` shows them.
fn eth0(ns: &Netns) -> (Vec<String>, u64, bool) {
    let link = ns.link("eth0");
    (ns.ipv4("eth0"), link["mtu"].as_u64().unwrap(), is_up(&link))
}

#[test]
fn an_unconfirmed_first_apply_takes_its_network_changes_back() {
    let boxns = Netns::create();
    boxns.veth("eth0", "peer0");
    let before = eth0(&boxns);
    assert_eq!(before, (Vec::new(), 1500, false));

    let bus = PrivateBus::with_project_policy();
    let dir = tempfile::tempdir().unwrap();
    let d = Sysconfd::start_in(&bus, &dir.path().join("root"), boxns.name());
    let first = shared_file(dir.path(), "first.toml", &format!("{MANAGED}mtu = 1400\n"));
    let out = apply_unconfirmed(&d, &first, 1);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(eth0(&boxns), (vec!["192.0.2.10/24".to_owned()], 1400, true));

    let start = Instant::now();
    while eth0(&boxns) != before {
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "eth0 is {:?}, not back to {before:?}; log:\n{}",
            eth0(&boxns),
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let history = d.appliance(&["config", "history", "--json"]);
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(history[0]["outcome"], "rolled-back", "{history}");
}
