//! The services HA starts and stops (Asterisk by default), by unit name:
//! systemd units in production, programs given on sysconfd's command line
//! (`--ha-program NAME=PATH`) where sysconfd supervises.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::services::{Program, ServiceState, ServicesError, Supervisor, Systemd};

pub enum HaServices {
    Systemd(Systemd),
    Supervise(Supervisor<String>),
    /// `--services none`: nothing is started or stopped.
    Unmanaged,
}

impl HaServices {
    /// Supervised programs, each logging to `STATE_DIR/NAME.log`. Like
    /// services under systemd, they outlive a restart of sysconfd, which
    /// finds them again by `STATE_DIR/NAME.pid`.
    pub fn supervise(programs: &BTreeMap<String, PathBuf>, state_dir: &Path) -> Self {
        HaServices::Supervise(Supervisor::new(programs.iter().map(|(name, path)| {
            let mut program =
                Program::new([path.clone()]).log_to(&state_dir.join(format!("{name}.log")));
            program.pidfile = Some(state_dir.join(format!("{name}.pid")));
            program.outlives_sysconfd = true;
            program.note_pidfile = true;
            (name.clone(), program)
        })))
    }

    fn unit(name: &str) -> String {
        format!("{name}.service")
    }

    pub async fn start(&self, name: &str) -> Result<(), ServicesError> {
        match self {
            HaServices::Systemd(s) => s.start_unit(&Self::unit(name)).await,
            HaServices::Supervise(s) => s.start(name.to_owned()).await,
            HaServices::Unmanaged => Ok(()),
        }
    }

    pub async fn stop(&self, name: &str) -> Result<(), ServicesError> {
        match self {
            HaServices::Systemd(s) => s.stop_unit(&Self::unit(name)).await,
            HaServices::Supervise(s) => s.stop(name.to_owned()).await,
            HaServices::Unmanaged => Ok(()),
        }
    }

    pub async fn state(&self, name: &str) -> ServiceState {
        match self {
            HaServices::Systemd(s) => s
                .unit_state(&Self::unit(name))
                .await
                .unwrap_or(ServiceState::Other("unknown".into())),
            HaServices::Supervise(s) if s.knows(&name.to_owned()) => s.state(name.to_owned()),
            HaServices::Supervise(_) => ServiceState::Inactive,
            HaServices::Unmanaged => ServiceState::Unmanaged,
        }
    }
}
