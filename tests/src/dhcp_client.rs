//! A real DHCP client (ISC `dhclient`) run once in a namespace, capturing
//! the options of the lease it gets through its script hook.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::netns::Netns;

/// What the client is and asks for.
#[derive(Debug, Clone)]
pub struct ClientSpec<'a> {
    pub iface: &'a str,
    pub mac: &'a str,
    /// Sent as option 60 when set.
    pub vendor_class: Option<&'a str>,
    /// How long the client tries before giving up.
    pub timeout: Duration,
}

/// The `new_*` variables dhclient hands its script for a bound lease.
#[derive(Debug, Clone)]
pub struct Bound(pub HashMap<String, String>);

impl Bound {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Kills dhclient when the run ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs dhclient in `ns` with files in `dir` (the lease file persists there,
/// so a second run asks for the same address again). `None` when no lease
/// was offered within the timeout.
pub fn dhclient(ns: &Netns, dir: &Path, spec: &ClientSpec<'_>) -> Option<Bound> {
    fs::create_dir_all(dir).unwrap();
    ns.ip(&["link", "set", spec.iface, "down"]);
    ns.ip(&["link", "set", "dev", spec.iface, "address", spec.mac]);
    ns.ip(&["link", "set", spec.iface, "up"]);
    let env = dir.join("bound.env");
    let _ = fs::remove_file(&env);
    let script = write_script(dir, &env);
    let conf = write_conf(dir, spec);
    let mut cmd = ns.command("dhclient");
    cmd.args(["-d", "-1", "-v", "-cf"])
        .arg(&conf)
        .arg("-lf")
        .arg(dir.join("leases"));
    cmd.arg("-pf")
        .arg(dir.join("pid"))
        .arg("-sf")
        .arg(&script)
        .arg(spec.iface);
    let log = fs::File::create(dir.join("dhclient.log")).unwrap();
    cmd.stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log));
    let mut child = Running(cmd.spawn().expect("dhclient runs (isc-dhcp-client)"));
    let deadline = Instant::now() + spec.timeout + Duration::from_secs(3);
    while Instant::now() < deadline {
        if env.exists() {
            return Some(read_env(&env));
        }
        if child.0.try_wait().ok().flatten().is_some() {
            return env.exists().then(|| read_env(&env));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn write_script(dir: &Path, env: &Path) -> PathBuf {
    let path = dir.join("script.sh");
    let tmp = env.with_extension("tmp");
    let text = format!(
        "#!/bin/sh\ncase \"$reason\" in BOUND|RENEW|REBOOT) env > '{}' && mv '{}' '{}';; esac\nexit 0\n",
        tmp.display(),
        tmp.display(),
        env.display()
    );
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn write_conf(dir: &Path, spec: &ClientSpec<'_>) -> PathBuf {
    let path = dir.join("dhclient.conf");
    let mut text = String::from("option provisioning-url code 160 = text;\n");
    if let Some(vc) = spec.vendor_class {
        text.push_str(&format!("send vendor-class-identifier \"{vc}\";\n"));
    }
    text.push_str(&format!(
        "request subnet-mask, routers, domain-name-servers, domain-name, ntp-servers, tftp-server-name, provisioning-url;\n\
         timeout {};\ninitial-interval 1;\n",
        spec.timeout.as_secs()
    ));
    fs::write(&path, text).unwrap();
    path
}

fn read_env(path: &Path) -> Bound {
    let text = fs::read_to_string(path).unwrap();
    let vars = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect();
    Bound(vars)
}
