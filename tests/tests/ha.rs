//! HA end to end: two boxes, each with sysconfd running keepalived in its
//! own namespace (own root, own private bus), the Berofos simulator in a
//! third, bridges between them (see `telbox_tests::ha_pair`). The tests
//! run side by side; the 60 s loss test sets the file's length.

use std::time::{Duration, Instant};

use telbox_tests::berofos_sim::Relay;
use telbox_tests::ha_pair::{Pair, PairSpec};

/// Waits until `f` holds, up to `limit`.
fn eventually(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Must show 1 and 2: the master dies, the slave takes over (services,
/// Berofos A–D); the master comes back, waits its failback delay, takes the
/// service back; the slave stops and gives the lines back. Each action once.
#[test]
fn a_dead_master_is_replaced_and_fails_back_after_its_delay_each_action_once() {
    let mut pair = Pair::start(PairSpec::default());
    assert_eq!(pair.master.asterisk_starts(), 1);
    assert_eq!(pair.slave.asterisk_starts(), 0);
    assert_eq!(pair.fos.relay_commands(), 0);
    let moved_before = pair.fos.relay_changes();
    assert!(pair.master.has_service_address());
    assert!(!pair.slave.has_service_address());
    pair.reach_service_address();
    assert_eq!(pair.service_mac_seen(), Some(pair.master.mac()));

    pair.master.kill_all();
    let took = pair.slave.wait_state("active", Duration::from_secs(5));
    eventually(Duration::from_secs(3), "Berofos at A–D", || {
        pair.fos.relay_mode() == Relay::AD
    });
    assert!(took < Duration::from_secs(3), "takeover took {took:?}");
    assert_eq!(pair.slave.asterisk_starts(), 1);
    let s = pair.slave.status();
    assert_eq!(s["services"]["asterisk"], "active", "{s:#}");
    assert_eq!(pair.fos.relay_commands(), 1);
    // The service address moved to the slave, and its gratuitous ARP told
    // the advert path so.
    assert!(pair.slave.has_service_address());
    eventually(
        Duration::from_secs(3),
        "the slave's MAC for the service address",
        || pair.service_mac_seen() == Some(pair.slave.mac()),
    );

    // The master is back: it waits its failback delay (3 s), then takes back.
    let back = Instant::now();
    pair.master.start();
    pair.master.wait_state("active", Duration::from_secs(15));
    let waited = back.elapsed();
    assert!(
        waited >= Duration::from_secs(3),
        "failed back after {waited:?}, before the 3 s delay\n{}",
        pair.master.log_tail()
    );
    pair.slave.wait_state("standby", Duration::from_secs(5));
    eventually(Duration::from_secs(3), "Berofos back at A–B", || {
        pair.fos.relay_mode() == Relay::AB
    });
    let start = Instant::now();
    while pair.slave.asterisk_stops() != 1 {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "Asterisk not stopped on the slave: {:#?}\n{}",
            pair.slave.history(),
            pair.slave.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A moment later nothing moved again: each action was done once.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        pair.fos.relay_commands(),
        2,
        "one A–D and one A–B: {:#?}\n{:#?}",
        pair.fos.snapshot().counters.http_requests,
        pair.slave.history()
    );
    assert_eq!(pair.fos.relay_changes() - moved_before, 2);
    assert_eq!(pair.slave.asterisk_starts(), 1);
    assert_eq!(pair.slave.asterisk_stops(), 1);
    assert_eq!(
        pair.master.asterisk_starts(),
        2,
        "once at first, once after the failback"
    );
    assert_eq!(pair.slave.transitions(), ["active", "standby"]);
    assert!(!pair.slave.has_service_address());
    assert!(pair.master.has_service_address());
    let h = pair.slave.history();
    assert!(
        h[0]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["ok"] == true),
        "{h:#?}"
    );
    assert!(
        h[0]["reason"].as_str().unwrap().contains("both paths"),
        "{h:#?}"
    );
}

/// The nftables rules a test adds in a box, in a table of its own.
/// A new heartbeat reloads keepalived on both boxes; sysconfd must still
/// hear of the slave's takeover when the master then dies. keepalived
/// 2.2.7 closes its notify FIFO for good on a reload when its default
/// script user `keepalived_script` does not exist (`make deps` creates it).
#[test]
fn after_a_heartbeat_change_a_dead_master_is_still_replaced() {
    let mut pair = Pair::start(PairSpec::default());
    let changed = PairSpec {
        heartbeat_interval_ms: 300,
        ..PairSpec::default()
    };
    pair.slave.apply_spec(&changed);
    pair.master.apply_spec(&changed);
    pair.slave.wait_peer_heard(Duration::from_secs(10));
    assert_eq!(pair.master.status()["state"], "active");

    pair.master.kill_all();
    let took = pair.slave.wait_state("active", Duration::from_secs(8));
    eventually(Duration::from_secs(3), "Berofos at A–D", || {
        pair.fos.relay_mode() == Relay::AD
    });
    assert_eq!(pair.slave.asterisk_starts(), 1);
    assert!(pair.slave.has_service_address());
    eprintln!("takeover after the heartbeat change: {took:?}");
}

fn drop_vrrp_on_eth0(percent: Option<u32>) -> String {
    let verdict = match percent {
        Some(p) => format!("numgen random mod 100 < {p} drop"),
        None => "drop".to_owned(),
    };
    format!(
        "table inet test_cut {{\n  chain input {{\n    type filter hook input priority -20; policy accept;\n    iifname \"eth0\" ip protocol vrrp {verdict}\n  }}\n}}\n"
    )
}

const HEAL: &str = "delete table inet test_cut\n";

/// Must show 3: 5 % of the adverts lost on the VRRP path, both ways, for
/// 60 s: nobody moves.
#[test]
fn five_percent_loss_on_the_vrrp_path_for_a_minute_moves_nothing() {
    let pair = Pair::start(PairSpec::default());
    for b in [&pair.master, &pair.slave] {
        b.nft(&drop_vrrp_on_eth0(Some(5)));
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_secs(5));
        assert_eq!(pair.slave.status()["state"], "standby");
        assert_eq!(pair.master.status()["state"], "active");
    }
    for b in [&pair.master, &pair.slave] {
        b.nft(HEAL);
    }
    assert!(
        pair.slave.transitions().is_empty(),
        "{:#?}",
        pair.slave.history()
    );
    assert_eq!(pair.master.transitions(), ["active"]);
    assert_eq!(pair.slave.asterisk_starts(), 0);
    assert_eq!(pair.fos.relay_commands(), 0);
}

