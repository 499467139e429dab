//! Services: the daemons sysconfd configures (Kea DHCPv4, chronyd, keepalived), run by
//! systemd over D-Bus in production, or by sysconfd's own supervisor where
//! there is no systemd (tests, `make demo`, `--services supervise`).
//!
//! The engine builds one [`Services`] at start:
//!
//! * `Services::new(Backend::Systemd(Systemd::system().await?), &kea_paths)`, or
//! * `Services::new(Backend::Supervise(Supervisor::new(programs)), &kea_paths)`
//!   with [`Program::kea_dhcp4`] and [`Program::chronyd`],
//!
//! and, when the plan says a service's configuration changed, calls
//! [`Services::config_changed`]: a running Kea re-reads its file over its
//! control socket (`config-reload`: leases and sockets kept, a refused file
//! leaves the old configuration in force); a running chronyd is restarted;
//! a stopped service is started. [`Services::stop`] when a service is
//! switched off, [`Services::state`] for status.

mod systemd;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::os::supervise::{running_program, Program, Supervisor};
pub use systemd::Systemd;

use crate::dhcp::{self, KeaPaths};

/// A daemon sysconfd configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Kea DHCPv4.
    Dhcp,
    /// chronyd.
    Ntp,
    /// keepalived, the VRRP failure detector of an HA pair.
    Vrrp,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Dhcp, Service::Ntp, Service::Vrrp];
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Dhcp => "dhcp",
            Service::Ntp => "ntp",
            Service::Vrrp => "vrrp",
        })
    }
}

/// Whether a service runs: the contract's type, so status replies carry it as it is.
pub use appliance::views::ServiceState;

/// The state systemd's `ActiveState` property names.
pub fn state_from_systemd(s: &str) -> ServiceState {
    match s {
        "active" => ServiceState::Active,
        "reloading" => ServiceState::Reloading,
        "activating" => ServiceState::Activating,
        "deactivating" => ServiceState::Deactivating,
        "inactive" => ServiceState::Inactive,
        "failed" => ServiceState::Failed,
        other => ServiceState::Other(other.to_owned()),
    }
}

/// What can go wrong starting, stopping or asking about a service.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    #[error("systemd: {0}")]
    Systemd(#[from] zbus::Error),
    #[error("{service} is not configured in the supervisor")]
    Unknown { service: String },
    #[error("could not start {service}: {source}")]
    Spawn {
        service: String,
        source: std::io::Error,
    },
    #[error("could not signal {service}: {source}")]
    Signal { service: String, source: nix::Error },
    #[error("{service} is not running")]
    NotRunning { service: String },
    #[error("{unit}: its job is still {state} after {} s (it waits on another unit; see `systemctl list-jobs`)", waited.as_secs())]
    JobTimeout {
        unit: String,
        state: String,
        waited: std::time::Duration,
    },
    #[error(transparent)]
    Dhcp(#[from] dhcp::KeaError),
}

/// Who runs the daemons.
#[derive(Debug)]
pub enum Backend {
    Systemd(Systemd),
    Supervise(Supervisor),
}

/// The services edge the engine drives.
#[derive(Debug)]
pub struct Services {
    backend: Backend,
    kea_socket: PathBuf,
}

impl Services {
    /// Services run by `backend`; `kea` tells where Kea's control socket is.
    pub fn new(backend: Backend, kea: &KeaPaths) -> Self {
        Services {
            backend,
            kea_socket: kea.control_socket.clone(),
        }
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub async fn start(&self, service: Service) -> Result<(), ServicesError> {
        match &self.backend {
            Backend::Systemd(s) => s.start(service).await,
            Backend::Supervise(s) => s.start(service).await,
        }
    }

    pub async fn stop(&self, service: Service) -> Result<(), ServicesError> {
        match &self.backend {
            Backend::Systemd(s) => s.stop(service).await,
            Backend::Supervise(s) => s.stop(service).await,
        }
    }

    pub async fn restart(&self, service: Service) -> Result<(), ServicesError> {
        match &self.backend {
            Backend::Systemd(s) => s.restart(service).await,
            Backend::Supervise(s) => s.restart(service).await,
        }
    }

    pub async fn state(&self, service: Service) -> Result<ServiceState, ServicesError> {
        match &self.backend {
            Backend::Systemd(s) => s.state(service).await,
            Backend::Supervise(s) => Ok(s.state(service)),
        }
    }

    /// Makes a running service take its new configuration while keeping its
    /// state: Kea by `config-reload` on its control socket (falling back to
    /// the backend's reload: systemd's ReloadOrRestartUnit, or SIGHUP),
    /// chronyd, which cannot reload, by a restart.
    pub async fn reload(&self, service: Service) -> Result<(), ServicesError> {
        if service == Service::Dhcp {
            let socket = self.kea_socket.clone();
            let answered = tokio::task::spawn_blocking(move || dhcp::reload(&socket))
                .await
                .unwrap_or_else(|e| Err(dhcp::KeaError::Io(std::io::Error::other(e))));
            match answered {
                Ok(()) => return Ok(()),
                Err(e @ dhcp::KeaError::Command { .. }) => return Err(e.into()),
                Err(e) => tracing::debug!(
                    "Kea control socket: {e}; reloading through the service manager"
                ),
            }
        }
        match (&self.backend, service) {
            (_, Service::Ntp) => self.restart(service).await,
            (Backend::Systemd(s), _) => s.reload_or_restart(service).await,
            (Backend::Supervise(s), _) => s.reload(service),
        }
    }

    /// What the engine calls when the plan changed a service's configuration:
    /// reload it when it runs, start it otherwise.
    pub async fn config_changed(&self, service: Service) -> Result<(), ServicesError> {
        if self.state(service).await?.is_running() {
            self.reload(service).await
        } else {
            self.start(service).await
        }
    }
}
