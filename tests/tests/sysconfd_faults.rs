//! A failed apply tells the truth, whatever step fails: sysconfd over a
//! root on a small tmpfs of its own (its state directory inside, as on
//! `make demo`), filled up or made read-only while an apply is paused at
//! the step under test (`SYSCONFD_FAULT_PAUSE_AT`). Afterwards status,
//! history and the system agree, and once the disk is usable again the next
//! apply or start converges. Also: a host name and a route changed behind
//! sysconfd's back are planned and repaired by the same file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use telbox_tests::bins::{bin, require_root};
use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::{
    scratch_dir, shared_file, snapshot, text, Sysconfd, DEFAULT_LINKS, VOIP_LINK_WITH_GATEWAY,
};

const OLD: &str = VOIP_LINK_WITH_GATEWAY;

/// Routes the new config adds, 10.0.N.0/24 via the gateway.
const NEW_ROUTES: usize = 200;

/// OLD with another host name and [`NEW_ROUTES`] routes.
fn new_config() -> String {
    let mut text = OLD.replace("\"telbox\"", "\"newbox\"");
    for i in 0..NEW_ROUTES {
        text.push_str(&format!(
            "\n[[network.route]]\ndestination = \"10.0.{i}.0/24\"\nvia = \"192.0.2.1\"\n"
        ));
    }
    text
}

/// A tmpfs mounted at a path, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(at).unwrap();
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=755"))
            .arg("tmpfs")
            .arg(at));
        Tmpfs(at.to_owned())
    }

    fn remount(&self, how: &str) {
        run(Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(&self.0));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", text(&out));
}

/// Fills the filesystem of the state directory `dir` with a file grown
/// until it refuses another byte. Removing the file frees the space again.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&chunk) {
            assert_eq!(e.raw_os_error(), Some(28), "filling {}: {e}", dir.display());
            break;
        }
    }
    // Whatever a 64 KiB write could not take, a byte at a time.
    while f.write_all(&[0]).is_ok() {}
    path
}

/// A box whose root prefix is a tmpfs (with, optionally, its state
/// directory on a second one). Fields drop in order: the daemon first,
/// then the mounts (inner first), then the files, then the bus.
struct FaultBox {
    sysconfd: Sysconfd,
    _state_mount: Option<Tmpfs>,
    root_mount: Tmpfs,
    dir: tempfile::TempDir,
    _bus: PrivateBus,
}

impl FaultBox {
    fn start(separate_state: bool, env: &[(&str, &str)]) -> FaultBox {
        require_root("mounting a tmpfs");
        let bus = PrivateBus::with_project_policy();
        let dir = scratch_dir("telbox-faults");
        let root = dir.path().join("root");
        let root_mount = Tmpfs::mount(&root, "16m");
        let state_mount = separate_state.then(|| Tmpfs::mount(&root.join("var/lib/telbox"), "16m"));
        let sysconfd = Sysconfd::start(&bus, &root, env);
        FaultBox {
            sysconfd,
            _state_mount: state_mount,
            root_mount,
            dir,
            _bus: bus,
        }
    }

    fn root(&self) -> &Path {
        &self.root_mount.0
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        shared_file(self.dir.path(), name, text)
    }

    fn apply(&self, file: &Path) -> Output {
        self.sysconfd
            .appliance(&["config", "apply", file.to_str().unwrap()])
    }

