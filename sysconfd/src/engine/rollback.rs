//! Going back: restoring a generation's files, converging the kernel and
//! the daemons to it, confirming or expiring a pending generation, and
//! applying an older generation again.

use super::action::Action;
use super::journal::Backup;
use super::pending::Pending;
use super::{io_err, Applied, ApplyRequest, Engine, EngineError};
use crate::network::NetAction;
use crate::store::Outcome;
use appliance::config;

impl Engine {
    /// Puts files back as they were, then re-applies what the previous
    /// generation wants of the kernel; with none before, takes `network`,
    /// the undone generation's network actions, back.
    pub(super) async fn restore(
        &mut self,
        backups: &[Backup],
        previous: Option<u64>,
        network: &[NetAction],
    ) -> Result<(), EngineError> {
        for b in backups.iter().rev() {
            b.restore(&self.opts.root)
                .map_err(io_err(format!("restoring {}", b.path.display())))?;
        }
        match previous {
            Some(id) => self.converge_to(id).await,
            None => {
                let undo: Vec<Action> = NetAction::undo_all(network)
                    .into_iter()
                    .map(Action::Net)
                    .collect();
                self.execute_each(undo.iter().collect(), "undoing the first generation")
                    .await;
                Ok(())
            }
        }
    }

    /// Runs every action; one that fails is logged and the rest still run,
    /// as a restore that stopped halfway would leave the box worse off.
    async fn execute_each(&self, actions: Vec<&Action>, during: &str) {
        for action in actions {
            if let Err(e) = self.execute(action).await {
                tracing::error!(action = %action, error = %e, "while {during}");
            }
        }
    }

    /// Brings the kernel and the daemons to what generation `id` wants (its
    /// files are already in place): network actions and daemon refreshes only.
    async fn converge_to(&mut self, id: u64) -> Result<(), EngineError> {
        let config = config::load(&self.store()?.get(id)?.config, "previous")
            .map_err(EngineError::Invalid)?;
        let desired = self.render(&config)?;
        let plan = self.plan_for(&desired).await?;
        let kernel_and_daemons = plan.actions.iter().filter(|a| a.file().is_none()).collect();
        self.execute_each(kernel_and_daemons, &format!("restoring generation {id}"))
            .await;
        Ok(())
    }

    /// Makes the system match the generation in force (at start: links may
    /// have changed, daemons are not running yet). Records nothing.
    pub async fn converge(&mut self) -> Result<(), EngineError> {
        let current = self.current_generation()?;
        if current == 0 {
            return Ok(());
        }
        let config = config::load(&self.store()?.get(current)?.config, "current")
            .map_err(EngineError::Invalid)?;
        let desired = self.render(&config)?;
        let plan = self.plan_for(&desired).await?;
        for action in &plan.actions {
            self.execute(action).await?;
        }
        Ok(())
    }

    /// Confirms a generation applied with a timeout.
    pub fn confirm(&mut self, generation: u64) -> Result<(), EngineError> {
        match self.pending() {
            Some(p) if p.generation == generation => {
                self.store()?
                    .set_outcome(generation, Outcome::Applied, "confirmed")?;
                Pending::clear(&self.opts.state_dir)
                    .map_err(io_err("clearing the pending confirmation"))
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
        self.restore(&p.backups, p.previous, &p.network).await?;
        self.store()?
            .set_outcome(p.generation, Outcome::RolledBack, reason)?;
        Pending::clear(&self.opts.state_dir)
            .map_err(io_err("clearing the pending confirmation"))?;
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
