//! Observing: one snapshot of everything the render and the plan need from
//! the machine, read through the OS seam before either runs. After it,
//! [`Desired::render`] and [`super::planner::plan`] are plain functions.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use appliance::config::values::Secret;
use appliance::config::{self, Config};
use hwmgr::detect::Inventory;
use hwmgr::firmware::FirmwarePresence;

use super::desired::{berofos_secret_path, Desired};
use super::{Engine, EngineError};
use crate::files::FileSpec;
use crate::network::NetState;
use crate::os::{FileState, Os};
use crate::root::Root;
use crate::services::Service;

/// The machine at one moment, as far as a config concerns it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The secrets stored for redacted passwords, by path.
    pub secrets: BTreeMap<PathBuf, Secret>,
    /// Each Berofos `password_file` the config names: its line, or why it
    /// cannot be read.
    pub password_files: BTreeMap<PathBuf, Result<String, SecretFileError>>,
    /// keepalived.conf, rendered from the HA key read under the root, when
    /// the box is one of an HA pair.
    pub keepalived: Option<FileSpec>,
    /// The telephony hardware and firmware, when a config declares telephony.
    pub telephony: Option<(Inventory, FirmwarePresence)>,
    /// Links, addresses and routes; `None` when sysconfd leaves the network alone.
    pub network: Option<NetState>,
    /// The kernel host name; `None` when sysconfd does not set it.
    pub hostname: Option<String>,
    /// Whether each daemon runs; empty when sysconfd runs no daemons.
    pub services: BTreeMap<Service, bool>,
    /// The links with a DHCP client; `None` when sysconfd runs no processes.
    pub dhcp_clients: Option<Vec<String>>,
    /// The files the desired state and the generation in force name, as found.
    pub files: BTreeMap<PathBuf, Option<FileState>>,
    /// The files the generation in force generated (removed when no longer wanted).
    pub owned: BTreeSet<PathBuf>,
}

/// Why a secret file could not be read (kept as data: the snapshot is cloned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFileError {
    pub kind: io::ErrorKind,
    pub message: String,
}

impl Observed {
    /// Whether the file is on the machine with exactly this content and mode.
    pub fn is_current(&self, spec: &FileSpec) -> bool {
        matches!(self.files.get(&spec.path), Some(Some(f)) if f.is(spec.contents.as_bytes(), spec.mode))
    }

    /// The file at `path` as found (`None` when absent or not read).
    pub fn file(&self, path: &Path) -> Option<&FileState> {
        self.files.get(path).and_then(Option::as_ref)
    }

    /// A password file's line, as [`hwmgr::bnfos::render`] reads it.
    pub fn password_file(&self, path: &Path) -> io::Result<String> {
        match self.password_files.get(path) {
            Some(Ok(line)) => Ok(line.clone()),
            Some(Err(e)) => Err(io::Error::new(e.kind, e.message.clone())),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} was not read", path.display()),
            )),
        }
    }
}

/// Reads what rendering `config` needs: stored secrets, password files,
/// the telephony hardware. Adds to `observed`.
pub(super) fn observe_inputs(
    os: &dyn Os,
    (root, state_dir): (&Root, &Path),
    config: &Config,
    observed: &mut Observed,
) -> Result<(), EngineError> {
    observed.keepalived = crate::ha::keepalived_file(config, root, state_dir)
        .map_err(super::desired::DesiredError::from)?;
    for dev in &config.berofos {
        if dev.password.as_ref().is_some_and(|p| p.is_redacted()) {
            let path = berofos_secret_path(dev.name.as_str());
            if observed.secrets.contains_key(&path) {
                continue;
            }
            let stored = os
                .read_file(&path)
                .ok()
                .flatten()
                .and_then(|f| String::from_utf8(f.contents).ok())
                .and_then(|text| text.trim_end().parse::<Secret>().ok());
            if let Some(secret) = stored {
                observed.secrets.insert(path, secret);
            }
        }
        if let (None, Some(path)) = (&dev.password, &dev.password_file) {
            let path = PathBuf::from(path.as_str());
            let read = os.read_secret_file(&path).map_err(|e| SecretFileError {
                kind: e.kind(),
                message: e.to_string(),
            });
            observed.password_files.insert(path, read);
        }
    }
    let t = &config.telephony;
    let declares = !(t.card.is_empty() && t.span.is_empty() && t.port.is_empty());
    if declares && observed.telephony.is_none() {
        let inventory = os
            .telephony_hardware()
            .map_err(super::desired::DesiredError::from)?;
        let firmware = os
            .firmware_present()
            .map_err(super::desired::DesiredError::from)?;
        observed.telephony = Some((inventory, firmware));
    }
    Ok(())
}

impl Engine {
    fn places(&self) -> (&Root, &Path) {
        (&self.opts.root, &self.opts.state_dir)
    }

    /// Observes what `config` needs, renders it, and reads the machine as
    /// far as the result and the generation in force concern it.
    pub(super) async fn observe(
        &self,
        config: &Config,
    ) -> Result<(Desired, Observed), EngineError> {
        let mut observed = Observed::default();
        observe_inputs(&*self.os, self.places(), config, &mut observed)?;
        let desired = self.render(config, &observed)?;
        observed.owned = self.owned_paths(&desired, &observed);
        self.observe_machine(&desired, &mut observed).await?;
        Ok((desired, observed))
    }

    /// Reads the machine as far as `desired` and the files in
    /// `observed.owned` concern it: the files, the network, the host name,
    /// the daemons, the DHCP clients.
    pub(super) async fn observe_machine(
        &self,
        desired: &Desired,
        observed: &mut Observed,
    ) -> Result<(), EngineError> {
        let os = &*self.os;
        let paths: BTreeSet<PathBuf> = desired
            .paths()
            .cloned()
            .chain(observed.owned.iter().cloned())
            .collect();
        observed.files = paths
            .into_iter()
            .map(|p| {
                let found = os.read_file(&p).ok().flatten();
                (p, found)
            })
            .collect();
        observed.network = os
            .observe_network()
            .await
            .map_err(crate::os::OsError::from)?;
        observed.hostname = if self.opts.set_hostname {
            os.hostname().ok()
        } else {
            None
        };
        observed.services.clear();
        for service in Service::ALL {
            if let Some(state) = os.service_state(service).await {
                observed.services.insert(service, state.is_running());
            }
        }
        observed.dhcp_clients = os.dhcp_client_links();
        Ok(())
    }

    /// Files the generation in force generated. When `desired` is that
    /// same config, these are its own files: no second parse to learn them.
    fn owned_paths(&self, desired: &Desired, observed: &Observed) -> BTreeSet<PathBuf> {
        let Ok(Some(current)) = self.opening.current() else {
            return Default::default();
        };
        if current.config == desired.redacted_config() {
            return desired.paths().cloned().collect();
        }
        let Ok(config) = config::load(&current.config, "current") else {
            return Default::default();
        };
        // The generation in force's own inputs, beside (not over) the desired one's.
        let mut inputs = observed.clone();
        if observe_inputs(&*self.os, self.places(), &config, &mut inputs).is_err() {
            return Default::default();
        }
        self.render(&config, &inputs)
            .map(|d| d.paths().cloned().collect())
            .unwrap_or_default()
    }
}
