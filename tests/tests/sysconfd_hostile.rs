//! sysconfd under hostile input: the calls any local user can make, with
//! inputs no CLI would send, on a private bus with the project's policy.
//! Each is refused or answered within the documented limits, sysconfd
//! keeps its name, and a root `Status` asked meanwhile is answered at once.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use telbox_tests::bins::{bin, require_root};
use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::{scratch_dir, shared_file, text, Sysconfd, ONE_VOIP_LINK};

/// The largest reply sysconfd may send (`docs/dbus.md`).
const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;
/// Generous for a slow, loaded 2-core machine.
const STATUS_BUDGET: Duration = Duration::from_secs(1);

struct Box {
    d: Sysconfd,
    dir: tempfile::TempDir,
    bus: PrivateBus,
}

fn start() -> Box {
    require_root("the hostile-input tests");
    let bus = PrivateBus::with_project_policy();
    let dir = scratch_dir("telbox-hostile");
    let d = Sysconfd::start(&bus, &dir.path().join("root"), &[]);
    Box { d, dir, bus }
}

/// What a `bus-call` printed: its first line and the milliseconds it took.
struct Called {
    reply: String,
    ms: u64,
}

fn parse_called(stdout: &[u8]) -> Called {
    let out = String::from_utf8_lossy(stdout);
    let reply = out.lines().next().unwrap_or_default().to_owned();
    let ms = out
        .lines()
        .find_map(|l| l.strip_prefix("ms "))
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("bus-call printed no time: {out}"));
    Called { reply, ms }
}

