//! Builds chrony.conf from `[ntp]` (and the subnets `[network]`/`[dhcp]` serve).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use appliance::config::values::Ipv4Cidr;
use appliance::config::Config;

use super::NtpError;
use crate::files::FileSpec;

/// Where chronyd reads its configuration.
pub const CHRONY_CONF: &str = "/etc/chrony/chrony.conf";

/// Where chronyd keeps its drift file, pid file and command socket. chronyd
/// creates the socket's directory and hands it to its own user; it must not
/// be made beforehand with another owner or a world-readable mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChronyPaths {
    pub driftfile: PathBuf,
    pub pidfile: PathBuf,
    /// The command socket `chronyc -h` talks to.
    pub socket: PathBuf,
}

impl ChronyPaths {
    /// All three in the `chrony` directory inside `state_dir` (a test root,
    /// where chronyd keeps root's user).
    pub fn under(state_dir: &Path) -> Self {
        let dir = state_dir.join("chrony");
        ChronyPaths {
            driftfile: dir.join("chrony.drift"),
            pidfile: dir.join("chronyd.pid"),
            socket: dir.join("chronyd.sock"),
        }
    }

    /// The distribution's places, which chronyd's own user (`_chrony`) may
    /// write after it drops root: `/var/lib/chrony` and `/run/chrony`.
    pub fn system() -> Self {
        ChronyPaths {
            driftfile: PathBuf::from("/var/lib/chrony/chrony.drift"),
            pidfile: PathBuf::from("/run/chrony/chronyd.pid"),
            socket: PathBuf::from("/run/chrony/chronyd.sock"),
        }
    }

    /// [`system`](Self::system) on the box itself, [`under`](Self::under)
    /// the state directory under a test root.
    pub fn for_box(root: &crate::root::Root, state_dir: &Path) -> Self {
        if root.is_system() {
            Self::system()
        } else {
            Self::under(state_dir)
        }
    }
}

/// The subnets time is served to: the VoIP subnet and the DHCP sites, when
/// `ntp.serve_voip` (nothing when the VoIP address is not static).
pub fn served_subnets(cfg: &Config) -> Vec<Ipv4Cidr> {
    if !cfg.ntp.serve_voip {
        return Vec::new();
    }
    let voip = cfg
        .network
        .voip_link()
        .and_then(|l| l.address)
        .map(|a| a.subnet());
    let sites = cfg
        .dhcp
        .subnet
        .iter()
        .filter(|_| cfg.dhcp.enabled)
        .map(|s| s.network.subnet());
    let mut out: Vec<Ipv4Cidr> = Vec::new();
    for net in voip.into_iter().chain(sites) {
        if !out.contains(&net) {
            out.push(net);
        }
    }
    out
}

/// Renders chrony.conf for `cfg`.
pub fn render(cfg: &Config, paths: &ChronyPaths) -> Result<FileSpec, NtpError> {
    let ntp = &cfg.ntp;
    let mut text = String::from("# chrony.conf for this telbox, generated from appliance.toml.\n");
    for server in &ntp.servers {
        let _ = writeln!(text, "server {server} iburst");
    }
    for pool in &ntp.pools {
        let _ = writeln!(text, "pool {pool} iburst");
    }
    for net in served_subnets(cfg) {
        let _ = writeln!(text, "allow {net}");
    }
    if let Some(stratum) = ntp.local_stratum {
        let _ = writeln!(text, "local stratum {stratum}");
    }
    text.push_str("makestep 1 3\ncmdport 0\n");
    for (directive, path) in [
        ("driftfile", &paths.driftfile),
        ("pidfile", &paths.pidfile),
        ("bindcmdaddress", &paths.socket),
    ] {
        let _ = writeln!(text, "{directive} {}", safe_path(path)?);
    }
    Ok(FileSpec::new(CHRONY_CONF, text, 0o644))
}

/// A path as chrony.conf can hold it: one word, no comment characters.
fn safe_path(path: &Path) -> Result<&str, NtpError> {
    let s = path
        .to_str()
        .ok_or_else(|| NtpError::UnsafePath(path.to_owned()))?;
    let bad = s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '!' | ';' | '%'));
    if bad {
        Err(NtpError::UnsafePath(path.to_owned()))
    } else {
        Ok(s)
    }
}
