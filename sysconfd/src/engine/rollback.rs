//! Going back: restoring a generation's files, converging the kernel and
//! the daemons to it, confirming or expiring a pending generation, and
//! applying an older generation again.

use super::action::{Action, ServiceChange};
use super::journal::{Backup, Journal};
use super::pending::Pending;
use super::{io_err, Applied, ApplyRequest, Engine, EngineError};
use crate::network::NetAction;
use crate::services::Service;
use crate::store::Outcome;

/// What taking an apply back needs: the files as they were, the generation
/// to go back to, and, before the first generation, what to take back.
pub(super) struct Undo<'a> {
    pub backups: &'a [Backup],
    pub previous: Option<u64>,
    pub network: &'a [NetAction],
    pub hostname_before: Option<&'a str>,
    pub services_started: &'a [Service],
    pub dhcp_clients_started: &'a [String],
}

impl Journal {
    pub(super) fn undo(&self) -> Undo<'_> {
        Undo {
            backups: &self.backups,
            previous: self.previous,
            network: &self.network,
            hostname_before: self.hostname_before.as_deref(),
            services_started: &self.services_started,
            dhcp_clients_started: &self.dhcp_clients_started,
        }
    }
}

impl Pending {
    fn undo(&self) -> Undo<'_> {
        Undo {
            backups: &self.backups,
            previous: self.previous,
            network: &self.network,
            hostname_before: self.hostname_before.as_deref(),
            services_started: &self.services_started,
            dhcp_clients_started: &self.dhcp_clients_started,
        }
    }
}

impl Engine {
    /// Puts files back as they were, then re-applies what the previous
    /// generation wants of the kernel and the daemons; with none before,
    /// takes the undone generation's network actions and host name back, and
    /// stops the daemons and DHCP clients it started.
    /// Every step is tried, also after one fails, as a restore that stopped
    /// halfway would leave the box worse off; the error names each that failed.
    pub(super) async fn restore(&mut self, undo: &Undo<'_>) -> Result<(), EngineError> {
        let mut failed = Vec::new();
        for b in undo.backups.iter().rev() {
            if let Err(e) = b.restore(&*self.os) {
                failed.push(format!("restoring {}: {e}", b.path.display()));
            }
        }
        match undo.previous {
            Some(id) => {
                failed.extend(self.converge_to(id).await);
                failed.extend(self.restore_mtus(undo.network).await);
            }
            None => {
                let undo_net: Vec<Action> = NetAction::undo_all(undo.network)
                    .into_iter()
                    .map(Action::Net)
                    .collect();
                failed.extend(
                    self.execute_each(undo_net.iter().collect(), "undoing the first generation")
                        .await,
                );
                let stop = undo
                    .services_started
                    .iter()
                    .map(|&service| Action::Service {
                        service,
                        change: ServiceChange::Stop,
                    })
                    .chain(
                        undo.dhcp_clients_started
                            .iter()
                            .map(|link| Action::DhcpClient {
                                link: link.clone(),
                                run: false,
                            }),
                    )
                    .collect::<Vec<_>>();
                failed.extend(
                    self.execute_each(stop.iter().collect(), "undoing the first generation")
                        .await,
                );
                if let (true, Some(name)) = (self.opts.set_hostname, undo.hostname_before) {
                    if let Err(e) = self.os.set_hostname(name) {
                        failed.push(e.to_string());
                    }
                }
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Restore(failed))
        }
    }

