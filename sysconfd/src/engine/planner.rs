//! Planning: the difference between the desired state and what the system
//! has now, as an ordered list of actions (network, files, host name,
//! daemons). An up-to-date system gives an empty plan.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::action::{Action, Plan, ServiceChange};
use super::desired::Desired;
use super::{Engine, EngineError};
use appliance::config::network::Method;
use hwmgr::render::GeneratedFile;

use crate::files::FileSpec;
use crate::services::Service;
use crate::{dhcp, network, ntp};

impl Engine {
    pub(super) async fn plan_for(&self, desired: &Desired) -> Result<Plan, EngineError> {
        let mut actions = self.network_actions(desired).await?;
        let files = self.file_actions(desired);
        actions.extend(files);
        actions.extend(self.hostname_action(desired));
        actions.extend(self.service_actions(desired, &actions).await);
        actions.extend(self.dhcp_client_actions(desired));
        actions.extend(self.dahdi_actions(desired));
        Ok(Plan { actions })
    }

    async fn network_actions(&self, desired: &Desired) -> Result<Vec<Action>, EngineError> {
        let Some(observed) = self.edges.observe_network().await? else {
            return Ok(Vec::new());
        };
        let missing = network::absent_links(&desired.config.network, &observed);
        if !missing.is_empty() {
            return Err(EngineError::MissingLinks(missing));
        }
        Ok(network::plan(&desired.config.network, &observed)
            .into_iter()
            .map(Action::Net)
            .collect())
    }

    fn file_actions(&self, desired: &Desired) -> Vec<Action> {
        let root = &self.opts.root;
        let wanted: BTreeSet<&PathBuf> = desired.paths().collect();
        let removals = self
            .owned_paths(desired)
            .into_iter()
            .filter(|p| !wanted.contains(p) && root.path(p).exists())
            .map(|path| Action::RemoveFile { path });
        let writes = desired
            .files
            .iter()
            .filter(|f| !f.is_current(root))
            .map(write_action);
        removals.chain(writes).collect()
    }

    fn hostname_action(&self, desired: &Desired) -> Option<Action> {
        if !self.opts.set_hostname {
            return None;
        }
        let want = &desired.config.system.hostname;
        let have = crate::host::current_hostname().ok();
        (have.as_deref() != Some(want.as_str())).then(|| Action::SetHostname {
            hostname: want.clone(),
        })
    }

    /// A daemon is refreshed when its file changes or when it should run and
    /// does not; stopped when no longer wanted.
    async fn service_actions(&self, desired: &Desired, planned: &[Action]) -> Vec<Action> {
        let mut out = Vec::new();
        for service in Service::ALL {
            let running = self
                .edges
                .service_state(service)
                .await
                .map(|s| s.is_running());
            let refresh = |service| Action::Service {
                service,
                change: ServiceChange::Refresh,
            };
            match (desired.services.get(&service), running) {
                (_, None) => {}
                (Some(file), Some(running)) => {
                    if !running || planned.iter().any(|a| a.file() == Some(file)) {
                        out.push(refresh(service));
                    }
                }
                (None, Some(true)) => out.push(Action::Service {
                    service,
                    change: ServiceChange::Stop,
                }),
                (None, Some(false)) => {}
            }
        }
        out
    }
}

impl Engine {
    /// A client for each managed `method = "dhcp"` link; none for the others.
    fn dhcp_client_actions(&self, desired: &Desired) -> Vec<Action> {
        let Some(clients) = &self.edges.dhcp_clients else {
            return Vec::new();
        };
        let running = clients.links();
        let net = &desired.config.network;
        let unmanaged: Vec<&str> = net
            .interface
            .iter()
            .filter(|i| !i.managed)
            .map(|i| i.name.as_str())
            .collect();
        let wanted: Vec<String> = net
            .links()
            .filter(|l| l.method == Method::Dhcp && !unmanaged.contains(&l.name.as_str()))
            .map(|l| l.name.to_string())
            .collect();
        let start = wanted
            .iter()
            .filter(|l| !running.contains(l))
            .map(|link| Action::DhcpClient {
                link: link.clone(),
                run: true,
            });
        let stop = running
            .iter()
            .filter(|l| !wanted.contains(l))
            .map(|link| Action::DhcpClient {
                link: link.clone(),
                run: false,
            });
        stop.chain(start).collect()
    }

    /// The DAHDI steps the files about to change call for (none when they are current).
    fn dahdi_actions(&self, desired: &Desired) -> Vec<Action> {
        let Some(dahdi) = &desired.dahdi else {
            return Vec::new();
        };
        let on_disk: Vec<GeneratedFile> = dahdi
            .files
            .iter()
            .filter_map(|f| {
                let contents = std::fs::read_to_string(self.opts.root.path(&f.path)).ok()?;
                Some(GeneratedFile {
                    path: f.path.clone(),
                    contents,
                    mode: f.mode,
                })
            })
            .collect();
        hwmgr::render::apply_steps(&on_disk, &dahdi.files, &dahdi.inventory)
            .into_iter()
            .map(Action::Dahdi)
            .collect()
    }
}

fn write_action(f: &FileSpec) -> Action {
    Action::WriteFile {
        path: f.path.clone(),
        mode: f.mode,
        contents: f.contents.clone(),
        secret: Desired::is_secret(&f.path),
    }
}

/// The daemons' own checks (`kea-dhcp4 -t`, `chronyd -p`) on the files
/// about to change, each on a blocking thread so the plan goes on beside
/// them. A file a daemon would refuse stops the apply with its message.
pub(super) struct DaemonChecks(Vec<tokio::task::JoinHandle<Result<(), EngineError>>>);

impl DaemonChecks {
    pub(super) fn start(desired: &Desired, root: &crate::root::Root) -> DaemonChecks {
        let changing = desired.services.iter().filter_map(|(service, path)| {
            let file = desired.files.iter().find(|f| &f.path == path)?;
            (!file.is_current(root)).then(|| (*service, file.contents.clone()))
        });
        let checks = changing
            .map(|(service, contents)| {
                tokio::task::spawn_blocking(move || check_daemon_file(service, &contents))
            })
            .collect();
        DaemonChecks(checks)
    }

    /// Waits for every check still running; a second call has none left.
    pub(super) async fn finish(&mut self) -> Result<(), EngineError> {
        for check in std::mem::take(&mut self.0) {
            check.await.map_err(|e| {
                EngineError::Refused(format!("a daemon check did not finish: {e}"))
            })??;
        }
        Ok(())
    }
}

fn check_daemon_file(service: Service, contents: &str) -> Result<(), EngineError> {
    match service {
        Service::Dhcp => dhcp::check_contents(contents, dhcp::InterfaceCheck::Skip).map_err(|e| {
            EngineError::Refused(format!(
                "kea-dhcp4 refuses the generated configuration: {e}"
            ))
        }),
        Service::Ntp => ntp::check_contents(contents).map_err(|e| {
            EngineError::Refused(format!("chronyd refuses the generated configuration: {e}"))
        }),
        Service::Vrrp => crate::ha::check_contents(contents).map_err(|e| {
            EngineError::Refused(format!(
                "keepalived refuses the generated configuration: {e}"
            ))
        }),
    }
}
