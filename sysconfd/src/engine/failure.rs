//! Failed applies: undoing what they did and recording why. When either
//! cannot be done now (a full or read-only disk), the apply's journal stays,
//! its cause is kept beside it and in memory, status says `degraded`, and
//! the next apply or start finishes the job before doing anything else.

use appliance::dbus::Degraded;

use super::journal::{Failure, Journal};
use super::{io_err, Engine, EngineError};
use crate::store::{Outcome, StoreError};

/// An apply that failed or was interrupted and is not settled yet.
#[derive(Debug, Clone)]
pub(super) struct Left {
    pub journal: Journal,
    pub failure: Failure,
    /// The journal is on disk: the apply may have touched the system.
    pub journaled: bool,
    /// The system is back in the previous generation.
    pub restored: bool,
    /// Why the store could not record the failure, when it could not.
    pub unrecorded: Option<String>,
    /// What still differs from the previous generation, when not restored.
    pub differs: Vec<String>,
}

impl Left {
    pub fn new(journal: Journal, failure: Failure, journaled: bool) -> Left {
        Left {
            journal,
            failure,
            journaled,
            restored: !journaled,
            unrecorded: None,
            differs: Vec::new(),
        }
    }

    /// The reason history gives for the failed generation.
    pub fn reason(&self) -> String {
        let cause = &self.failure.cause;
        match (&self.failure.restore, self.restored) {
            (_, true) if !self.journaled => format!("{cause}; nothing was changed"),
            (None, true) => format!("{cause}; the previous generation was restored"),
            (Some(r), true) => format!(
                "{cause}; restoring the previous generation failed at first ({r}), then completed"
            ),
            (r, false) => format!(
                "{cause}; restoring the previous generation failed: {}",
                r.as_deref().unwrap_or("not tried yet")
            ),
        }
    }

    /// What is still not done, for error messages.
    pub fn missing(&self) -> String {
        let mut parts = Vec::new();
        if !self.restored {
            parts.push(format!(
                "restoring the previous generation failed: {}",
                self.failure.restore.as_deref().unwrap_or("not tried yet")
            ));
        }
        if let Some(e) = &self.unrecorded {
            parts.push(format!("history could not record the failure: {e}"));
        }
        parts.join("; ")
    }

    fn degraded(&self) -> Degraded {
        Degraded {
            generation: self.journal.generation,
            previous: self.journal.previous,
            cause: self.failure.cause.clone(),
            restore_error: (!self.restored)
                .then(|| self.failure.restore.clone().unwrap_or_default()),
            record_error: self.unrecorded.clone(),
            differs: self.differs.clone(),
        }
    }
}

impl Engine {
    /// What is wrong after a failed apply that could not be finished: the
    /// system is not all back in the previous generation, or history does
    /// not say why yet. `None` when every failure is settled.
    pub fn degraded(&self) -> Option<Degraded> {
        self.left.as_ref().map(Left::degraded)
    }

    /// Ends an apply that failed with `cause`: undoes what it did (nothing
    /// when it was not `journaled`, as it touched nothing) and records it.
    /// Returns the error for the caller: the cause, and what could not be
    /// undone or recorded.
    pub(super) async fn fail(
        &mut self,
        journal: Journal,
        cause: EngineError,
        journaled: bool,
    ) -> EngineError {
        tracing::error!(
            generation = journal.generation,
            error = %cause,
            "apply failed; restoring the previous generation"
        );
        let failure = Failure {
            cause: cause.to_string(),
            restore: None,
        };
        match self.settle(Left::new(journal, failure, journaled)).await {
            Ok(()) => cause,
            Err(missing) => EngineError::Failed {
                cause: Box::new(cause),
                missing,
            },
        }
    }

    /// Finishes an apply left behind, by this process or by one that
    /// stopped mid-apply (its journal), before anything else changes the
    /// system. Returns the generation it finished.
    pub(super) async fn finish_left(&mut self) -> Result<Option<u64>, EngineError> {
        let left = match self.left.take() {
            Some(left) => left,
            None => match self.left_on_disk()? {
                Some(left) => left,
                None => return Ok(None),
            },
        };
        let generation = left.journal.generation;
        match self.settle(left).await {
            Ok(()) => Ok(Some(generation)),
            Err(missing) => Err(EngineError::Unfinished {
                generation,
                missing,
            }),
        }
    }

    /// The apply whose journal is on disk, unless it reached its commit.
    fn left_on_disk(&self) -> Result<Option<Left>, EngineError> {
        let state = &self.opts.state_dir;
        let Some(journal) = Journal::find(state).map_err(io_err("reading the apply journal"))?
        else {
            return Ok(None);
        };
        if self.committed(&journal)? {
            // Only the journal's removal was lost.
            journal.drop_kept(&*self.os);
            if let Err(e) = Journal::clear(state) {
                tracing::warn!(error = %e, "could not remove the journal of a committed apply");
            }
            return Ok(None);
        }
        let failure = Journal::noted(state).unwrap_or_else(Failure::interrupted);
        tracing::warn!(
            generation = journal.generation,
            cause = %failure.cause,
            "an apply was left unfinished; restoring the previous generation"
        );
        Ok(Some(Left::new(journal, failure, true)))
    }

