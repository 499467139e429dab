//! The DHCP client for `method = "dhcp"` links: ISC `dhclient` in the
//! foreground, one per link, restarted when it exits; its lease file read
//! back for status.

use std::ffi::OsString;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use appliance::config::values::Ipv4Cidr;
use serde::Serialize;
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// The script `dhclient` runs to configure the link (Debian's isc-dhcp-client).
pub const DHCLIENT_SCRIPT: &str = "/sbin/dhclient-script";

/// What can go wrong running or reading the DHCP client.
#[derive(Debug, thiserror::Error)]
pub enum DhclientError {
    #[error("cannot start dhclient for {interface}: {source}")]
    Spawn {
        interface: String,
        source: io::Error,
    },
    #[error("cannot read lease file {path}: {source}")]
    DhclientLease { path: PathBuf, source: io::Error },
}

/// One `dhclient` for one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpClient {
    pub interface: String,
    pub program: PathBuf,
    pub script: PathBuf,
    pub pid_file: PathBuf,
    pub lease_file: PathBuf,
}

/// The lease a DHCP server granted, as `dhclient` recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DhclientLease {
    pub interface: String,
    /// Address and prefix length (from `subnet-mask`).
    pub address: Option<Ipv4Cidr>,
    pub routers: Vec<Ipv4Addr>,
    pub nameservers: Vec<Ipv4Addr>,
    pub server: Option<Ipv4Addr>,
    /// `dhclient`'s own time stamps, such as `4 2024/05/02 10:16:00` (UTC).
    pub renew: Option<String>,
    pub expire: Option<String>,
}

impl DhcpClient {
    /// A client for `interface` keeping its pid and lease files in `state_dir`.
    pub fn new(interface: &str, state_dir: &Path) -> Self {
        DhcpClient {
            interface: interface.to_owned(),
            program: PathBuf::from("dhclient"),
            script: PathBuf::from(DHCLIENT_SCRIPT),
            pid_file: state_dir.join(format!("dhclient.{interface}.pid")),
            lease_file: state_dir.join(format!("dhclient.{interface}.leases")),
        }
    }

    /// `-d -sf SCRIPT -pf PIDFILE -lf LEASEFILE IFACE`: foreground, so the supervisor sees it exit.
    pub fn args(&self) -> Vec<OsString> {
        vec![
            "-d".into(),
            "-sf".into(),
            self.script.clone().into(),
            "-pf".into(),
            self.pid_file.clone().into(),
            "-lf".into(),
            self.lease_file.clone().into(),
            self.interface.clone().into(),
        ]
    }

