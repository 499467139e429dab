//! sysconfd core, end to end: a private dbus-daemon with the project's
//! policy, sysconfd in its own network namespace over a scratch root, and
//! the `appliance` CLI as root and as an unprivileged user.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use telbox_tests::bins::{bin, require_root};
use telbox_tests::bus::{PrivateBus, ALLOW_ALL_POLICY};
use telbox_tests::daemon::{
    scratch_dir, shared_file, snapshot, text, Sysconfd, VOIP_LINK_WITH_GATEWAY,
};

const BASE: &str = VOIP_LINK_WITH_GATEWAY;

fn with_hostname(name: &str) -> String {
    BASE.replace("hostname = \"telbox\"", &format!("hostname = \"{name}\""))
}

/// A running box: sysconfd over a scratch root, on a private bus.
/// Fields drop in order: the daemon first, then its files, then the bus.
struct TestBox {
    sysconfd: Sysconfd,
    root: std::path::PathBuf,
    dir: tempfile::TempDir,
    _bus: PrivateBus,
}

impl TestBox {
    /// Applies BASE as generation 1 and writes, unapplied, the same config
    /// with host name `next`; returns both files.
    fn at_generation_one(&self, next: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let one = shared_file(self.dir.path(), "one.toml", BASE);
        let two = shared_file(self.dir.path(), "two.toml", &with_hostname(next));
        let out = apply(&self.sysconfd, &one, &[]);
        assert!(out.status.success(), "{}", text(&out));
        (one, two)
    }

    fn start(bus: PrivateBus) -> TestBox {
        let dir = scratch();
        let root = dir.path().join("root");
        let sysconfd = Sysconfd::start(&bus, &root, &[]);
        TestBox {
            sysconfd,
            root,
            dir,
            _bus: bus,
        }
    }
}

fn scratch() -> tempfile::TempDir {
    scratch_dir("telbox-core")
}

