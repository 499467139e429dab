//! sysconfd as a process in its own network namespace, on a private bus,
//! over a scratch root; and the `appliance` CLI pointed at that bus.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::bins::bin;
use crate::bus::PrivateBus;

/// Shell commands run inside the daemon's fresh network namespace before it
/// starts: the links the test configs name.
pub const DEFAULT_LINKS: &str =
    "ip link set lo up; ip link add eth0 type veth peer name eth0-peer; ip link set eth0-peer up";

/// The smallest config for a box on [`DEFAULT_LINKS`]: eth0 faces the phones.
pub const ONE_VOIP_LINK: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
"#;

/// The box the core and fault tests start from: [`ONE_VOIP_LINK`] with a
/// name server and a gateway.
pub const VOIP_LINK_WITH_GATEWAY: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[dns]
nameservers = ["192.0.2.1"]

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
gateway = "192.0.2.1"
"#;

pub struct Sysconfd {
    child: Option<Child>,
    pub root: PathBuf,
    pub state_dir: PathBuf,
    pub log: PathBuf,
    bus_address: String,
    env: Vec<(String, String)>,
    /// A named network namespace to run in; a fresh private one when absent.
    netns: Option<String>,
    /// More arguments for sysconfd.
    args: Vec<String>,
}

impl Sysconfd {
    /// Starts sysconfd on `bus`, over `root`, and waits until it owns its name.
    pub fn start(bus: &PrivateBus, root: &Path, env: &[(&str, &str)]) -> Sysconfd {
        Self::launch(bus, root, env, None)
    }

    /// Starts sysconfd inside the named network namespace `netns` (which the
    /// test has wired), so other namespaces can reach the box.
    pub fn start_in(bus: &PrivateBus, root: &Path, netns: &str) -> Sysconfd {
        Self::launch(bus, root, &[], Some(netns.to_owned()))
    }

    /// The same, with more arguments for sysconfd (`--ha-program …`).
    pub fn start_in_with(bus: &PrivateBus, root: &Path, netns: &str, args: &[String]) -> Sysconfd {
        Self::launch_with(bus, root, &[], Some(netns.to_owned()), args.to_vec())
    }

    fn launch(
        bus: &PrivateBus,
        root: &Path,
        env: &[(&str, &str)],
        netns: Option<String>,
    ) -> Sysconfd {
        Self::launch_with(bus, root, env, netns, Vec::new())
    }

    fn launch_with(
        bus: &PrivateBus,
        root: &Path,
        env: &[(&str, &str)],
        netns: Option<String>,
        args: Vec<String>,
    ) -> Sysconfd {
        let state_dir = root.join("var/lib/telbox");
        let log = root.with_extension("sysconfd.log");
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut d = Sysconfd {
            child: None,
            root: root.to_owned(),
            state_dir,
            log,
            bus_address: bus.address.clone(),
            env,
            netns,
            args,
        };
        d.spawn();
        d
    }

    fn spawn(&mut self) {
        fs::create_dir_all(&self.root).expect("root dir");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let script = format!("{DEFAULT_LINKS}; exec \"$0\" \"$@\"");
        let mut cmd = match &self.netns {
            Some(name) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", name]);
                c
            }
            None => {
                let mut c = Command::new("unshare");
                c.args(["--net", "--", "sh", "-c", &script]);
                c
            }
        };
        cmd.arg(bin("sysconfd"))
            .arg("--root")
            .arg(&self.root)
            .args(&self.args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus_address)
            .env("SYSCONFD_LOG", "debug")
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("start sysconfd"));
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if appliance(&self.bus_address, &["status", "--json"])
                .status
                .success()
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "sysconfd exited early ({status}); log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "sysconfd not ready in 15 s; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the daemon at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits up to `limit` for the daemon to exit by itself; its exit status, if it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        let child = self.child.as_mut()?;
        while start.elapsed() < limit {
            if let Some(status) = child.try_wait().ok().flatten() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The bus address the daemon serves on.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// Starts it again over the same root and state, without the extra environment.
    pub fn restart(&mut self) {
        self.kill();
        self.env.clear();
        self.spawn();
    }

    /// Starts it again over the same root and state with `env` instead.
    pub fn restart_with(&mut self, env: &[(&str, &str)]) {
        self.kill();
        self.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.spawn();
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs the CLI against this daemon's bus as root.
    pub fn appliance(&self, args: &[&str]) -> Output {
        appliance(&self.bus_address, args)
    }

    /// Starts the CLI against this daemon's bus as root without waiting for
    /// it (for a call the daemon pauses in); `wait_with_output` ends it.
    pub fn appliance_child(&self, args: &[&str]) -> Child {
        Command::new(bin("appliance"))
            .args(args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run appliance")
    }

    /// The daemon's process id (the one it runs under in its namespace).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("sysconfd is running").id()
    }

    /// Runs the CLI as another local user (through runuser).
    pub fn appliance_as(&self, user: &str, args: &[&str]) -> Output {
        let cli = bin("appliance");
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", user, "--", "env"])
            .arg(format!("DBUS_SYSTEM_BUS_ADDRESS={}", self.bus_address))
            .arg(cli)
            .args(args);
        cmd.output().expect("runuser")
    }
}

impl Drop for Sysconfd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the CLI with the bus address given.
pub fn appliance(bus_address: &str, args: &[&str]) -> Output {
    Command::new(bin("appliance"))
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus_address)
        .stdin(Stdio::null())
        .output()
        .expect("run appliance")
}

/// A scratch directory other users may enter (mode 0755), for a box's root
/// and the files the tests hand to the CLI as another user.
pub fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("scratch dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod scratch");
    dir
}

/// A world-readable copy of `text` for other users to pass to the CLI.
pub fn shared_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write file");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

/// Every regular file under `root` (outside the state directory) with its content and mtime.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>, std::time::SystemTime)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.starts_with(root.join("var/lib/telbox")) {
            continue;
        }
        let meta = e.metadata().expect("metadata");
        if meta.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root").to_owned();
            out.push((
                rel,
                fs::read(&path).unwrap_or_default(),
                meta.modified().expect("mtime"),
            ));
        }
    }
}

/// Output as text, for assertions and messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
