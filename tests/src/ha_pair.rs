//! Two telbox boxes as an HA pair, each in its own network namespace with
//! its own root, private bus and sysconfd (running keepalived), joined by
//! two bridges (the advert path 10.9.0.0/24 and a second path 10.8.0.0/24)
//! in a third namespace; the Berofos simulator in a fourth, on the advert
//! path. Asterisk is simulated by a shell script that counts its starts
//! and stops and keeps a file whose presence its health check tests.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::berofos_sim::{self, SimConfig, SimHandle};
use crate::bus::PrivateBus;
use crate::daemon::{scratch_dir, text, Sysconfd};
use crate::netns::Netns;

/// The Berofos simulator's address on the advert path.
pub const FOS_ADDRESS: &str = "10.9.0.20";
pub const FOS_MAC: &str = "00:19:32:00:00:01";
/// The service address phones use; on the active box's eth0.
pub const SERVICE_ADDRESS: &str = "10.9.0.9/24";

/// [`SERVICE_ADDRESS`] without its prefix.
fn service_ip() -> &'static str {
    SERVICE_ADDRESS.split('/').next().expect("an address")
}

/// How a pair is set up.
#[derive(Debug, Clone)]
pub struct PairSpec {
    pub failback_delay_s: u32,
    pub heartbeat_interval_ms: u32,
}

impl Default for PairSpec {
    fn default() -> Self {
        PairSpec {
            failback_delay_s: 3,
            heartbeat_interval_ms: 200,
        }
    }
}

/// A dead box sends nothing ([`HaBox::kill_all`]); its own table, so a test's
/// and sysconfd's rules stay as they are.
const DEAD: &str = "table inet telbox_test_dead {\n  chain output {\n    type filter hook output priority -300; policy drop;\n  }\n}\n";
const ALIVE: &str = "delete table inet telbox_test_dead\n";

/// One box of the pair.
pub struct HaBox {
    pub name: &'static str,
    /// 1 for the master, 2 for the slave: the last byte of its addresses.
    pub me: u8,
    pub ns: Netns,
    pub bus: PrivateBus,
    pub dir: tempfile::TempDir,
    pub daemon: Option<Sysconfd>,
}

const ASTERISK_SIM: &str = r#"#!/bin/sh
# Simulated Asterisk: counts starts and stops; its health check looks for the ok file.
dir=$(dirname "$0")
echo start >> "$dir/asterisk.starts"
touch "$dir/asterisk.ok"
trap 'echo stop >> "$dir/asterisk.stops"; rm -f "$dir/asterisk.ok"; exit 0' TERM
sleep 100000 &
wait $!
"#;

impl HaBox {
    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn sim_dir(&self) -> PathBuf {
        self.dir.path().join("asterisk")
    }

    fn args(&self) -> Vec<String> {
        vec![format!(
            "--ha-program=asterisk={}",
            self.sim_dir().join("asterisk-sim").display()
        )]
    }

    /// Starts (or starts again) sysconfd over the same root and state.
    pub fn start(&mut self) {
        let d = Sysconfd::start_in_with(&self.bus, &self.root(), self.ns.name(), &self.args());
        self.daemon = Some(d);
    }

    pub fn daemon(&self) -> &Sysconfd {
        self.daemon.as_ref().expect("sysconfd runs")
    }