    /// Puts back the MTUs the undone run set that the generation gone back
    /// to left as they were: it names no MTU for those links, so going back
    /// to it changed none. First to last, as a parent is raised before its
    /// VLANs.
    async fn restore_mtus(&self, undone: &[NetAction]) -> Vec<String> {
        let set: Vec<&NetAction> = undone
            .iter()
            .filter(|a| matches!(a, NetAction::SetMtu { .. }))
            .collect();
        if set.is_empty() {
            return Vec::new();
        }
        let net = match self.os.observe_network().await {
            Ok(Some(net)) => net,
            Ok(None) => return Vec::new(),
            Err(e) => return vec![format!("reading the links back: {e}")],
        };
        let back: Vec<Action> = set
            .into_iter()
            .filter(|a| match a {
                NetAction::SetMtu { link, to, .. } => net.link(link).is_some_and(|l| l.mtu == *to),
                _ => false,
            })
            .filter_map(NetAction::undo)
            .map(Action::Net)
            .collect();
        self.execute_each(back.iter().collect(), "putting MTUs back")
            .await
    }

    /// Runs every action; one that fails is logged and the rest still run.
    /// Returns what failed, one line each.
    async fn execute_each(&self, actions: Vec<&Action>, during: &str) -> Vec<String> {
        let mut failed = Vec::new();
        for action in actions {
            if let Err(e) = self.execute(action).await {
                tracing::error!(action = %action, error = %e, "while {during}");
                failed.push(format!("{action}: {e}"));
            }
        }
        failed
    }

    /// Brings the kernel and the daemons to what generation `id` wants (its
    /// files are already in place): network actions and daemon refreshes
    /// only. Returns what failed.
    async fn converge_to(&mut self, id: u64) -> Vec<String> {
        let plan = match self.plan_to(id, "previous").await {
            Ok(plan) => plan,
            Err(e) => return vec![format!("planning the way back to generation {id}: {e}")],
        };
        let kernel_and_daemons = plan.actions.iter().filter(|a| a.file().is_none()).collect();
        self.execute_each(kernel_and_daemons, &format!("restoring generation {id}"))
            .await
    }

    /// Makes the system match the generation in force (at start: links may
    /// have changed, daemons are not running yet). Records nothing.
    /// An apply left unfinished is finished first.
    pub async fn converge(&mut self) -> Result<(), EngineError> {
        self.finish_left().await?;
        let current = self.current_generation()?;
        if current == 0 {
            return Ok(());
        }
        let plan = self.plan_to(current, "current").await?;
        for action in &plan.actions {
            self.execute(action).await?;
        }
        Ok(())
    }

    /// Confirms a generation applied with a timeout: its window closes,
    /// and when the wizard's `Complete` made it, the wizard has completed.
    pub fn confirm(&mut self, generation: u64) -> Result<(), EngineError> {
        match self.pending() {
            Some(p) if p.generation == generation => {
                self.store()?
                    .set_outcome(generation, Outcome::Applied, "confirmed")?;
                Pending::clear(&self.opts.state_dir)
                    .map_err(io_err("clearing the pending confirmation"))?;
                self.windows.close(generation);
                self.first_boot.confirmed(generation)
            }
            _ => Err(EngineError::NotPending(generation)),
        }
    }

    /// Rolls back the pending generation, if any, recording `reason`. Returns the generation rolled back.
    pub async fn expire_pending(&mut self, reason: &str) -> Result<Option<u64>, EngineError> {
        let Some(p) = self.pending() else {
            return Ok(None);
        };
        tracing::warn!(generation = p.generation, reason, "rolling back");
        self.restore(&p.undo()).await?;
        self.store()?
            .set_outcome(p.generation, Outcome::RolledBack, reason)?;
        Pending::clear(&self.opts.state_dir)
            .map_err(io_err("clearing the pending confirmation"))?;
        self.windows.close(p.generation);
        Ok(Some(p.generation))
    }

    /// Applies generation `target`'s config again, as a new generation.
    pub async fn rollback_to(
        &mut self,
        target: u64,
        caller_uid: u32,
    ) -> Result<Applied, EngineError> {
        let text = self.store()?.get(target)?.config;
        let current = self.current_generation()?;
        self.apply(ApplyRequest {
            text,
            base: Some(current),
            confirm_timeout: None,
            caller_uid,
        })
        .await
    }
}