/// Must show 4: the VRRP path cut while the second path still reaches the
/// master: the slave holds back (the guard says why), and the heal
/// resolves the two masters with no service flap.
#[test]
fn a_cut_vrrp_path_with_the_master_on_the_second_path_moves_nothing() {
    let pair = Pair::start(PairSpec::default());
    for b in [&pair.master, &pair.slave] {
        b.nft(&drop_vrrp_on_eth0(None));
    }
    eventually(Duration::from_secs(5), "the guard holds the slave", || {
        pair.slave.status()["guard"].is_string()
    });
    std::thread::sleep(Duration::from_secs(3));
    let s = pair.slave.status();
    assert_eq!(s["state"], "standby", "{s:#}");
    assert_eq!(s["paths"][0]["vrrp"], "MASTER", "{s:#}");
    assert_eq!(s["paths"][1]["vrrp"], "BACKUP", "{s:#}");
    for b in [&pair.master, &pair.slave] {
        b.nft(HEAL);
    }
    eventually(
        Duration::from_secs(5),
        "the slave back to BACKUP on both paths",
        || {
            let s = pair.slave.status();
            s["paths"][0]["vrrp"] == "BACKUP" && s["guard"].is_null()
        },
    );
    assert!(
        pair.slave.transitions().is_empty(),
        "{:#?}",
        pair.slave.history()
    );
    assert_eq!(
        pair.master.transitions(),
        ["active"],
        "no flap on the master"
    );
    assert_eq!(pair.master.asterisk_starts(), 1);
    assert_eq!(pair.fos.relay_commands(), 0);
}

/// Must show 5: the master's Asterisk reported down → the slave takes over.
#[test]
fn a_master_whose_asterisk_is_down_hands_over_to_the_slave() {
    let pair = Pair::start(PairSpec {
        failback_delay_s: 30,
        ..PairSpec::default()
    });
    let down = Instant::now();
    pair.master.report_asterisk_down();
    pair.slave.wait_state("active", Duration::from_secs(5));
    let took = down.elapsed();
    eventually(Duration::from_secs(3), "Berofos at A–D", || {
        pair.fos.relay_mode() == Relay::AD
    });
    pair.master.wait_state("standby", Duration::from_secs(3));
    assert!(took < Duration::from_secs(3), "handover took {took:?}");
    let h = pair.master.history();
    assert_eq!(pair.master.transitions(), ["active", "standby"], "{h:#?}");
    assert!(
        h[1]["reason"].as_str().unwrap().contains("asterisk"),
        "{h:#?}"
    );
    assert_eq!(pair.slave.asterisk_starts(), 1);
    assert_eq!(pair.master.asterisk_stops(), 1);
}