    /// The box dies as when it loses power: it falls silent at once (an
    /// nftables table drops everything it sends), then every process in
    /// it is SIGKILLed: sysconfd, keepalived, Asterisk. Silence first,
    /// because the processes do not die at one instant: keepalived's VRRP
    /// process, told of its parent's death, may still send a priority-0
    /// advert on its way out, and the peer would take over at once rather
    /// than notice the silence. The table goes once nothing runs in the box.
    pub fn kill_all(&mut self) {
        use nix::sys::signal::{kill, Signal};
        self.nft(DEAD);
        let pids = || -> Vec<nix::unistd::Pid> {
            let out = std::process::Command::new("ip")
                .args(["netns", "pids", self.ns.name()])
                .output()
                .expect("ip netns pids");
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .map(nix::unistd::Pid::from_raw)
                .collect()
        };
        let start = Instant::now();
        loop {
            let running = pids();
            if running.is_empty() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{}: processes still run after SIGKILL: {running:?}",
                self.name
            );
            for &pid in &running {
                let _ = kill(pid, Signal::SIGKILL);
            }
            // sysconfd is our child: reaped here, so it is not listed again.
            if let Some(mut d) = self.daemon.take() {
                d.kill();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(mut d) = self.daemon.take() {
            d.kill();
        }
        // A box that lost power comes back without the service address.
        let _ = self
            .ns
            .command("ip")
            .args(["addr", "del", SERVICE_ADDRESS, "dev", "eth0"])
            .output();
        self.nft(ALIVE);
    }

    /// Kills sysconfd alone (keepalived and Asterisk go on), as a crash would.
    pub fn kill_sysconfd(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill();
        }
    }

    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.daemon().appliance(args)
    }

    /// Applies this box's configuration for `spec` (`appliance config apply`).
    pub fn apply_spec(&self, spec: &PairSpec) {
        let file = self.dir.path().join("change.toml");
        fs::write(
            &file,
            config(spec, self.me, &self.sim_dir().join("asterisk.ok")),
        )
        .unwrap();
        let out = self.cli(&["config", "apply", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", self.name, text(&out));
    }

    /// Until this box hears its peer on both paths as keepalived's BACKUP.
    pub fn wait_peer_heard(&self, limit: Duration) {
        let start = Instant::now();
        loop {
            let s = self.status();
            let heard = s["paths"]
                .as_array()
                .is_some_and(|p| p.len() == 2 && p.iter().all(|p| p["vrrp"] == "BACKUP"));
            if heard {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "{} does not hear its peer on both paths: {s:#}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `appliance ha WHAT --json`, or what went wrong.
    fn ha_json(&self, what: &str) -> Result<Value, String> {
        let out = self.cli(&["ha", what, "--json"]);
        if !out.status.success() {
            return Err(format!("{}: ha {what} failed: {}", self.name, text(&out)));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("{}: ha {what} JSON: {e}", self.name))
    }

    /// `appliance ha status --json`, or what went wrong.
    pub fn try_status(&self) -> Result<Value, String> {
        self.ha_json("status")
    }

    /// `appliance ha history --json`, oldest first, or what went wrong.
    pub fn try_history(&self) -> Result<Vec<Value>, String> {
        let mut h: Vec<Value> = serde_json::from_value(self.ha_json("history")?)
            .map_err(|e| format!("{}: ha history is not a list: {e}", self.name))?;
        h.reverse();
        Ok(h)
    }

    /// `appliance ha status --json`.
    pub fn status(&self) -> Value {
        self.try_status().unwrap_or_else(|e| panic!("{e}"))
    }

    /// `appliance ha history --json`, oldest first.
    pub fn history(&self) -> Vec<Value> {
        self.try_history().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The transitions recorded, as `active`/`standby` words, oldest first.
    pub fn transitions(&self) -> Vec<String> {
        self.history()
            .iter()
            .map(|t| t["to"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until `ha status` says `state`; how long it took.
    pub fn wait_state(&self, state: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let s = self.status();
            if s["state"] == state {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "{} not {state} within {limit:?}: {s:#}\nlog:\n{}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self) -> String {
        let log = self
            .daemon
            .as_ref()
            .map(|d| d.log_text())
            .unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn count(&self, file: &str) -> usize {
        fs::read_to_string(self.sim_dir().join(file))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// Times the simulated Asterisk started.
    pub fn asterisk_starts(&self) -> usize {
        self.count("asterisk.starts")
    }

    /// Times it was stopped (SIGTERM).
    pub fn asterisk_stops(&self) -> usize {
        self.count("asterisk.stops")
    }

    /// Makes the health check of the running Asterisk fail.
    pub fn report_asterisk_down(&self) {
        fs::remove_file(self.sim_dir().join("asterisk.ok")).expect("asterisk runs");
    }

    /// Whether the box's eth0 carries the service address.
    pub fn has_service_address(&self) -> bool {
        let out = crate::netns::run(
            self.ns
                .command("ip")
                .args(["-4", "-o", "addr", "show", "dev", "eth0"]),
        );
        out.contains(&format!("inet {SERVICE_ADDRESS} "))
    }

    /// The MAC address of the box's eth0.
    pub fn mac(&self) -> String {
        let out = crate::netns::run(self.ns.command("cat").arg("/sys/class/net/eth0/address"));
        out.trim().to_owned()
    }

    /// Runs `nft` inside the box.
    pub fn nft(&self, rules: &str) {
        let mut child = self
            .ns
            .command("nft")
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("nft");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(rules.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "nft refused:\n{rules}");
    }
}

/// The pair, the bridges and the Berofos.
pub struct Pair {
    pub bridges: Netns,
    pub master: HaBox,
    pub slave: HaBox,
    pub fos_ns: Netns,
    pub fos: SimHandle,
}

fn config(spec: &PairSpec, me: u8, check_ok: &Path) -> String {
    let (role, peer, name) = if me == 1 {
        ("master", 2, "telbox-a")
    } else {
        ("slave", 1, "telbox-b")
    };
    let berofos = if role == "slave" {
        format!("[[berofos]]\nname = \"fos1\"\nhost = \"{FOS_ADDRESS}\"\nmac = \"{FOS_MAC}\"\n")
    } else {
        String::new()
    };
    let use_fos = if role == "slave" {
        "berofos = \"fos1\"\n"
    } else {
        ""
    };
    format!(
        r#"[system]
hostname = "{name}"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "10.9.0.{me}/24"

[[network.interface]]
name = "eth1"
role = "data"
address = "10.8.0.{me}/24"

{berofos}
[ha]
role = "{role}"
peer = "10.9.0.{peer}"
interface = "eth0"
virtual_address = "{SERVICE_ADDRESS}"
second_peer = "10.8.0.{peer}"
second_interface = "eth1"
shared_key_file = "/etc/telbox/secrets/ha.key"
heartbeat_interval_ms = {hb}
failback_delay_s = {fb}
{use_fos}services = ["asterisk"]

[[ha.check]]
service = "asterisk"
command = ["/usr/bin/test", "-e", "{check}"]
"#,
        hb = spec.heartbeat_interval_ms,
        fb = spec.failback_delay_s,
        check = check_ok.display(),
    )
}

fn make_box(name: &'static str, me: u8, spec: &PairSpec, bridges: &Netns) -> HaBox {
    let ns = Netns::create();
    for (ifname, bridge) in [("eth0", "br0"), ("eth1", "br1")] {
        let port = format!("{}{}", &name[..1], &ifname[3..]);
        let port = format!("p{port}");
        ns.veth_to(ifname, bridges, &port);
        bridges.ip(&["link", "set", &port, "master", bridge, "up"]);
    }
    let dir = scratch_dir("telbox-ha-");
    let b = HaBox {
        name,
        me,
        ns,
        bus: PrivateBus::with_project_policy(),
        dir,
        daemon: None,
    };
    let sim = b.sim_dir();
    fs::create_dir_all(&sim).unwrap();
    let script = sim.join("asterisk-sim");
    fs::write(&script, ASTERISK_SIM).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let root = b.root();
    let secrets = root.join("etc/telbox/secrets");
    fs::create_dir_all(&secrets).unwrap();
    let key = secrets.join("ha.key");
    fs::write(&key, "pair-key-of-the-test\n").unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(
        root.join("etc/telbox/appliance.toml"),
        config(spec, me, &sim.join("asterisk.ok")),
    )
    .unwrap();
    b
}

impl Pair {
    /// The MAC the Berofos side of the advert path has for the service
    /// address, if it has one (from ARP).
    pub fn service_mac_seen(&self) -> Option<String> {
        let vip = service_ip();
        let out = crate::netns::run(
            self.fos_ns
                .command("ip")
                .args(["neigh", "show", vip, "dev", "eth0"]),
        );
        let mut words = out.split_whitespace();
        words.find(|w| *w == "lladdr")?;
        words.next().map(str::to_owned)
    }

    /// The Berofos side talks to the service address once, so that it has
    /// an ARP entry for it (a gratuitous ARP updates entries, makes none).
    pub fn reach_service_address(&self) {
        let vip = service_ip();
        let ok = self
            .fos_ns
            .command("ping")
            .args(["-q", "-c", "1", "-W", "2", vip])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("ping");
        assert!(ok.success(), "the service address {vip} does not answer");
    }

    /// Builds the topology and starts the master, then the slave once the
    /// master holds the service.
    pub fn start(spec: PairSpec) -> Pair {
        crate::bins::require_root("an HA pair");
        let bridges = Netns::create();
        for br in ["br0", "br1"] {
            bridges.ip(&["link", "add", br, "type", "bridge"]);
            bridges.ip(&["link", "set", br, "up"]);
        }
        let mut master = make_box("master", 1, &spec, &bridges);
        let mut slave = make_box("slave", 2, &spec, &bridges);
        let fos_ns = Netns::create();
        fos_ns.veth_to("eth0", &bridges, "pf0");
        bridges.ip(&["link", "set", "pf0", "master", "br0", "up"]);
        fos_ns.address("eth0", &format!("{FOS_ADDRESS}/24"));
        let fos = fos_ns.enter(|| {
            let mut cfg = SimConfig::loopback();
            cfg.bind = FOS_ADDRESS.parse().unwrap();
            cfg.udp_port = 50123;
            cfg.http_port = 80;
            berofos_sim::start(cfg).expect("Berofos simulator")
        });
        // Both boxes at A–B, as the master's side.
        fos.set_relay_mode(berofos_sim::Relay::AB);
        master.start();
        master.wait_state("active", Duration::from_secs(20));
        slave.start();
        slave.wait_state("standby", Duration::from_secs(20));
        slave.wait_peer_heard(Duration::from_secs(10));
        Pair {
            bridges,
            master,
            slave,
            fos_ns,
            fos,
        }
    }
}
