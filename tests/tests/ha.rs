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
    eventually(Duration::from_secs(3), "Asterisk stopped on the slave", || {
        pair.slave.asterisk_stops() == 1
    });
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
    assert_eq!(pair.master.asterisk_starts(), 2, "once at first, once after the failback");
    assert_eq!(pair.slave.transitions(), ["active", "standby"]);
    let h = pair.slave.history();
    assert!(h[0]["actions"].as_array().unwrap().iter().all(|a| a["ok"] == true), "{h:#?}");
    assert!(h[0]["reason"].as_str().unwrap().contains("both paths"), "{h:#?}");
}
