//! What `[ha]` means for this box, as plain values: the VRRP paths, the
//! priorities, the delays, the services and checks, the relays to throw.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use appliance::config::ha::HaRole;
use appliance::config::values::Ipv4Cidr;
use appliance::config::Config;

use super::HaError;

/// keepalived's base priority of the box in the master role.
pub const MASTER_PRIORITY: u8 = 200;
/// keepalived's base priority of the box in the slave role.
pub const SLAVE_PRIORITY: u8 = 100;
/// What the priority file holds to keep a box below its peer: a master
/// waiting out its failback delay (200 − 150 < 100).
pub const HOLD_BACK: i32 = -150;
/// What the priority file holds to lift a box above its peer (`Promote`):
/// a slave then outranks the master (100 + 150 > 200).
pub const RAISE: i32 = 150;

/// How often the health checks run, and how many failures in a row count.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(200);
pub const CHECK_FALL: u32 = 2;
/// Longest a check command may take; past it, it failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// After the services start, checks fail for this long without counting.
pub const CHECK_GRACE: Duration = Duration::from_millis(1500);

/// One network path to the peer: a VRRP instance of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpPath {
    /// keepalived's instance name (`telbox`, `telbox_second`).
    pub instance: &'static str,
    pub interface: String,
    /// This box's address on the path, when the config gives it.
    pub source: Option<Ipv4Addr>,
    pub peer: Ipv4Addr,
    /// The address the instance advertises (VRRPv3 needs one); on `lo`,
    /// never the service address, which sysconfd moves itself.
    pub marker: Ipv4Cidr,
}

/// A health check of one of the HA services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub service: String,
    pub argv: Vec<String>,
}

/// The box's side in the pair, for what it runs and what it throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Master,
    Slave,
    /// No pair: the box is always the active one and, with a Berofos in the
    /// bypass scenario, keeps its watchdog kicked while healthy.
    Standalone,
}

/// Everything the HA runtime needs from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaSettings {
    pub side: Side,
    pub vrid: u8,
    pub advert: Duration,
    pub primary: Option<VrrpPath>,
    pub second: Option<VrrpPath>,
    /// The service address and the link it goes on.
    pub virtual_address: Option<(Ipv4Cidr, String)>,
    pub failover_delay: Duration,
    pub failback_delay: Duration,
    pub services: Vec<String>,
    pub checks: Vec<Check>,
    /// The `fosN` names of the Berofos to throw (or to kick when standalone).
    pub berofos: Vec<String>,
}

/// Where the HA runtime keeps its files (under the state directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaPaths {
    pub dir: PathBuf,
}

impl HaPaths {
    pub fn under(state_dir: &Path) -> Self {
        HaPaths {
            dir: state_dir.join("ha"),
        }
    }
    /// keepalived's notify FIFO: its state changes, in order.
    pub fn fifo(&self) -> PathBuf {
        self.dir.join("notify.fifo")
    }
    /// keepalived `track_file` with weight 0: non-zero puts the box in FAULT.
    pub fn health_file(&self) -> PathBuf {
        self.dir.join("health")
    }
    /// keepalived `track_file` with weight 1: added to the base priority.
    pub fn priority_file(&self) -> PathBuf {
        self.dir.join("priority")
    }
    /// What the runtime has done, kept across restarts.
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
}