    /// Whether the journal's apply reached its commit (its row is written as
    /// applied or pending) and only the journal's removal was lost.
    fn committed(&self, journal: &Journal) -> Result<bool, EngineError> {
        match self.store()?.get(journal.generation) {
            Ok(g) => Ok(matches!(g.outcome, Outcome::Applied | Outcome::Pending)),
            Err(StoreError::NoSuchGeneration(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Undoes `left` where that is not done yet and records its failure;
    /// once both are done, drops its journal. What cannot be done now stays
    /// in `self.left` (and its cause beside the journal, for the next
    /// start), and is returned as text.
    async fn settle(&mut self, mut left: Left) -> Result<(), String> {
        if !left.restored {
            match self.restore(&left.journal.undo()).await {
                Ok(()) => left.restored = true,
                Err(e) => left.failure.restore = Some(e.to_string()),
            }
        }
        left.unrecorded = self
            .record_failed(&left.journal, &left.reason())
            .err()
            .map(|e| e.to_string());
        let state = &self.opts.state_dir;
        if left.restored && left.unrecorded.is_none() {
            left.journal.drop_kept(&*self.os);
            if left.journaled {
                if let Err(e) = Journal::clear(state) {
                    // Its row now says failed: the next start or apply
                    // finds nothing to undo and records the same again.
                    tracing::warn!(error = %e, "could not remove the apply journal");
                }
            }
            self.left = None;
            return Ok(());
        }
        if left.journaled {
            if let Err(e) = Journal::note(state, &left.failure) {
                tracing::warn!(error = %e, "could not keep the cause beside the apply journal");
            }
        }
        left.differs = if left.restored {
            Vec::new()
        } else {
            self.differs(&left.journal).await
        };
        let missing = left.missing();
        tracing::error!(
            generation = left.journal.generation,
            %missing,
            "a failed apply is not finished; status says degraded until the next apply or start"
        );
        self.left = Some(left);
        Err(missing)
    }

    /// Marks the journal's generation failed: its row is written now, or
    /// updated when it was written before (by an earlier try, or by an
    /// older sysconfd at the start of the apply).
    fn record_failed(&self, journal: &Journal, reason: &str) -> Result<(), EngineError> {
        let store = self.store()?;
        match store.set_outcome(journal.generation, Outcome::Failed, reason) {
            Err(StoreError::NoSuchGeneration(_)) => {
                Ok(store.record(&journal.attempt(), Outcome::Failed, reason)?)
            }
            other => Ok(other?),
        }
    }

    /// What differs from the generation before `journal`'s, read from the
    /// system: the plan back to it, or, before the first generation, the
    /// files not as they were.
    async fn differs(&self, journal: &Journal) -> Vec<String> {
        let Some(id) = journal.previous else {
            return journal
                .backups
                .iter()
                .filter(|b| !b.in_place(&*self.os))
                .map(|b| format!("{} is not as it was", b.path.display()))
                .collect();
        };
        self.plan_to(id, "previous")
            .await
            .map(|p| p.lines())
            .unwrap_or_else(|e| vec![format!("cannot compare with generation {id}: {e}")])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(previous: Option<u64>) -> Journal {
        Journal {
            generation: 2,
            previous,
            backups: Vec::new(),
            caller_uid: 0,
            config: String::new(),
            plan: Vec::new(),
            network: Vec::new(),
            hostname_before: None,
            services_started: Vec::new(),
            dhcp_clients_started: Vec::new(),
        }
    }

    fn left(journaled: bool, restored: bool, restore: Option<&str>) -> Left {
        let failure = Failure {
            cause: "writing /etc/hosts: No space left on device".into(),
            restore: restore.map(str::to_owned),
        };
        let mut left = Left::new(journal(Some(1)), failure, journaled);
        left.restored = restored;
        left
    }

    #[test]
    fn the_reason_says_what_became_of_the_system() {
        let cases = [
            (left(false, true, None), "; nothing was changed"),
            (left(true, true, None), "; the previous generation was restored"),
            (
                left(true, true, Some("restoring /etc/hosts: Read-only file system")),
                "; restoring the previous generation failed at first (restoring /etc/hosts: Read-only file system), then completed",
            ),
            (
                left(true, false, Some("restoring /etc/hosts: Read-only file system")),
                "; restoring the previous generation failed: restoring /etc/hosts: Read-only file system",
            ),
        ];
        for (left, tail) in cases {
            let reason = left.reason();
            assert!(
                reason.starts_with("writing /etc/hosts: No space left on device;"),
                "{reason}"
            );
            assert!(reason.ends_with(tail), "{reason}");
        }
    }

    #[test]
    fn degraded_names_the_cause_and_what_is_missing() {
        let mut l = left(
            true,
            false,
            Some("restoring /etc/hosts: Read-only file system"),
        );
        l.unrecorded = Some("generation store: database or disk is full".into());
        l.differs = vec!["write /etc/hosts (10 bytes, mode 0644)".into()];
        let d = l.degraded();
        assert_eq!((d.generation, d.previous), (2, Some(1)));
        assert_eq!(d.cause, "writing /etc/hosts: No space left on device");
        assert_eq!(
            d.restore_error.as_deref(),
            Some("restoring /etc/hosts: Read-only file system")
        );
        assert_eq!(
            d.record_error.as_deref(),
            Some("generation store: database or disk is full")
        );
        assert_eq!(d.differs, l.differs);
        let missing = l.missing();
        assert!(
            missing.contains("restoring the previous generation failed")
                && missing.contains("history could not record the failure"),
            "{missing}"
        );

        let restored = left(true, true, None);
        assert_eq!(restored.degraded().restore_error, None);
    }
}
