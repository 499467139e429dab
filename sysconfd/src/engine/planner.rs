//! Planning: the difference between the desired state and what was
//! observed, as an ordered list of actions (network, files, host name,
//! daemons). A plain function: no I/O. An up-to-date system gives an
//! empty plan.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::action::{Action, Plan, ServiceChange};
use super::desired::Desired;
use super::observe::Observed;
use super::EngineError;
use appliance::config::network::Method;
use hwmgr::render::GeneratedFile;

use crate::files::FileSpec;
use crate::network;
use crate::os::Os;
use crate::services::Service;

/// The plan that takes the `observed` machine to `desired`.
pub fn plan(desired: &Desired, observed: &Observed) -> Result<Plan, EngineError> {
    let mut actions = network_actions(desired, observed)?;
    actions.extend(file_actions(desired, observed));
    actions.extend(hostname_action(desired, observed));
    let services = service_actions(desired, observed, &actions);
    actions.extend(services);
    actions.extend(dhcp_client_actions(desired, observed));
    actions.extend(dahdi_actions(desired, observed));
    Ok(Plan { actions })
}

fn network_actions(desired: &Desired, observed: &Observed) -> Result<Vec<Action>, EngineError> {
    let Some(net) = &observed.network else {
        return Ok(Vec::new());
    };
    let missing = network::absent_links(&desired.config.network, net);
    if !missing.is_empty() {
        return Err(EngineError::MissingLinks(missing));
    }
    let config = &desired.config;
    let kept = config.ha.service_address(&config.network);
    Ok(network::plan_keeping(&config.network, net, kept)
        .into_iter()
        .map(Action::Net)
        .collect())
}

fn file_actions(desired: &Desired, observed: &Observed) -> Vec<Action> {
    let wanted: BTreeSet<&PathBuf> = desired.paths().collect();
    let removals = observed
        .owned
        .iter()
        .filter(|p| !wanted.contains(p) && observed.file(p).is_some())
        .map(|path| Action::RemoveFile { path: path.clone() });
    let writes = desired
        .files
        .iter()
        .filter(|f| !observed.is_current(f))
        .map(write_action);
    removals.chain(writes).collect()
}

fn hostname_action(desired: &Desired, observed: &Observed) -> Option<Action> {
    let have = observed.hostname.as_deref()?;
    let want = &desired.config.system.hostname;
    (have != want.as_str()).then(|| Action::SetHostname {
        hostname: want.clone(),
    })
}

/// A daemon is refreshed when its file changes or when it should run and
/// does not; stopped when no longer wanted.
fn service_actions(desired: &Desired, observed: &Observed, planned: &[Action]) -> Vec<Action> {
    let mut out = Vec::new();
    for service in Service::ALL {
        let running = observed.services.get(&service).copied();
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

/// A client for each managed `method = "dhcp"` link; none for the others.
fn dhcp_client_actions(desired: &Desired, observed: &Observed) -> Vec<Action> {
    let Some(running) = &observed.dhcp_clients else {
        return Vec::new();
    };
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
fn dahdi_actions(desired: &Desired, observed: &Observed) -> Vec<Action> {
    let Some(dahdi) = &desired.dahdi else {
        return Vec::new();
    };
    let on_disk: Vec<GeneratedFile> = dahdi
        .files
        .iter()
        .filter_map(|f| {
            let found = observed.file(&f.path)?;
            Some(GeneratedFile {
                path: f.path.clone(),
                contents: String::from_utf8(found.contents.clone()).ok()?,
                mode: f.mode,
            })
        })
        .collect();
    hwmgr::render::apply_steps(&on_disk, &dahdi.files, &dahdi.inventory)
        .into_iter()
        .map(Action::Dahdi)
        .collect()
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
    pub(super) fn start(desired: &Desired, observed: &Observed, os: &Arc<dyn Os>) -> DaemonChecks {
        let changing = desired.services.iter().filter_map(|(service, path)| {
            let file = desired.files.iter().find(|f| &f.path == path)?;
            (!observed.is_current(file)).then(|| (*service, file.contents.clone()))
        });
        let checks = changing
            .map(|(service, contents)| {
                let os = Arc::clone(os);
                tokio::task::spawn_blocking(move || {
                    os.check_config(service, &contents)
                        .map_err(EngineError::Refused)
                })
            })
            .collect();
        DaemonChecks(checks)
    }

    /// Waits for every check still running; a second call has none left.
    pub(super) async fn finish(&mut self) -> Result<(), EngineError> {
        for check in std::mem::take(&mut self.0) {
            check.await.map_err(|e| {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
                EngineError::Refused(format!("a daemon check did not finish: {e}"))
            })??;
        }
        Ok(())
    }
}
