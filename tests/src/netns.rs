//! Throw-away network namespaces for tests: `ip netns add telbox-t-<pid>-<n>`,
//! veth pairs inside, commands run in it, and the namespace deleted on drop
//! (also when the test panics).

use std::ffi::OsStr;
use std::fs::File;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{setns, CloneFlags};
use serde_json::Value;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A named network namespace that lives as long as this value.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a fresh namespace with its loopback up. Needs root.
    pub fn create() -> Netns {
        crate::bins::require_root("a network namespace");
        let name = format!(
            "telbox-t-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME ARGS…`, panicking with ip's message if it fails; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// `ip -j -n NAME ARGS…` parsed as JSON.
    pub fn ip_json(&self, args: &[&str]) -> Value {
        let out = run(Command::new("ip").args(["-j", "-n", &self.name]).args(args));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("ip -j {args:?}: {e}: {out}"))
    }

    /// `ip -j link show dev NAME`: the link as iproute2 reports it.
    pub fn link(&self, name: &str) -> Value {
        self.ip_json(&["link", "show", "dev", name])[0].clone()
    }

    /// The IPv4 addresses on link `name`, as `A.B.C.D/N`.
    pub fn ipv4(&self, name: &str) -> Vec<String> {
        let info = self.ip_json(&["-4", "addr", "show", "dev", name]);
        info[0]["addr_info"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| format!("{}/{}", x["local"].as_str().unwrap(), x["prefixlen"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The command prefix that runs a program inside: `ip netns exec NAME`.
    pub fn prefix(&self) -> Vec<String> {
        ["ip", "netns", "exec", &self.name]
            .map(String::from)
            .to_vec()
    }

    /// Brings up `iface` with `cidr` (such as `10.0.0.1/24`).
    pub fn address(&self, iface: &str, cidr: &str) {
        self.ip(&["addr", "add", cidr, "dev", iface]);
        self.ip(&["link", "set", iface, "up"]);
    }

    /// A veth pair between namespaces: `a_if` here, `b_if` in `other`, both down.
    pub fn veth_to(&self, a_if: &str, other: &Netns, b_if: &str) {
        self.ip(&[
            "link",
            "add",
            a_if,
            "type",
            "veth",
            "peer",
            "name",
            b_if,
            "netns",
            &other.name,
        ]);
    }

    /// Creates the veth pair `a`–`b`, both ends in this namespace and down.
    pub fn veth(&self, a: &str, b: &str) {
        self.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
    }

    /// A command that runs `program` inside this namespace (`ip netns exec`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `f` on a thread that has entered this namespace; sockets it opens
    /// (a netlink connection, say) stay in the namespace whichever thread polls them.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
                setns(file, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }

    /// Runs `f` on this thread moved into the namespace (and back after);
    /// programs it starts run there too.
    pub fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        let home = File::open("/proc/thread-self/ns/net").expect("open own netns");
        let target = File::open(format!("/run/netns/{}", self.name)).expect("open netns");
        setns(&target, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
        let out = f();
        setns(&home, CloneFlags::CLONE_NEWNET).expect("setns back");
        out
    }
}

impl Drop for Netns {
    /// Kills what still runs inside (daemons a failed test left), then deletes it.
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

/// Runs `cmd`, panicking with its stderr when it fails; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out: Output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a link from [`Netns::link`] or `ip -j link` is administratively up.
pub fn is_up(link: &Value) -> bool {
    link["flags"].as_array().unwrap().iter().any(|f| f == "UP")
}