    /// Starts `dhclient`; it is killed when the returned child is dropped.
    pub fn spawn(&self) -> Result<Child, DhclientError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(self.args()).kill_on_drop(true);
        // Die with sysconfd even when it is killed outright.
        // SAFETY: prctl is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                    .map_err(io::Error::from)
            });
        }
        cmd.spawn().map_err(|source| DhclientError::Spawn {
            interface: self.interface.clone(),
            source,
        })
    }

    /// Keeps `dhclient` running until `stop` turns true, restarting it after
    /// an exit with a back-off from 1 to 30 seconds.
    pub async fn supervise(&self, mut stop: watch::Receiver<bool>) -> Result<(), DhclientError> {
        let mut backoff = Duration::from_secs(1);
        while !*stop.borrow() {
            let mut child = self.spawn()?;
            tokio::select! {
                _ = child.wait() => {}
                _ = stop.changed() => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => break,
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
        Ok(())
    }

    /// The newest lease in the lease file, if any.
    pub fn lease(&self) -> Result<Option<DhclientLease>, DhclientError> {
        match std::fs::read_to_string(&self.lease_file) {
            Ok(text) => Ok(parse_dhclient_leases(&text).pop()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(DhclientError::DhclientLease {
                path: self.lease_file.clone(),
                source,
            }),
        }
    }
}

/// Every `lease { … }` block of a dhclient lease file, oldest first.
pub fn parse_dhclient_leases(text: &str) -> Vec<DhclientLease> {
    let mut leases = Vec::new();
    let mut current: Option<(DhclientLease, Option<Ipv4Addr>, Option<Ipv4Addr>)> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("lease") && line.ends_with('{') {
            current = Some(Default::default());
        } else if line == "}" {
            if let Some((mut lease, addr, mask)) = current.take() {
                lease.address = addr.and_then(|a| Ipv4Cidr::new(a, mask.map_or(32, prefix_of)));
                leases.push(lease);
            }
        } else if let Some((lease, addr, mask)) = current.as_mut() {
            read_statement(line.trim_end_matches(';'), lease, addr, mask);
        }
    }
    leases
}

fn read_statement(
    stmt: &str,
    lease: &mut DhclientLease,
    addr: &mut Option<Ipv4Addr>,
    mask: &mut Option<Ipv4Addr>,
) {
    let stmt = stmt.strip_prefix("option ").unwrap_or(stmt);
    let Some((key, value)) = stmt.split_once(' ') else {
        return;
    };
    match key {
        "interface" => lease.interface = value.trim_matches('"').to_owned(),
        "fixed-address" => *addr = value.parse().ok(),
        "subnet-mask" => *mask = value.parse().ok(),
        "routers" => lease.routers = ip_list(value),
        "domain-name-servers" => lease.nameservers = ip_list(value),
        "dhcp-server-identifier" => lease.server = value.parse().ok(),
        "renew" => lease.renew = Some(value.to_owned()),
        "expire" => lease.expire = Some(value.to_owned()),
        _ => {}
    }
}

fn ip_list(value: &str) -> Vec<Ipv4Addr> {
    value
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn prefix_of(mask: Ipv4Addr) -> u8 {
    u32::from(mask).leading_ones() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASES: &str = r#"lease {
  interface "veth0";
  fixed-address 10.9.0.40;
  option subnet-mask 255.255.255.0;
  option routers 10.9.0.1;
  option dhcp-lease-time 600;
  option domain-name-servers 10.9.0.1,10.9.0.2;
  option dhcp-server-identifier 10.9.0.1;
  renew 4 2024/05/02 10:11:12;
  expire 4 2024/05/02 10:16:00;
}
lease {
  interface "veth0";
  fixed-address 10.9.0.41;
  option subnet-mask 255.255.0.0;
}
"#;

    #[test]
    fn command_line_runs_in_the_foreground_with_our_files() {
        let c = DhcpClient::new("eth1", Path::new("/run/telbox"));
        let args: Vec<String> = c
            .args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-d",
                "-sf",
                "/sbin/dhclient-script",
                "-pf",
                "/run/telbox/dhclient.eth1.pid",
                "-lf",
                "/run/telbox/dhclient.eth1.leases",
                "eth1"
            ]
        );
    }

    #[test]
    fn lease_file_blocks_are_read_in_order() {
        let leases = parse_dhclient_leases(LEASES);
        assert_eq!(leases.len(), 2);
        let first = &leases[0];
        assert_eq!(first.interface, "veth0");
        assert_eq!(first.address, Some("10.9.0.40/24".parse().unwrap()));
        assert_eq!(first.routers, [Ipv4Addr::new(10, 9, 0, 1)]);
        assert_eq!(
            first.nameservers,
            [Ipv4Addr::new(10, 9, 0, 1), Ipv4Addr::new(10, 9, 0, 2)]
        );
        assert_eq!(first.server, Some(Ipv4Addr::new(10, 9, 0, 1)));
        assert_eq!(first.expire.as_deref(), Some("4 2024/05/02 10:16:00"));
        assert_eq!(leases[1].address, Some("10.9.0.41/16".parse().unwrap()));
    }

    #[test]
    fn a_missing_lease_file_means_no_lease_yet() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(DhcpClient::new("eth1", dir.path()).lease().unwrap(), None);
    }
}
