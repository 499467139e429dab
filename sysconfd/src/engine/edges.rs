//! The edges the engine acts through besides files: the kernel's network
//! stack and the daemons. Either may be absent (`--no-network`,
//! `--services none`), and then its actions are never planned.

use std::path::Path;

use super::dhcp_clients::DhcpClients;
use crate::dhcp::KeaPaths;
use crate::network::{NetAction, NetError, NetState, Netlink};
use crate::ntp::ChronyPaths;
use crate::root::Root;
use crate::services::{
    Backend, Program, Service, ServiceState, Services, ServicesError, Supervisor, Systemd,
};

/// How sysconfd runs the daemons it configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServicesMode {
    /// systemd units over D-Bus (production).
    Systemd,
    /// sysconfd starts and watches the daemons itself (no systemd: tests, the demo).
    Supervise,
    /// Leave the daemons alone.
    None,
}

pub struct Edges {
    pub net: Option<Netlink>,
    pub services: Option<Services>,
    /// Present when sysconfd runs processes (not with `--services none`).
    pub dhcp_clients: Option<DhcpClients>,
}

impl Edges {
    pub async fn open(
        network: bool,
        mode: ServicesMode,
        root: &Root,
        state_dir: &Path,
    ) -> Result<Edges, EdgeError> {
        let net = if network {
            Some(Netlink::connect()?)
        } else {
            None
        };
        let kea = KeaPaths::under(state_dir);
        let services = match mode {
            ServicesMode::None => None,
            ServicesMode::Systemd => Some(Services::new(
                Backend::Systemd(Systemd::system().await?),
                &kea,
            )),
            ServicesMode::Supervise => Some(Services::new(
                Backend::Supervise(supervisor(root, state_dir)),
                &kea,
            )),
        };
        let dhcp_clients = (mode != ServicesMode::None).then(|| DhcpClients::new(state_dir));
        Ok(Edges {
            net,
            services,
            dhcp_clients,
        })
    }

    pub async fn observe_network(&self) -> Result<Option<NetState>, EdgeError> {
        match &self.net {
            Some(n) => Ok(Some(n.observe().await?)),
            None => Ok(None),
        }
    }

    pub async fn apply_network(&self, action: &NetAction) -> Result<(), EdgeError> {
        match &self.net {
            Some(n) => Ok(n.apply(action).await?),
            None => Ok(()),
        }
    }

    /// Applies a run of network actions, like changes sent together.
    pub async fn apply_network_all(&self, actions: &[NetAction]) -> Result<(), EdgeError> {
        match &self.net {
            Some(n) => Ok(n.apply_all(actions).await?),
            None => Ok(()),
        }
    }

    /// A daemon's state; `None` when sysconfd does not run daemons.
    pub async fn service_state(&self, service: Service) -> Option<ServiceState> {
        match &self.services {
            Some(s) => s.state(service).await.ok(),
            None => None,
        }
    }

    pub async fn config_changed(&self, service: Service) -> Result<(), EdgeError> {
        match &self.services {
            Some(s) => Ok(s.config_changed(service).await?),
            None => Ok(()),
        }
    }

    pub async fn stop(&self, service: Service) -> Result<(), EdgeError> {
        match &self.services {
            Some(s) => Ok(s.stop(service).await?),
            None => Ok(()),
        }
    }
}

fn supervisor(root: &Root, state_dir: &Path) -> Supervisor {
    let kea_conf = root.path(crate::dhcp::KEA_CONF);
    let chrony_conf = root.path(crate::ntp::CHRONY_CONF);
    let chrony = ChronyPaths::under(state_dir);
    // Under a test root the machine's clock is not ours to set, and chronyd
    // keeps its user so it still dies with sysconfd (a uid change clears the
    // parent-death signal).
    let on_system = root.is_system();
    let mut chronyd = Program::chronyd(&chrony_conf, &chrony, on_system);
    if !on_system {
        chronyd = chronyd.with_args(&["-u", "root"]);
    }
    Supervisor::new([
        (
            Service::Dhcp,
            Program::kea_dhcp4(&kea_conf, state_dir).log_to(&state_dir.join("kea-dhcp4.log")),
        ),
        (Service::Ntp, chronyd.log_to(&state_dir.join("chronyd.log"))),
        (
            Service::Vrrp,
            Program::keepalived(&root.path(crate::ha::render::KEEPALIVED_CONF), state_dir)
                .log_to(&state_dir.join("keepalived.log")),
        ),
    ])
}

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("services: {0}")]
    Services(#[from] ServicesError),
}
