//! The first-boot wizard's completion. Its `Complete` works once: applied
//! without a confirm timeout it completes at once; with one, it completes
//! only when that generation is confirmed (by the wizard's own `Confirm`
//! or an admin's), and when it rolls back the wizard may try again. The
//! wizard may confirm no generation but the one its `Complete` made.
//!
//! The record is two files in the state directory: `wizard-completed`
//! (the generation that completed it) and `wizard-pending` (the
//! generation a `Complete` made that still waits for its confirm). Beside
//! them, `firstboot-seed.result` is what `telbox-firstboot.service` made of
//! the installer's seed.

use std::path::{Path, PathBuf};

use super::{io_err, Applied, ApplyRequest, Engine, EngineError};
use crate::os::files::{remove_if_exists, write_atomic};

/// The record `telbox-firstboot.service` leaves of the installer's seed.
pub const SEED_RECORD: &str = "firstboot-seed.result";

/// Where the wizard's completion is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstBoot {
    state_dir: PathBuf,
}

/// A confirm of a generation the wizard's `Complete` did not make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotTheWizards {
    pub generation: u64,
    /// The generation the wizard's `Complete` made, if one waits.
    pub made: Option<u64>,
}

impl NotTheWizards {
    /// Why the confirm is refused, in words.
    pub fn why(&self) -> String {
        match self.made {
            Some(g) => format!("the wizard's Complete made generation {g}"),
            None => "no Complete of the wizard waits for a confirm".to_owned(),
        }
    }
}

/// What the wizard's `Complete` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardApplied {
    pub applied: Applied,
    /// True when the wizard completed with it (no confirm to wait for).
    pub completed: bool,
}

impl FirstBoot {
    pub fn under(state_dir: &Path) -> FirstBoot {
        FirstBoot {
            state_dir: state_dir.to_owned(),
        }
    }

    fn completed_marker(&self) -> PathBuf {
        self.state_dir.join("wizard-completed")
    }

    fn pending_marker(&self) -> PathBuf {
        self.state_dir.join("wizard-pending")
    }

    /// Whether the wizard has completed.
    pub fn completed(&self) -> bool {
        self.completed_marker().exists()
    }

    /// What became of the installer's seed (none on a box that had none).
    pub fn seed(&self) -> Option<appliance::dbus::SeedReport> {
        let record = std::fs::read_to_string(self.state_dir.join(SEED_RECORD)).ok()?;
        appliance::dbus::SeedReport::parse(&record)
    }

    /// The generation the wizard's `Complete` made that waits for its confirm.
    pub fn waiting(&self) -> Option<u64> {
        std::fs::read_to_string(self.pending_marker())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Refuses once the wizard has completed (its `Preview` and `Complete`).
    pub fn refuse_completed(&self) -> Result<(), EngineError> {
        match self.completed() {
            true => Err(EngineError::WizardCompleted),
            false => Ok(()),
        }
    }

    fn wait_for(&self, generation: u64) -> Result<(), EngineError> {
        write_atomic(
            &self.pending_marker(),
            format!("{generation}\n").as_bytes(),
            0o644,
        )
        .map_err(io_err("recording the wizard's generation"))
    }

    fn complete(&self, generation: u64) -> Result<(), EngineError> {
        write_atomic(
            &self.completed_marker(),
            format!("{generation}\n").as_bytes(),
            0o644,
        )
        .map_err(io_err("recording wizard completion"))?;
        let _ = remove_if_exists(&self.pending_marker());
        Ok(())
    }

    /// Completes the wizard when `generation`, just confirmed, is its own.
    pub(super) fn confirmed(&self, generation: u64) -> Result<(), EngineError> {
        match self.waiting() == Some(generation) {
            true => self.complete(generation),
            false => Ok(()),
        }
    }
}

impl Engine {
    /// The wizard's completion record.
    pub fn first_boot(&self) -> &FirstBoot {
        &self.first_boot
    }

    /// The wizard's `Complete`: applies its configuration over whatever is
    /// in force, once. Completes the wizard, or, with a confirm timeout,
    /// leaves it waiting for that generation's confirm.
    pub async fn complete_wizard(
        &mut self,
        req: ApplyRequest,
    ) -> Result<WizardApplied, EngineError> {
        self.first_boot.refuse_completed()?;
        let windowed = req.confirm_timeout.is_some();
        let applied = self.apply(ApplyRequest { base: None, ..req }).await?;
        let completed = !(windowed && applied.changed);
        match completed {
            true => self.first_boot.complete(applied.generation)?,
            false => self.first_boot.wait_for(applied.generation)?,
        }
        Ok(WizardApplied { applied, completed })
    }

    /// The wizard's `Confirm`: keeps the generation its `Complete` made,
    /// which completes it; any other generation is refused.
    pub fn confirm_wizard(&mut self, generation: u64) -> Result<(), EngineError> {
        let made = self.first_boot.waiting();
        if made != Some(generation) {
            return Err(EngineError::NotTheWizards(NotTheWizards {
                generation,
                made,
            }));
        }
        self.confirm(generation)
    }
}

#[cfg(test)]
mod tests {
    use appliance::dbus::SeedOutcome;

    use super::*;

    #[test]
    fn the_seed_record_firstboot_leaves_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first_boot = FirstBoot::under(dir.path());
        assert_eq!(first_boot.seed(), None, "no seed, no record");
        std::fs::write(
            dir.path().join(SEED_RECORD),
            "seed: /data/seed/appliance.toml\nat: 2026-12-08T00:00:00Z\noutcome: failed\n\
             cause: network: `set eth1.40 up` failed: Network is down\nsysconfd: ...\n",
        )
        .unwrap();
        let seed = first_boot.seed().unwrap();
        assert_eq!(seed.outcome, SeedOutcome::Failed);
        assert_eq!(
            seed.cause.as_deref(),
            Some("network: `set eth1.40 up` failed: Network is down")
        );
    }
}