impl HaSettings {
    /// The HA settings of `config`; `None` when the box has nothing to do
    /// for HA (no pair, no Berofos watchdog to kick). `key` is the shared
    /// key file's content.
    pub fn of(config: &Config, key: Option<&[u8]>) -> Result<Option<HaSettings>, HaError> {
        let ha = &config.ha;
        let side = match ha.role {
            HaRole::Master => Side::Master,
            HaRole::Slave => Side::Slave,
            HaRole::Disabled if ha.berofos.is_some() => Side::Standalone,
            HaRole::Disabled => return Ok(None),
        };
        let berofos = match &ha.berofos {
            Some(name) => vec![name.to_string()],
            None => config.berofos.iter().map(|b| b.name.to_string()).collect(),
        };
        let services = ha.services.iter().map(|s| s.to_string()).collect();
        let checks = ha
            .check
            .iter()
            .map(|c| Check {
                service: c.service.to_string(),
                argv: c.command.iter().map(|a| a.to_string()).collect(),
            })
            .collect();
        let mut settings = HaSettings {
            side,
            vrid: 0,
            advert: Duration::from_millis(u64::from(ha.heartbeat_interval_ms)),
            primary: None,
            second: None,
            virtual_address: None,
            failover_delay: Duration::from_secs(u64::from(ha.failover_delay_s)),
            failback_delay: Duration::from_secs(u64::from(ha.failback_delay_s)),
            services,
            checks,
            berofos,
        };
        if side == Side::Standalone {
            return Ok(Some(settings));
        }
        let key = key.ok_or(HaError::NoKey)?;
        if key.iter().all(u8::is_ascii_whitespace) {
            return Err(HaError::EmptyKey);
        }
        settings.vrid = vrid_of(key);
        let net = &config.network;
        let first_link = ha.link(net).ok_or(HaError::NoInterface)?;
        let peer = ha.peer.ok_or(HaError::NoPeer)?;
        settings.primary = Some(VrrpPath {
            instance: "telbox",
            interface: first_link.name.to_string(),
            source: first_link.address.map(|a| a.addr),
            peer,
            marker: marker(1),
        });
        if let (Some(peer), Some(dev)) = (ha.second_peer, &ha.second_interface) {
            let link = net.links().find(|l| l.name == dev);
            settings.second = Some(VrrpPath {
                instance: "telbox_second",
                interface: dev.to_string(),
                source: link.and_then(|l| l.address).map(|a| a.addr),
                peer,
                marker: marker(2),
            });
        }
        settings.virtual_address = ha
            .service_address(net)
            .map(|(link, address)| (address, link.to_owned()));
        Ok(Some(settings))
    }

    /// keepalived's base priority for this box.
    pub fn base_priority(&self) -> u8 {
        match self.side {
            Side::Master => MASTER_PRIORITY,
            _ => SLAVE_PRIORITY,
        }
    }

    /// The VRRP paths, the advert path first.
    pub fn paths(&self) -> impl Iterator<Item = &VrrpPath> {
        self.primary.iter().chain(self.second.iter())
    }
}

/// The advertised address of path `n`: link-local, on `lo`, the same on both boxes.
fn marker(n: u8) -> Ipv4Cidr {
    Ipv4Cidr::new(Ipv4Addr::new(169, 254, 112, n), 32).expect("a /32 is valid")
}

/// The virtual router id both boxes derive from their shared key (1–255),
/// so two pairs on one network never answer each other's adverts.
pub fn vrid_of(key: &[u8]) -> u8 {
    let trimmed = key.trim_ascii();
    // FNV-1a: stable across versions and machines.
    let mut hash: u32 = 0x811c_9dc5;
    for b in trimmed {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % 255) as u8 + 1
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pair on 10.9.0.0/24 (eth0, adverts) and 10.8.0.0/24 (eth1, second path).
    pub(crate) fn pair(side: Side) -> HaSettings {
        let path = |instance, interface: &str, net: u8, n| VrrpPath {
            instance,
            interface: interface.into(),
            source: Some(Ipv4Addr::new(10, net, 0, 1)),
            peer: Ipv4Addr::new(10, net, 0, 2),
            marker: marker(n),
        };
        HaSettings {
            side,
            vrid: 51,
            advert: Duration::from_millis(200),
            primary: Some(path("telbox", "eth0", 9, 1)),
            second: Some(path("telbox_second", "eth1", 8, 2)),
            virtual_address: None,
            failover_delay: Duration::ZERO,
            failback_delay: Duration::from_secs(3),
            services: vec!["asterisk".into()],
            checks: Vec::new(),
            berofos: vec!["fos1".into()],
        }
    }

    #[test]
    fn both_boxes_derive_the_same_router_id_from_the_key() {
        assert_eq!(vrid_of(b"s3cret\n"), vrid_of(b"s3cret"));
        assert_ne!(vrid_of(b"s3cret"), vrid_of(b"other"));
        assert!((1..=255).contains(&vrid_of(b"")));
    }
}