    /// Applies `file`, and while sysconfd is paused in it, runs `meanwhile`.
    fn apply_paused(&self, file: &Path, meanwhile: impl FnOnce()) -> Output {
        let call = self
            .sysconfd
            .appliance_child(&["config", "apply", file.to_str().unwrap()]);
        wait_stopped(self.sysconfd.pid(), &self.sysconfd);
        meanwhile();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.sysconfd.pid() as i32),
            nix::sys::signal::Signal::SIGCONT,
        )
        .unwrap();
        call.wait_with_output().unwrap()
    }

    /// The index in the plan for `file` of its `n`th file write (from 0).
    fn nth_write(&self, file: &Path, n: usize) -> usize {
        let plan =
            json(
                &self
                    .sysconfd
                    .appliance(&["config", "plan", "--json", file.to_str().unwrap()]),
            );
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, a)| a["kind"] == "write-file")
            .nth(n)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no write number {n} in {plan}"))
    }

    fn status(&self) -> Value {
        json(&self.sysconfd.appliance(&["status", "--json"]))
    }

    fn history(&self) -> Vec<Value> {
        let h = json(&self.sysconfd.appliance(&["config", "history", "--json"]));
        h.as_array().unwrap().clone()
    }

    /// sysconfd's routes to 10.0.N.0/24, as the kernel has them.
    fn new_routes(&self) -> usize {
        let view = json(&self.sysconfd.appliance(&["network", "show", "--json"]));
        view["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["destination"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("10.0."))
            })
            .count()
    }

    fn journal(&self) -> PathBuf {
        self.sysconfd.state_dir.join("apply.journal")
    }

    /// The files under the root outside the state directory, with content.
    fn files(&self) -> Vec<(PathBuf, String)> {
        snapshot(self.root())
            .into_iter()
            .map(|(p, c, _)| (p, String::from_utf8_lossy(&c).into_owned()))
            .collect()
    }

    fn config_shown(&self) -> String {
        let out = self.sysconfd.appliance(&["config", "show"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// Waits until process `pid` is stopped (state `T` in /proc/PID/stat).
fn wait_stopped(pid: u32, d: &Sysconfd) {
    let start = Instant::now();
    loop {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
        if state == Some("T") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "sysconfd did not pause; log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts the files are generation 1's, naming those that are not.
fn assert_same_files(now: &[(PathBuf, String)], before: &[(PathBuf, String)]) {
    let differ: Vec<_> = now
        .iter()
        .filter(|f| !before.contains(f))
        .chain(before.iter().filter(|f| !now.contains(f)))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(differ.is_empty(), "not as in generation 1: {differ:?}");
}

/// Asserts the box is back in generation 1 with nothing left to finish.
fn assert_settled(t: &FaultBox) {
    let status = t.status();
    assert!(status.get("degraded").is_none(), "{status}");
    assert!(!t.journal().exists(), "the apply journal stayed");
}

/// An apply that failed and could not be recorded on the full disk: the
/// old generation is in force, status says degraded with the cause and
/// that history lacks it, and the journal is kept (when it was written).
fn assert_old_generation_unrecorded(
    t: &FaultBox,
    before: &[(PathBuf, String)],
    cause: &str,
    journaled: bool,
) {
    assert_same_files(&t.files(), before);
    assert!(t.config_shown().contains("hostname = \"telbox\""));
    assert_eq!(t.new_routes(), 0, "the new routes stayed");
    let status = t.status();
    assert_eq!(status["current_generation"], 1, "{status}");
    let d = &status["degraded"];
    assert_eq!(d["generation"], 2, "{status}");
    assert_eq!(d["previous"], 1, "{status}");
    assert!(d["cause"].as_str().unwrap().contains(cause), "{status}");
    assert!(d.get("restore_error").is_none(), "restored: {status}");
    assert!(
        d["record_error"]
            .as_str()
            .is_some_and(|e| e.contains("database or disk is full")),
        "{status}"
    );
    let h = t.history();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        t.journal().exists(),
        journaled,
        "the journal is kept until history has the failure"
    );
    let words = text(&t.sysconfd.appliance(&["status"]));
    assert!(
        words.contains("degraded     the apply of generation 2 failed")
            && words.contains("generation 1 is back in force")
            && words.contains("history does not record the failure yet"),
        "{words}"
    );
}

#[test]
fn a_full_disk_at_the_journal_changes_nothing_and_the_next_apply_records_it() {
    let t = FaultBox::start(false, &[]);
    let (old, new) = (t.file("old.toml", OLD), t.file("new.toml", &new_config()));
    assert!(t.apply(&old).status.success());
    let before = t.files();

    let filler = fill(&t.sysconfd.state_dir);
    let out = t.apply(&new);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("writing the apply journal") && msg.contains("No space left on device"),
        "{msg}"
    );
    assert_old_generation_unrecorded(&t, &before, "writing the apply journal", false);

    fs::remove_file(filler).unwrap();
    let out = t.apply(&new);
    assert!(
        text(&out).contains("generation 3 applied"),
        "{}",
        text(&out)
    );
    assert_settled(&t);
    let h = t.history();
    assert_eq!(h[1]["id"], 2);
    assert_eq!(h[1]["outcome"], "failed");
    let reason = h[1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("writing the apply journal: No space left on device")
            && reason.ends_with("nothing was changed"),
        "{reason}"
    );
    assert_eq!(t.new_routes(), NEW_ROUTES);
}

#[test]
fn a_full_disk_at_the_file_writes_ends_in_the_old_generation_and_the_next_start_records_it() {
    let mut t = FaultBox::start(false, &[]);
    let (old, new) = (t.file("old.toml", OLD), t.file("new.toml", &new_config()));
    assert!(t.apply(&old).status.success());
    let before = t.files();
    let at = t.nth_write(&new, 0);
    t.sysconfd
        .restart_with(&[("SYSCONFD_FAULT_PAUSE_AT", &format!("{at}@2"))]);

    let mut filler = None;
    let out = t.apply_paused(&new, || filler = Some(fill(&t.sysconfd.state_dir)));
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("writing /etc/") && msg.contains("No space left on device"),
        "{msg}"
    );
    assert_old_generation_unrecorded(&t, &before, "No space left on device", true);

    fs::remove_file(filler.unwrap()).unwrap();
    t.sysconfd.restart();
    assert_settled(&t);
    assert_same_files(&t.files(), &before);
    let h = t.history();
    assert_eq!(h[0]["id"], 2);
    assert_eq!(h[0]["outcome"], "failed");
    let reason = h[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("No space left on device") && !reason.contains("interrupted"),
        "the cause was kept for the next start: {reason}"
    );
}

#[test]
fn a_full_disk_at_the_generation_commit_ends_in_the_old_generation() {
    let t = FaultBox::start(false, &[("SYSCONFD_FAULT_PAUSE_AT", "commit@2")]);
    let (old, new) = (t.file("old.toml", OLD), t.file("new.toml", &new_config()));
    assert!(t.apply(&old).status.success());
    let before = t.files();

    let mut filler = None;
    let out = t.apply_paused(&new, || filler = Some(fill(&t.sysconfd.state_dir)));
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("generation store: database or disk is full"),
        "{msg}"
    );
    assert_old_generation_unrecorded(&t, &before, "database or disk is full", true);

    fs::remove_file(filler.unwrap()).unwrap();
    let out = t.apply(&new);
    assert!(
        text(&out).contains("generation 3 applied"),
        "the re-apply over the left journal: {}",
        text(&out)
    );
    assert_settled(&t);
    let h = t.history();
    assert_eq!(
        (h[0]["id"].clone(), h[0]["outcome"].clone()),
        (3.into(), "applied".into())
    );
    assert_eq!(h[1]["outcome"], "failed");
    let reason = h[1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("database or disk is full")
            && reason.ends_with("the previous generation was restored"),
        "{reason}"
    );
    assert!(t.config_shown().contains("hostname = \"newbox\""));
    assert_eq!(t.new_routes(), NEW_ROUTES);
}

#[test]
fn a_root_turning_read_only_mid_apply_is_degraded_recorded_and_finished_by_the_next_apply() {
    let mut t = FaultBox::start(true, &[]);
    let (old, new) = (t.file("old.toml", OLD), t.file("new.toml", &new_config()));
    assert!(t.apply(&old).status.success());
    let at = t.nth_write(&new, 1);
    t.sysconfd
        .restart_with(&[("SYSCONFD_FAULT_PAUSE_AT", &format!("{at}@2"))]);

    let out = t.apply_paused(&new, || t.root_mount.remount("ro"));
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("writing /etc/") && msg.contains("restoring /etc/"),
        "the caller sees the cause and the restore error: {msg}"
    );
    assert_eq!(t.new_routes(), 0, "the new routes stayed");
    let status = t.status();
    assert_eq!(status["current_generation"], 1, "{status}");
    let d = &status["degraded"];
    assert_eq!(d["generation"], 2, "{status}");
    assert!(
        d["cause"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "{status}"
    );
    assert!(
        d["restore_error"]
            .as_str()
            .is_some_and(|e| e.contains("restoring /etc/") && e.contains("Read-only file system")),
        "{status}"
    );
    assert!(d.get("record_error").is_none(), "{status}");
    let differs: Vec<&str> = d["differs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !differs.is_empty() && differs.iter().all(|l| l.starts_with("write /etc/")),
        "only the file that could not be put back differs: {status}"
    );
    let h = t.history();
    assert_eq!(h[0]["id"], 2);
    assert_eq!(h[0]["outcome"], "failed");
    let reason = h[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("Read-only file system")
            && reason.contains("restoring the previous generation failed: restoring /etc/"),
        "{reason}"
    );
    assert!(t.journal().exists());
    let words = text(&t.sysconfd.appliance(&["status"]));
    assert!(
        words.contains("generation 1 is not fully back") && words.contains("differs: write /etc/"),
        "{words}"
    );

    t.root_mount.remount("rw");
    let out = t.apply(&new);
    assert!(
        text(&out).contains("generation 3 applied"),
        "{}",
        text(&out)
    );
    assert_settled(&t);
    let h = t.history();
    assert!(
        h[1]["reason"].as_str().unwrap().ends_with("then completed"),
        "{h:?}"
    );
    assert_eq!(t.new_routes(), NEW_ROUTES);
}

/// Runs `sysconfd ARGS…` without the bus in a fresh network namespace.
fn sysconfd_once(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--net",
        "--",
        "sh",
        "-c",
        &format!("{DEFAULT_LINKS}; exec \"$0\" \"$@\""),
    ])
    .arg(bin("sysconfd"))
    .arg("--root")
    .arg(root)
    .args(args);
    cmd
}