/// Must show 6: adverts at priority 254 from a third namespace that is not
/// the peer (with the right router id) never move mastership.
#[test]
fn adverts_from_a_host_that_is_not_the_peer_move_nothing() {
    let pair = Pair::start(PairSpec::default());
    let conf = std::fs::read_to_string(
        pair.master
            .dir
            .path()
            .join("root/etc/keepalived/keepalived.conf"),
    )
    .unwrap();
    let vrid = conf
        .lines()
        .find_map(|l| l.trim().strip_prefix("virtual_router_id "))
        .unwrap()
        .to_owned();
    let rogue = telbox_tests::netns::Netns::create();
    rogue.veth_to("eth0", &pair.bridges, "pr0");
    pair.bridges
        .ip(&["link", "set", "pr0", "master", "br0", "up"]);
    rogue.address("eth0", "10.9.0.66/24");
    let dir = tempfile::tempdir().unwrap();
    let rogue_conf = dir.path().join("keepalived.conf");
    std::fs::write(
        &rogue_conf,
        format!(
            "vrrp_instance telbox {{\n  state MASTER\n  interface eth0\n  virtual_router_id {vrid}\n  version 3\n  priority 254\n  advert_int 0.2\n  unicast_src_ip 10.9.0.66\n  unicast_peer {{\n    10.9.0.1\n    10.9.0.2\n  }}\n  virtual_ipaddress {{\n    169.254.112.1/32 dev lo\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let mut ka = rogue
        .command("keepalived")
        .args(["--dont-fork", "--vrrp", "--log-console", "--use-file"])
        .arg(&rogue_conf)
        .arg("--pid")
        .arg(dir.path().join("k.pid"))
        .arg("--vrrp_pid")
        .arg(dir.path().join("v.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let dropped = |b: &telbox_tests::ha_pair::HaBox| -> u64 {
        let out =
            b.ns.command("nft")
                .args(["list", "table", "inet", "telbox_ha"])
                .output()
                .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split("counter packets ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let (dm, ds) = (dropped(&pair.master), dropped(&pair.slave));
    let _ = ka.kill();
    let _ = ka.wait();
    assert!(
        dm > 5 && ds > 5,
        "the stranger's adverts arrived and were dropped: {dm} {ds}"
    );
    assert_eq!(pair.master.status()["state"], "active");
    assert_eq!(pair.slave.status()["state"], "standby");
    assert_eq!(pair.master.transitions(), ["active"]);
    assert!(pair.slave.transitions().is_empty());
}

/// A restart of sysconfd neither repeats a transition nor loses one: the
/// slave's sysconfd is down while the master dies, and when it is back it
/// takes over once; restarted while active, it does nothing again.
#[test]
fn a_restart_of_sysconfd_neither_repeats_nor_loses_a_transition() {
    let mut pair = Pair::start(PairSpec::default());
    pair.slave.kill_sysconfd();
    pair.slave.start();
    assert!(pair.slave.transitions().is_empty());
    pair.slave.kill_sysconfd();
    pair.master.kill_all();
    // keepalived on the slave goes MASTER while sysconfd is away.
    std::thread::sleep(Duration::from_secs(2));
    pair.slave.start();
    pair.slave.wait_state("active", Duration::from_secs(5));
    eventually(Duration::from_secs(3), "Berofos at A–D", || {
        pair.fos.relay_mode() == Relay::AD
    });
    pair.slave.kill_sysconfd();
    pair.slave.start();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        pair.slave.status()["state"],
        "active",
        "{:#?}\n{}",
        pair.slave.history(),
        pair.slave.log_tail()
    );
    assert_eq!(pair.slave.transitions(), ["active"]);
    assert_eq!(pair.slave.asterisk_starts(), 1);
    assert_eq!(pair.slave.asterisk_stops(), 0);
    assert_eq!(pair.fos.relay_commands(), 1);
}

/// Promote and Demote, as an administrator uses them for maintenance.
#[test]
fn demote_hands_over_and_promote_takes_back() {
    let pair = Pair::start(PairSpec {
        failback_delay_s: 60,
        ..PairSpec::default()
    });
    let out = pair.master.cli(&["ha", "demote"]);
    assert!(out.status.success(), "{}", telbox_tests::daemon::text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("demoted"));
    pair.slave.wait_state("active", Duration::from_secs(5));
    assert_eq!(pair.master.status()["state"], "demoted");
    let out = pair.master.cli(&["ha", "promote"]);
    assert!(out.status.success(), "{}", telbox_tests::daemon::text(&out));
    // Promote skips the 60 s failback wait.
    pair.master.wait_state("active", Duration::from_secs(5));
    pair.slave.wait_state("standby", Duration::from_secs(5));
    let human = pair.master.cli(&["ha", "status"]);
    let human = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(
        human.contains("state        active") && !human.contains('{'),
        "{human}"
    );
    let history = pair.master.cli(&["ha", "history"]);
    let history = String::from_utf8_lossy(&history.stdout).into_owned();
    assert!(
        history.contains("demoted") && history.contains("start asterisk"),
        "{history}"
    );
    let refused = pair
        .master
        .daemon()
        .appliance_as("nobody", &["ha", "demote"]);
    assert!(!refused.status.success());
}

/// The seed's PBX bypass without its cron job: `[ha]` disabled, a Berofos
/// in bypass scenario with its watchdog armed. sysconfd kicks it while the
/// health checks pass, and stops when Asterisk is down, so the device
/// drops the lines to the legacy PBX (A–D).
#[test]
fn the_bypass_watchdog_is_kicked_while_healthy_and_left_to_fire_when_not() {
    use std::os::unix::fs::PermissionsExt;
    let ns = telbox_tests::netns::Netns::create();
    ns.veth("eth0", "eth0-peer");
    ns.ip(&["link", "set", "eth0-peer", "up"]);
    let bus = telbox_tests::bus::PrivateBus::with_project_policy();
    let dir = telbox_tests::daemon::scratch_dir("telbox-bypass-");
    let sim_dir = dir.path().join("asterisk");
    std::fs::create_dir_all(&sim_dir).unwrap();
    let script = sim_dir.join("asterisk-sim");
    std::fs::write(
        &script,
        "#!/bin/sh\ndir=$(dirname \"$0\")\ntouch \"$dir/asterisk.ok\"\nsleep 100000 &\nwait $!\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fos = ns.enter(|| {
        let mut cfg = telbox_tests::berofos_sim::SimConfig::loopback();
        cfg.udp_port = 50123;
        cfg.http_port = 80;
        telbox_tests::berofos_sim::start(cfg).unwrap()
    });
    fos.arm_bypass_watchdog(3);
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc/telbox")).unwrap();
    std::fs::write(
        root.join("etc/telbox/appliance.toml"),
        format!(
            r#"[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"

[[berofos]]
name = "fos1"
host = "127.0.0.1"
mac = "{mac}"

[ha]
role = "disabled"
berofos = "fos1"
services = ["asterisk"]

[[ha.check]]
service = "asterisk"
command = ["/usr/bin/test", "-e", "{ok}"]
"#,
            mac = fos.mac(),
            ok = sim_dir.join("asterisk.ok").display()
        ),
    )
    .unwrap();
    let args = [format!("--ha-program=asterisk={}", script.display())];
    let d = telbox_tests::daemon::Sysconfd::start_in_with(&bus, &root, ns.name(), &args);
    let start = Instant::now();
    while fos.kicks_received() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no kicks: {}",
            d.log_text()
                .lines()
                .filter(|l| !l.contains("DEBUG"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Longer than the 3 s interval: only the kicks keep the relays at A–B.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(fos.relay_mode(), Relay::AB, "{:?}", fos.snapshot());
    let out = d.appliance(&["ha", "status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        status["watchdog_kicks"].as_u64().unwrap() >= 3,
        "{status:#}"
    );
    std::fs::remove_file(sim_dir.join("asterisk.ok")).unwrap();
    eventually(Duration::from_secs(8), "the watchdog fires", || {
        fos.relay_mode() == Relay::AD
    });
    let kicks = fos.kicks_received();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fos.kicks_received(), kicks, "no kick while unhealthy");
    assert_eq!(
        fos.watchdog_state(),
        telbox_tests::berofos_sim::WatchdogState::Failure
    );
}