fn bus_call_command(d: &Sysconfd, user: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", user, "--", "env"])
        .arg(format!("DBUS_SYSTEM_BUS_ADDRESS={}", d.bus_address()))
        .arg(bin("bus-call"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn bus_call(d: &Sysconfd, user: &str, args: &[&str]) -> Called {
    let out = bus_call_command(d, user, args).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    parse_called(&out.stdout)
}

/// Runs `args` as `user` while root asks `Status` over and over; returns
/// the hostile call's result and the slowest `Status`.
fn while_hostile(d: &Sysconfd, user: &str, args: &[&str]) -> (Called, Duration) {
    let mut hostile = bus_call_command(d, user, args).spawn().unwrap();
    let (mut slowest, mut asked) = (Duration::ZERO, 0);
    loop {
        let t = Instant::now();
        let out = d.appliance(&["status", "--json"]);
        slowest = slowest.max(t.elapsed());
        asked += 1;
        assert!(
            out.status.success(),
            "status during {args:?}: {}",
            text(&out)
        );
        if asked >= 3 && hostile.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = hostile.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    (parse_called(&out.stdout), slowest)
}

/// sysconfd still runs and answers under its name.
fn assert_still_serving(b: &mut Box, after: &str) {
    assert!(
        b.d.wait_exit(Duration::ZERO).is_none(),
        "sysconfd exited after {after}"
    );
    let out = b.d.appliance(&["status"]);
    assert!(out.status.success(), "after {after}: {}", text(&out));
    assert!(
        !b.d.log_text().contains("monitor_name_lost"),
        "{}",
        b.d.log_text()
    );
}

fn vlans(n: usize) -> String {
    let mut t = ONE_VOIP_LINK.to_owned();
    for i in 0..n {
        let id = i % 4094 + 1;
        t.push_str(&format!(
            "[[network.vlan]]\nname=\"v{i}\"\nparent=\"eth0\"\nid={id}\nmethod=\"off\"\n"
        ));
    }
    t
}

/// The daemon's resident memory, in KiB.
fn rss_kib(d: &Sysconfd) -> u64 {
    let status = fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn oversized_and_pathological_configs_are_refused_within_limits_and_status_stays_prompt() {
    let mut b = start();
    let rss_before = rss_kib(&b.d);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a 10 MB config",
            format!("{ONE_VOIP_LINK}\n{}", "# padding\n".repeat(1024 * 1024)),
            "Error.TooLarge: the configuration is 10485",
        ),
        (
            "a 9 MB key of tabs",
            format!(
                "{ONE_VOIP_LINK}\n\"{}\" = 1\n",
                "\t".repeat(9 * 1024 * 1024)
            ),
            "Error.TooLarge: the configuration is 9437",
        ),
        (
            "30,000 VLANs",
            vlans(30_000),
            "Error.TooLarge: the configuration is",
        ),
        (
            "1,100 VLANs in a small file",
            vlans(1100),
            "Error.TooLarge: `network.vlan` has 1100 entries; the limit is 1024",
        ),
    ];
    for (what, config, expected) in &cases {
        let file = shared_file(b.dir.path(), "hostile.toml", config);
        let path = file.to_str().unwrap();
        // Any local user may validate; planning needs an admin (bus policy).
        for (method, user) in [("validate", "nobody"), ("plan", "root")] {
            let (called, slowest) = while_hostile(&b.d, user, &[method, path]);
            eprintln!(
                "{what} ({} bytes), {method}: answered in {} ms; slowest root Status meanwhile {} ms",
                config.len(),
                called.ms,
                slowest.as_millis()
            );
            assert!(
                called.reply.contains(expected),
                "{what}, {method}: {}",
                called.reply
            );
            assert!(slowest < STATUS_BUDGET, "{what}: Status took {slowest:?}");
            assert_still_serving(&mut b, what);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss_after = rss_kib(&b.d);
    eprintln!("sysconfd resident memory: {rss_before} KiB before, {rss_after} KiB after");
}

#[test]
fn a_huge_key_under_the_size_limit_gets_a_short_answer() {
    let mut b = start();
    let key = "\t".repeat(200 * 1024);
    let file = shared_file(
        b.dir.path(),
        "tabs.toml",
        &format!("{ONE_VOIP_LINK}\n\"{key}\" = 1\n"),
    );
    let (called, slowest) = while_hostile(&b.d, "nobody", &["validate", file.to_str().unwrap()]);
    eprintln!(
        "a 200 KiB key: Validate answered in {} ms with `{}`; slowest Status {} ms",
        called.ms,
        called.reply,
        slowest.as_millis()
    );
    let bytes: usize = called
        .reply
        .strip_prefix("ok ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", called.reply));
    assert!(bytes < 64 * 1024, "the problems take {bytes} bytes");
    assert!(slowest < STATUS_BUDGET, "{slowest:?}");
    assert_still_serving(&mut b, "a 200 KiB key");
}

fn routes(n: usize) -> String {
    let mut t = ONE_VOIP_LINK.to_owned();
    for i in 0..n {
        t.push_str(&format!(
            "[[network.route]]\ndestination = \"10.{}.{}.0/24\"\nvia = \"192.0.2.1\"\n",
            i / 256,
            i % 256
        ));
    }
    t
}

#[test]
fn history_comes_in_pages_that_stay_small_whatever_it_holds() {
    let b = start();
    let many = shared_file(b.dir.path(), "routes.toml", &routes(300));
    let few = shared_file(b.dir.path(), "plain.toml", ONE_VOIP_LINK);
    let generations = 105;
    for i in 0..generations {
        let file = if i % 2 == 0 { &many } else { &few };
        let out = b.d.appliance(&["config", "apply", file.to_str().unwrap()]);
        assert!(out.status.success(), "apply {i}: {}", text(&out));
    }
    // Asked for far more than a page: the reply holds one page, and stays small.
    let called = bus_call(&b.d, "nobody", &["history", "0", "100000"]);
    let bytes: usize = called
        .reply
        .strip_prefix("ok ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", called.reply));
    eprintln!(
        "History of {generations} generations, one page: {bytes} bytes in {} ms",
        called.ms
    );
    assert!(bytes < MAX_REPLY_BYTES / 16, "{bytes} bytes");

    let page = |offset: u32, limit: u32| -> Vec<serde_json::Value> {
        let out = b.d.appliance(&[
            "config",
            "history",
            "--json",
            "--offset",
            &offset.to_string(),
            "--limit",
            &limit.to_string(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = page(0, 100);
    let rest = page(100, 100);
    assert_eq!((first.len(), rest.len()), (100, generations - 100));
    let ids: Vec<u64> = first
        .iter()
        .chain(&rest)
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=generations as u64).rev().collect();
    assert_eq!(ids, expected, "every generation once, newest first");

    // A 300-route generation: its entry carries the plan's first lines, the
    // whole plan comes from --plan.
    let big = first
        .iter()
        .find(|e| e["plan_length"].as_u64().unwrap() >= 300)
        .expect("a generation that added the routes");
    assert_eq!(big["plan"].as_array().unwrap().len(), 20);
    let id = big["id"].as_u64().unwrap().to_string();
    let out =
        b.d.appliance_as("nobody", &["config", "history", "--plan", &id, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines.len() as u64, big["plan_length"].as_u64().unwrap());

    let human = b.d.appliance(&["config", "history", "--limit", "10"]);
    let human = text(&human);
    assert!(
        human.contains(&format!("generations 1–10 of {generations} newest first")),
        "{human}"
    );
}

#[test]
fn losing_the_bus_stops_sysconfd_with_a_failure() {
    let mut b = start();
    b.bus.stop();
    let status =
        b.d.wait_exit(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("sysconfd runs on without its bus:\n{}", b.d.log_text()));
    assert!(!status.success(), "exited with {status}");
    assert!(
        b.d.log_text().contains("no longer reachable on the bus"),
        "{}",
        b.d.log_text()
    );
}

#[test]
fn a_confirm_window_has_a_maximum() {
    let b = start();
    let file = shared_file(b.dir.path(), "one.toml", ONE_VOIP_LINK);
    let path = file.to_str().unwrap();
    let called = bus_call(&b.d, "root", &["apply", path, "0", "4294967295"]);
    assert!(
        called.reply.contains("Error.Invalid") && called.reply.contains("maximum, 3600 s"),
        "{}",
        called.reply
    );
    let pending = b.d.appliance(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&pending.stdout).unwrap();
    assert_eq!(status["current_generation"], 0, "nothing was applied");
    let cli =
        b.d.appliance(&["config", "apply", path, "--confirm-timeout", "4294967295"]);
    assert_eq!(cli.status.code(), Some(2), "{}", text(&cli));
    assert!(text(&cli).contains("0..=3600"), "{}", text(&cli));
}

#[test]
fn the_cli_ends_quietly_on_a_closed_pipe() {
    let cli = bin("appliance");
    // The reader is gone before the CLI writes: every write meets a closed pipe.
    let script = format!(
        "{{ sleep 0.3; '{}' config reference; }} | true",
        cli.display()
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Path::new(&cli).exists());
}