fn history(d: &Sysconfd) -> Vec<serde_json::Value> {
    let out = d.appliance(&["config", "history", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn applied_hostname(root: &Path) -> String {
    let conf = fs::read_to_string(root.join("etc/telbox/appliance.toml")).unwrap();
    conf.lines()
        .find(|l| l.starts_with("hostname"))
        .unwrap_or_default()
        .to_owned()
}

fn apply(d: &Sysconfd, file: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["config", "apply", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    d.appliance(&args)
}

#[test]
fn second_apply_of_the_same_config_plans_nothing_and_touches_nothing() {
    require_root("sysconfd integration");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (dir, root, d) = (t.dir.path(), &t.root, &t.sysconfd);
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/minimal.toml"),
    )
    .unwrap();
    let file = shared_file(dir, "minimal.toml", &example);

    let out = apply(d, &file, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("generation 1 applied"),
        "{}",
        text(&out)
    );
    let before = snapshot(root);
    assert!(before
        .iter()
        .any(|(p, _, _)| p == Path::new("etc/telbox/appliance.toml")));

    let plan = d.appliance(&["config", "plan", "--json", file.to_str().unwrap()]);
    assert!(plan.status.success(), "{}", text(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        plan["actions"],
        serde_json::json!([]),
        "second plan must be empty"
    );

    std::thread::sleep(Duration::from_millis(20));
    let out = apply(d, &file, &[]);
    assert!(
        text(&out).contains("nothing to do: generation 1"),
        "{}",
        text(&out)
    );
    assert_eq!(
        snapshot(root),
        before,
        "a no-op apply changed a file or its mtime"
    );
    assert_eq!(history(d).len(), 1);
}

#[test]
fn unconfirmed_apply_rolls_back_in_time_and_history_says_why() {
    require_root("sysconfd integration");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (root, d) = (&t.root, &t.sysconfd);
    let (_, two) = t.at_generation_one("other");

    let start = Instant::now();
    let out = apply(d, &two, &["--confirm-timeout", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(applied_hostname(root).contains("other"));
    while !applied_hostname(root).contains("telbox") {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "not rolled back within timeout + 1 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let h = history(d);
    assert_eq!(h[0]["id"], 2);
    assert_eq!(h[0]["outcome"], "rolled-back");
    assert!(
        h[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not confirmed within 2 s"),
        "{h:?}"
    );
    let status = d.appliance(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["current_generation"], 1);
}

#[test]
fn confirmed_apply_stays() {
    require_root("sysconfd integration");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (root, d) = (&t.root, &t.sysconfd);
    let (_, two) = t.at_generation_one("other");
    assert!(apply(d, &two, &["--confirm-timeout", "2"]).status.success());
    let out = d.appliance(&["config", "confirm"]);
    assert!(out.status.success(), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(applied_hostname(root).contains("other"));
    assert_eq!(history(d)[0]["outcome"], "applied");
}

#[test]
fn a_restart_inside_the_confirm_window_rolls_back() {
    require_root("sysconfd integration");
    let mut t = TestBox::start(PrivateBus::with_project_policy());
    let (_, two) = t.at_generation_one("other");
    let root = t.root.clone();
    let d = &mut t.sysconfd;
    let start = Instant::now();
    assert!(apply(d, &two, &["--confirm-timeout", "5"]).status.success());
    d.restart();
    assert!(
        applied_hostname(&root).contains("telbox"),
        "restart kept the unconfirmed generation"
    );
    assert!(start.elapsed() < Duration::from_secs(6));
    let h = history(d);
    assert_eq!(h[0]["outcome"], "rolled-back");
    assert!(
        h[0]["reason"].as_str().unwrap().contains("restarted"),
        "{h:?}"
    );
}

#[test]
fn a_stale_base_is_refused_and_changes_nothing() {
    require_root("sysconfd integration");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (dir, root, d) = (t.dir.path(), &t.root, &t.sysconfd);
    let (_, two) = t.at_generation_one("two");
    let three = shared_file(dir, "three.toml", &with_hostname("three"));
    assert!(apply(d, &two, &["--base", "1"]).status.success());
    let before = snapshot(root);
    let out = apply(d, &three, &["--base", "1"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("StaleBase"), "{}", text(&out));
    assert_eq!(snapshot(root), before);
    assert_eq!(history(d).len(), 2);
}

/// Runs `sysconfd` without the bus (same engine) in a fresh network namespace.
fn sysconfd_once(root: &Path, args: &[&str], env: Option<(&str, String)>) -> std::process::Output {
    let script = format!(
        "{}; exec \"$0\" \"$@\"",
        telbox_tests::daemon::DEFAULT_LINKS
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--", "sh", "-c", &script])
        .arg(bin("sysconfd"))
        .arg("--root")
        .arg(root)
        .args(args);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn a_crash_at_any_action_ends_in_exactly_the_old_generation() {
    require_root("crash test");
    let scratch_dir = scratch();
    let dir = scratch_dir.path();
    let old = shared_file(dir, "old.toml", BASE);
    let new_text = format!(
        "{}\n[[berofos]]\nname = \"fos1\"\nhost = \"192.0.2.50\"\nuser = \"admin\"\npassword = \"crash-secret\"\n",
        with_hostname("newbox")
    );
    let new = shared_file(dir, "new.toml", &new_text);
    let probe = dir.join("probe");
    assert!(sysconfd_once(
        &probe,
        &["apply", "--once", "--config", old.to_str().unwrap()],
        None
    )
    .status
    .success());
    let plan = sysconfd_once(
        &probe,
        &["plan", "--json", "--config", new.to_str().unwrap()],
        None,
    );
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    let steps = plan["actions"].as_array().unwrap().len();
    assert!(
        steps >= 2,
        "the new config should take several actions: {plan}"
    );

    for k in 0..steps {
        let root = dir.join(format!("crash-{k}"));
        assert!(sysconfd_once(
            &root,
            &["apply", "--once", "--config", old.to_str().unwrap()],
            None
        )
        .status
        .success());
        let before = snapshot(&root);
        let out = sysconfd_once(
            &root,
            &["apply", "--once", "--config", new.to_str().unwrap()],
            Some(("SYSCONFD_FAULT_ABORT_AT", k.to_string())),
        );
        assert!(!out.status.success(), "fault at {k} did not stop the apply");
        let out = sysconfd_once(&root, &["recover"], None);
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains("undid the interrupted apply of generation 2"),
            "{}",
            text(&out)
        );
        let after: Vec<_> = snapshot(&root)
            .into_iter()
            .map(|(p, c, _)| (p, c))
            .collect();
        let before: Vec<_> = before.into_iter().map(|(p, c, _)| (p, c)).collect();
        assert_eq!(
            after, before,
            "crash at action {k} left a mix of generations"
        );
    }
}

#[test]
fn a_journal_that_outlived_its_commit_undoes_nothing() {
    require_root("recovery test");
    let scratch_dir = scratch();
    let dir = scratch_dir.path();
    let root = dir.join("box");
    for (name, host) in [("one.toml", "telbox"), ("two.toml", "newbox")] {
        let file = shared_file(dir, name, &with_hostname(host));
        let out = sysconfd_once(
            &root,
            &["apply", "--once", "--config", file.to_str().unwrap()],
            None,
        );
        assert!(out.status.success(), "{}", text(&out));
    }
    // A power cut after generation 2's row was written, before the removal
    // of its journal reached the disk, leaves this behind.
    let old = fs::read_to_string(dir.join("one.toml")).unwrap();
    let journal = serde_json::json!({
        "generation": 2,
        "previous": 1,
        "backups": [{"path": "/etc/telbox/appliance.toml", "contents": old, "mode": 0o644}],
    });
    let journal_path = root.join("var/lib/telbox/apply.journal");
    fs::write(&journal_path, journal.to_string()).unwrap();
    let out = sysconfd_once(&root, &["recover"], None);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing to recover"),
        "{}",
        text(&out)
    );
    assert!(!journal_path.exists(), "the stale journal stays");
    assert_eq!(applied_hostname(&root), "hostname = \"newbox\"");
}

/// Every mutating call, made as `nobody`, fails with `why` in its message.
fn assert_all_denied(d: &Sysconfd, config: &Path, why: &str) {
    let file = config.to_str().unwrap();
    for args in [
        vec!["config", "apply", file],
        vec!["config", "rollback", "1"],
        vec!["config", "confirm", "1"],
        vec!["wizard", "complete", file],
    ] {
        let out = d.appliance_as("nobody", &args);
        assert!(!out.status.success(), "{args:?} was allowed for nobody");
        assert!(text(&out).contains(why), "{args:?}: {}", text(&out));
    }
}

#[test]
fn unprivileged_callers_may_read_but_not_change() {
    require_root("access control");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (root, d) = (&t.root, &t.sysconfd);
    let (_, two) = t.at_generation_one("intruder");
    let before = snapshot(root);

    assert_all_denied(d, &two, "AccessDenied");
    assert_eq!(snapshot(root), before, "a denied call changed something");
    for args in [
        vec!["config", "show"],
        vec!["status"],
        vec!["config", "history"],
        vec!["wizard", "discover"],
    ] {
        let out = d.appliance_as("nobody", &args);
        assert!(
            out.status.success(),
            "{args:?} denied for nobody: {}",
            text(&out)
        );
    }
}

#[test]
fn with_an_allow_all_policy_sysconfd_still_denies() {
    require_root("access control");
    let t = TestBox::start(PrivateBus::start(ALLOW_ALL_POLICY));
    let (dir, root, d) = (t.dir.path(), &t.root, &t.sysconfd);
    let one = shared_file(dir, "one.toml", BASE);
    assert!(apply(d, &one, &[]).status.success());
    let before = snapshot(root);
    // The daemon's own error, not the bus's.
    assert_all_denied(
        d,
        &one,
        "needs root or membership of the telbox-admin group",
    );
    assert_eq!(snapshot(root), before);
}

#[test]
fn wizard_completes_once() {
    require_root("sysconfd integration");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (dir, root, d) = (t.dir.path(), &t.root, &t.sysconfd);
    let file = shared_file(dir, "wizard.toml", BASE);

    // Discover lists the box's own links: the veth pair made in its namespace.
    let out = d.appliance(&["wizard", "discover", "--json"]);
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = found["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert!(
        names.contains(&"eth0") && names.contains(&"eth0-peer"),
        "{found}"
    );
    let eth0 = found["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "eth0")
        .unwrap();
    assert_eq!(eth0["mac"].as_str().map(str::len), Some(17), "{eth0}");

    let out = d.appliance(&["wizard", "complete", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(root.join("etc/telbox/appliance.toml").exists());
    let out = d.appliance(&["wizard", "complete", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("AlreadyCompleted"), "{}", text(&out));
}

#[test]
fn a_secret_never_leaves_its_file() {
    require_root("sysconfd integration");
    const SECRET: &str = "Zq9-never-shown-7Kp";
    let t = TestBox::start(PrivateBus::with_project_policy());
    let (dir, root, d) = (t.dir.path(), &t.root, &t.sysconfd);
    let conf = format!("{BASE}\n[[berofos]]\nname = \"fos1\"\nhost = \"192.0.2.50\"\nuser = \"admin\"\npassword = \"{SECRET}\"\n");
    let file = shared_file(dir, "secret.toml", &conf);

    let mut seen = String::new();
    for args in [
        vec!["config", "plan", file.to_str().unwrap()],
        vec!["config", "plan", "--json", file.to_str().unwrap()],
        vec!["config", "apply", file.to_str().unwrap()],
        vec!["config", "show"],
        vec!["config", "history", "--json"],
        vec!["status", "--json"],
    ] {
        let out = d.appliance(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        seen.push_str(&text(&out));
    }
    assert!(
        seen.contains("<redacted>"),
        "show should mark the redacted password"
    );
    assert!(!seen.contains(SECRET), "the secret reached a D-Bus reply");
    assert!(!d.log_text().contains(SECRET), "the secret reached the log");
    let db = fs::read(d.state_dir.join("generations.db")).unwrap_or_default();
    let wal = fs::read(d.state_dir.join("generations.db-wal")).unwrap_or_default();
    let needle = SECRET.as_bytes();
    for (name, bytes) in [("generations.db", &db), ("generations.db-wal", &wal)] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the secret reached {name}"
        );
    }
    let stored = root.join("etc/telbox/secrets/fos1.password");
    assert_eq!(fs::read_to_string(&stored).unwrap().trim(), SECRET);
    let mode = fs::metadata(&stored).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let bnfos = root.join("etc/bnfos.conf");
    assert!(fs::read_to_string(&bnfos)
        .unwrap()
        .contains(&format!("login = admin:{SECRET}")));
    let mode = fs::metadata(&bnfos).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600,
        "bnfos.conf holds a login"
    );
}

#[test]
fn the_kernel_host_name_is_set_and_then_left_alone() {
    require_root("host name in a UTS namespace");
    let scratch_dir = scratch();
    let dir = scratch_dir.path();
    let config = shared_file(dir, "named.toml", &with_hostname("named-box"));
    let root = dir.join("root");
    let apply = format!(
        "\"$0\" --root {root} --set-hostname true apply --once --config {config}",
        root = root.display(),
        config = config.display()
    );
    let script = format!(
        "{}; {apply} && hostname && {apply}",
        telbox_tests::daemon::DEFAULT_LINKS
    );
    let out = Command::new("unshare")
        .args(["--uts", "--net", "--", "sh", "-c", &script])
        .arg(bin("sysconfd"))
        .output()
        .unwrap();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.lines().any(|l| l == "named-box"),
        "the kernel host name was not set: {log}"
    );
    assert!(
        log.contains("nothing to do"),
        "a second apply set the host name again: {log}"
    );
    assert_ne!(
        nix::unistd::gethostname().unwrap(),
        "named-box",
        "the test's own host name changed"
    );
}

#[test]
fn a_person_is_shown_words_and_tables_never_json() {
    require_root("sysconfd integration");
    let t = TestBox::start(PrivateBus::with_project_policy());
    let d = &t.sysconfd;
    let one = shared_file(t.dir.path(), "one.toml", BASE);
    assert!(apply(d, &one, &[]).status.success());
    for args in [
        vec!["status"],
        vec!["network", "show"],
        vec!["config", "history"],
        vec!["wizard", "discover"],
        vec!["telephony", "hardware"],
    ] {
        let out = d.appliance(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            !shown.contains('{') && !shown.contains("\":"),
            "{args:?} printed JSON:\n{shown}"
        );
    }
    let status = text(&d.appliance(&["status"]));
    assert!(
        status.contains("telephony    no telephony card"),
        "{status}"
    );
    let network = text(&d.appliance(&["network", "show"]));
    assert!(
        network.contains("eth0") && network.contains("voip") && network.contains("192.0.2.10/24"),
        "{network}"
    );
}
