//! The machine: files under a root prefix, the kernel's network stack over
//! rtnetlink, the daemons (systemd or sysconfd's supervisor), commands,
//! `dhclient`, and sysfs and /proc read through hwmgr. The network and the
//! daemons may be absent (`--no-network`, `--services none`), and then
//! their actions are never planned.

use std::io;
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use hwmgr::detect::{DetectError, Inventory};
use hwmgr::firmware::{FirmwareError, FirmwarePresence};
use hwmgr::status::{SpanStatus, StatusError};

use super::dhcp_clients::DhcpClients;
use super::netlink::Netlink;
use super::{commands, files, FileState, Os, OsError};
use crate::dhcp::KeaPaths;
use crate::host::HostError;
use crate::network::{DhclientLease, NetAction, NetError, NetState};
use crate::ntp::{ChronyPaths, NtpError, NtpStatus};
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

pub struct RealOs {
    root: Root,
    state_dir: PathBuf,
    net: Option<Netlink>,
    services: Option<Services>,
    /// Present when sysconfd runs processes (not with `--services none`).
    dhcp_clients: Option<DhcpClients>,
}

impl RealOs {
    pub async fn open(
        network: bool,
        mode: ServicesMode,
        root: &Root,
        state_dir: &Path,
    ) -> Result<RealOs, OsError> {
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
        let dhcp_clients = (mode != ServicesMode::None).then(|| DhcpClients::new(root, state_dir));
        Ok(RealOs {
            root: root.clone(),
            state_dir: state_dir.to_owned(),
            net,
            services,
            dhcp_clients,
        })
    }
}

impl Os for RealOs {
    fn read_file(&self, path: &Path) -> io::Result<Option<FileState>> {
        files::read(&self.root.path(path))
    }

    fn read_secret_file(&self, path: &Path) -> io::Result<String> {
        hwmgr::bnfos::read_secret_file(&self.root.path(path))
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: u32, durable: bool) -> io::Result<()> {
        let write = if durable {
            files::write_atomic
        } else {
            files::write_replace
        };
        write(&self.root.path(path), contents, mode)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(self.root.path(path))
    }

    fn keep_file(&self, path: &Path) -> io::Result<()> {
        files::keep(&self.root.path(path))
    }

    fn put_back_kept(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<bool> {
        files::put_back_kept(&self.root.path(path), contents, mode)
    }

    fn drop_kept(&self, path: &Path) -> io::Result<()> {
        files::drop_kept(&self.root.path(path))
    }

    fn hostname(&self) -> Result<String, HostError> {
        super::host::get()
    }

    fn set_hostname(&self, name: &str) -> Result<(), HostError> {
        super::host::set(name)
    }

    fn observe_network(&self) -> BoxFuture<'_, Result<Option<NetState>, NetError>> {
        Box::pin(async move {
            match &self.net {
                Some(n) => Ok(Some(n.observe().await?)),
                None => Ok(None),
            }
        })
    }

    fn apply_network<'a>(
        &'a self,
        actions: &'a [NetAction],
    ) -> BoxFuture<'a, Result<(), NetError>> {
        Box::pin(async move {
            match (&self.net, actions) {
                (Some(n), [one]) => n.apply(one).await,
                (Some(n), _) => n.apply_all(actions).await,
                (None, _) => Ok(()),
            }
        })
    }

    fn service_state(&self, service: Service) -> BoxFuture<'_, Option<ServiceState>> {
        Box::pin(async move {
            match &self.services {
                Some(s) => s.state(service).await.ok(),
                None => None,
            }
        })
    }

    fn refresh_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>> {
        Box::pin(async move {
            match &self.services {
                Some(s) => s.config_changed(service).await,
                None => Ok(()),
            }
        })
    }

    fn stop_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>> {
        Box::pin(async move {
            match &self.services {
                Some(s) => s.stop(service).await,
                None => Ok(()),
            }
        })
    }

    fn check_config(&self, service: Service, contents: &str) -> Result<(), String> {
        match service {
            Service::Dhcp => {
                crate::dhcp::check_contents(contents, crate::dhcp::InterfaceCheck::Skip)
                    .map_err(|e| format!("kea-dhcp4 refuses the generated configuration: {e}"))
            }
            Service::Ntp => crate::ntp::check_contents(contents)
                .map_err(|e| format!("chronyd refuses the generated configuration: {e}")),
            Service::Vrrp => crate::ha::check_contents(contents)
                .map_err(|e| format!("keepalived refuses the generated configuration: {e}")),
        }
    }

    fn run<'a>(&'a self, argv: &'a [String]) -> BoxFuture<'a, Result<(), OsError>> {
        Box::pin(commands::run_one(&self.root, argv))
    }

    fn dhcp_client_links(&self) -> Option<Vec<String>> {
        self.dhcp_clients.as_ref().map(DhcpClients::links)
    }

    fn start_dhcp_client(&self, link: &str) -> io::Result<()> {
        match &self.dhcp_clients {
            Some(c) => c.start(link),
            None => Ok(()),
        }
    }

    fn stop_dhcp_client(&self, link: &str) {
        if let Some(c) = &self.dhcp_clients {
            c.stop(link);
        }
    }

    fn dhcp_client_leases(&self) -> Vec<(String, Option<DhclientLease>)> {
        self.dhcp_clients
            .as_ref()
            .map(DhcpClients::leases)
            .unwrap_or_default()
    }

    fn telephony_hardware(&self) -> Result<Inventory, DetectError> {
        hwmgr::detect::scan(&self.root)
    }

    fn firmware_present(&self) -> Result<FirmwarePresence, FirmwareError> {
        let root = &self.root;
        let catalog = hwmgr::firmware::Catalog::for_root(root)?;
        FirmwarePresence::observe(root, &catalog)
    }

    fn spans(&self) -> Result<Vec<SpanStatus>, StatusError> {
        hwmgr::status::read_spans(&self.root)
    }

    fn dhcp_server_leases(&self) -> Result<Vec<crate::dhcp::KeaLease>, crate::dhcp::KeaError> {
        crate::dhcp::leases(&KeaPaths::under(&self.state_dir).lease_file)
    }

    fn ntp_status(&self) -> Result<NtpStatus, NtpError> {
        crate::ntp::status(&ChronyPaths::for_box(&self.root, &self.state_dir).socket)
    }
}

fn supervisor(root: &Root, state_dir: &Path) -> Supervisor {
    let kea_conf = root.path(crate::dhcp::KEA_CONF);
    let chrony_conf = root.path(crate::ntp::CHRONY_CONF);
    let chrony = ChronyPaths::for_box(root, state_dir);
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
