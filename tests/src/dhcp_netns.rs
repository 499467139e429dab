//! Minimal network-namespace helpers for the DHCP and NTP tests: uniquely
//! named namespaces, veth pairs between them, running code or commands
//! inside, and cleanup (processes killed, namespace deleted) on drop.

use std::fs::File;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{setns, CloneFlags};

/// Panics with a clear message unless the test runs as root.
pub fn require_root(what: &str) {
    if !nix::unistd::geteuid().is_root() {
        panic!("{what} needs root (network namespaces, raw sockets): run the test as root");
    }
}

/// Runs `argv`, panicking with its output when it fails.
pub fn run(argv: &[&str]) -> Output {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{argv:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace named `telbox-dhcp-<pid>-<n>`, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A new namespace with its loopback up.
    pub fn new() -> Netns {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("telbox-dhcp-{}-{n}", std::process::id());
        run(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NAME ARGS…`.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut argv = vec!["ip", "-n", &self.name];
        argv.extend_from_slice(args);
        run(&argv)
    }

    /// The command prefix that runs a program inside: `ip netns exec NAME`.
    pub fn prefix(&self) -> Vec<String> {
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.name.clone(),
        ]
    }

    /// A command that runs `program` inside.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `f` on this thread with the thread moved into the namespace;
    /// programs it starts run there too.
    pub fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        let home = File::open("/proc/thread-self/ns/net").expect("open own netns");
        let target = File::open(format!("/run/netns/{}", self.name)).expect("open netns");
        setns(&target, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
        let out = f();
        setns(&home, CloneFlags::CLONE_NEWNET).expect("setns back");
        out
    }

    /// Brings up `iface` with `cidr` (such as `10.0.0.1/24`).
    pub fn address(&self, iface: &str, cidr: &str) {
        self.ip(&["addr", "add", cidr, "dev", iface]);
        self.ip(&["link", "set", iface, "up"]);
    }
}

impl Default for Netns {
    fn default() -> Self {
        Netns::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A veth pair: `a_if` in `a`, `b_if` in `b`, both down and without address.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    a.ip(&[
        "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", &b.name,
    ]);
}