#[test]
fn an_apply_over_a_journal_left_at_the_commit_finishes_it_instead_of_saying_nothing_to_do() {
    require_root("network namespaces");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let old = shared_file(dir.path(), "old.toml", OLD);
    let new = shared_file(
        dir.path(),
        "new.toml",
        &OLD.replace("\"telbox\"", "\"newbox\""),
    );
    let apply = |file: &Path| {
        sysconfd_once(
            &root,
            &["apply", "--once", "--config", file.to_str().unwrap()],
        )
    };
    assert!(apply(&old).output().unwrap().status.success());

    // Killed while paused before the commit: every file is the new one.
    let mut child = apply(&new)
        .env("SYSCONFD_FAULT_PAUSE_AT", "commit")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    while !fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default()
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('T'))
    {
        assert!(start.elapsed() < Duration::from_secs(20), "no pause");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let journal = root.join("var/lib/telbox/apply.journal");
    assert!(journal.exists());
    assert_eq!(
        fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "newbox\n"
    );

    let out = apply(&new).output().unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("generation 3 applied") && !said.contains("nothing to do"),
        "{said}"
    );
    assert!(!journal.exists());
    assert_eq!(
        fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "newbox\n"
    );
}

#[test]
fn a_host_name_file_and_a_route_changed_behind_sysconfds_back_are_repaired_by_the_same_file() {
    require_root("sysconfd integration");
    let bus = PrivateBus::with_project_policy();
    let dir = scratch_dir("telbox-faults");
    let root = dir.path().join("root");
    let d = Sysconfd::start(&bus, &root, &[]);
    let config = format!(
        "{OLD}\n[[network.route]]\ndestination = \"198.51.100.0/24\"\nvia = \"192.0.2.1\"\n"
    );
    let file = shared_file(dir.path(), "box.toml", &config);
    let file = file.to_str().unwrap();
    let out = d.appliance(&["config", "apply", file]);
    assert!(out.status.success(), "{}", text(&out));

    fs::write(root.join("etc/hostname"), "intruder\n").unwrap();
    let pid = d.pid().to_string();
    run(Command::new("nsenter").args(["-t", &pid, "-n", "ip", "route", "del", "198.51.100.0/24"]));

    let plan = json(&d.appliance(&["config", "plan", "--json", file]));
    let summaries: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["summary"].as_str())
        .collect();
    assert!(
        summaries
            .iter()
            .any(|s| s.starts_with("write /etc/hostname"))
            && summaries.iter().any(|s| s.contains("198.51.100.0/24")),
        "{summaries:?}"
    );
    let out = d.appliance(&["config", "apply", file]);
    assert!(
        text(&out).contains("generation 2 applied"),
        "{}",
        text(&out)
    );
    assert_eq!(
        fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "telbox\n"
    );
    let routes = String::from_utf8(
        Command::new("nsenter")
            .args(["-t", &pid, "-n", "ip", "route", "show", "198.51.100.0/24"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(routes.contains("via 192.0.2.1"), "{routes}");
    let plan = json(&d.appliance(&["config", "plan", "--json", file]));
    assert_eq!(plan["actions"], serde_json::json!([]), "repaired: {plan}");
}

#[test]
fn a_kernel_host_name_changed_behind_sysconfds_back_is_set_again_by_the_same_file() {
    require_root("host name in a UTS namespace");
    let dir = tempfile::tempdir().unwrap();
    let config = shared_file(
        dir.path(),
        "named.toml",
        &OLD.replace("\"telbox\"", "\"named-box\""),
    );
    let root = dir.path().join("root");
    let sysconfd = format!(
        "\"$0\" --root {root} --set-hostname true",
        root = root.display()
    );
    let apply = format!("{sysconfd} apply --once --config {}", config.display());
    let plan = format!("{sysconfd} plan --config {}", config.display());
    let script =
        format!("{DEFAULT_LINKS}; {apply} && hostname intruder && {plan} && {apply} && hostname");
    let out = Command::new("unshare")
        .args(["--uts", "--net", "--", "sh", "-c", &script])
        .arg(bin("sysconfd"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("set host name to named-box"),
        "not planned: {said}"
    );
    assert!(said.contains("generation 2 applied"), "not applied: {said}");
    assert_eq!(said.lines().last(), Some("named-box"), "{said}");
}
