//! The engine: validated config -> observe (once, through the OS seam)
//! -> render and plan (plain functions) -> apply through the seam -> verify
//! (observe again, plan again: nothing may be left) -> record a generation.
//! Crash-safe through the apply journal; commit-confirmed through the
//! on-disk pending state, whose window the engine enforces itself
//! ([`confirm`]). The first-boot wizard's once-only completion is its
//! record too ([`wizard`]); the D-Bus layer only adapts.

pub mod action;
pub mod confirm;
pub mod desired;
mod failure;
pub mod firmware;
pub mod journal;
pub mod observe;
pub mod pending;
pub mod planner;
mod rollback;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
mod views;
#[cfg(test)]
mod window_tests;
pub mod wizard;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use appliance::config::{self, Report};

pub use crate::os::ServicesMode;
pub use action::{Action, Plan, ServiceChange};
pub use desired::Desired;
use failure::Left;
use journal::{Backup, Journal};
pub use observe::Observed;
pub use pending::Pending;
pub use wizard::{FirstBoot, NotTheWizards, WizardApplied};

use crate::os::{Os, OsError, RealOs};
use crate::root::Root;
use crate::store::{self, Generation, Outcome, Store, StoreError};

/// Environment variable naming the action index at which an apply aborts
/// the process (fault injection for crash tests).
pub const FAULT_ENV: &str = "SYSCONFD_FAULT_ABORT_AT";

/// Environment variable naming where an apply stops its own process
/// (SIGSTOP) until it is continued: an action index, or `commit`, with
/// `@N` for the apply of generation N only (`commit@2`). Fault tests fill
/// the disk or make it read-only meanwhile.
pub const PAUSE_ENV: &str = "SYSCONFD_FAULT_PAUSE_AT";

/// Where [`PAUSE_ENV`] stops an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PausePoint {
    /// Before this action (a run of actions done together is split there).
    Action(usize),
    /// Before the generation is recorded.
    Commit,
}

/// Where the apply of `generation` pauses, if [`PAUSE_ENV`] says so.
fn pause_point(generation: u64) -> Option<PausePoint> {
    parse_pause(&std::env::var(PAUSE_ENV).ok()?, generation)
}

fn parse_pause(value: &str, generation: u64) -> Option<PausePoint> {
    let (point, only) = match value.split_once('@') {
        Some((point, g)) => (point, Some(g.parse::<u64>().ok()?)),
        None => (value, None),
    };
    if only.is_some_and(|g| g != generation) {
        return None;
    }
    match point {
        "commit" => Some(PausePoint::Commit),
        n => n.parse().ok().map(PausePoint::Action),
    }
}

fn pause(before: &str) {
    eprintln!("sysconfd: fault injection: pausing before {before}");
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the configuration is invalid:\n{0}")]
    Invalid(Report),
    #[error("stale base: you started from generation {given}, but generation {current} is in force now; fetch it (`appliance config show`) and apply again")]
    StaleBase { given: u64, current: u64 },
    #[error("generation {0} is not waiting for a confirmation")]
    NotPending(u64),
    #[error("generation {0} is waiting for a confirmation; confirm it or roll it back before applying again")]
    AwaitingConfirm(u64),
    #[error("the first-boot wizard has already completed; use Config.Apply")]
    WizardCompleted,
    #[error("generation {} is not the wizard's: {}", .0.generation, .0.why())]
    NotTheWizards(NotTheWizards),
    #[error("{0}")]
    Desired(#[from] desired::DesiredError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("the system does not match after applying: {}", .0.join("; "))]
    Verify(Vec<String>),
    #[error("interfaces named in the configuration do not exist on this machine: {}", .0.join(", "))]
    MissingLinks(Vec<String>),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Os(#[from] OsError),
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
    #[error("{}", .0.join("; "))]
    Restore(Vec<String>),
    /// An apply failed, and what it did could not all be undone or recorded.
    #[error("{cause}; {missing}; status says degraded until the next apply or a restart of sysconfd finishes the undo")]
    Failed {
        cause: Box<EngineError>,
        missing: String,
    },
    /// A failed apply left behind could not be finished before a new one.
    #[error("the failed apply of generation {generation} is not finished: {missing}; free the disk or fix the cause, then apply again or restart sysconfd")]
    Unfinished { generation: u64, missing: String },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> EngineError {
    let what = what.into();
    move |source| EngineError::Io { what, source }
}

/// The network actions at the start of `actions`, up to the first other one.
fn network_run(actions: &[Action]) -> Vec<crate::network::NetAction> {
    actions
        .iter()
        .map_while(|a| match a {
            Action::Net(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Writes or removes a generated file. Secrets are written durably: they
/// are the only files the generation store (redacted) cannot derive again.
fn change_file(os: &dyn Os, action: &Action) -> Result<(), EngineError> {
    if let Some(path) = action.file() {
        // If the apply is undone, the file as it is now goes back by a
        // rename; where it cannot be kept, the journal's copy serves.
        if let Err(e) = os.keep_file(path) {
            tracing::debug!(path = %path.display(), error = %e, "could not keep the file to put back");
        }
    }
    match action {
        Action::WriteFile {
            path,
            mode,
            contents,
            secret,
        } => os
            .write_file(path, contents.as_bytes(), *mode, *secret)
            .map_err(io_err(format!("writing {}", path.display()))),
        Action::RemoveFile { path } => os
            .remove_file(path)
            .map_err(io_err(format!("removing {}", path.display()))),
        _ => Ok(()),
    }
}

/// Times the phases of an apply, logged at debug level (`SYSCONFD_LOG=debug`).
struct PhaseClock(std::time::Instant);

impl PhaseClock {
    fn start() -> Self {
        PhaseClock(std::time::Instant::now())
    }

    fn lap(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        let us = now
            .duration_since(std::mem::replace(&mut self.0, now))
            .as_micros() as u64;
        tracing::debug!(phase, us, "apply phase done");
    }
}

/// How the engine finds the machine.
#[derive(Debug, Clone)]
pub struct Options {
    pub root: Root,
    pub state_dir: PathBuf,
    /// Set the kernel host name (off under a test root prefix).
    pub set_hostname: bool,
    pub fault_abort_at: Option<usize>,
    /// Manage links, addresses and routes in this network namespace.
    pub network: bool,
    pub services: ServicesMode,
}

/// A request to apply a config.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub text: String,
    /// The generation the caller started from; refused if another is in force.
    pub base: Option<u64>,
    pub confirm_timeout: Option<Duration>,
    pub caller_uid: u32,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub generation: u64,
    /// False when the plan was empty and nothing was touched.
    pub changed: bool,
    pub plan: Vec<String>,
}

/// What happened at start, for the log and signals.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// An interrupted apply that was undone.
    pub interrupted: Option<u64>,
    /// A pending generation rolled back because sysconfd restarted in its window.
    pub rolled_back: Option<u64>,
}

pub struct Engine {
    opts: Options,
    opening: store::Opening,
    /// Everything the engine reads of the machine or does to it.
    os: Arc<dyn Os>,
    /// A failed apply not settled yet (status says degraded).
    left: Option<Left>,
    /// The confirm window open now, and who hears when one expires.
    windows: confirm::Windows,
    /// The first-boot wizard's completion.
    first_boot: FirstBoot,
}

impl Engine {
    /// Opens the state directory, finishing any interrupted apply and rolling
    /// back a generation still waiting for its confirm.
    pub async fn open(opts: Options) -> Result<(Engine, Recovery), EngineError> {
        std::fs::create_dir_all(&opts.state_dir).map_err(io_err("creating the state directory"))?;
        let os = RealOs::open(opts.network, opts.services, &opts.root, &opts.state_dir).await?;
        Engine::open_with(opts, Arc::new(os)).await
    }

    /// Opens the engine over `os` (the machine, or a simulated one).
    /// `opts.network` and `opts.services` are `os`'s business then.
    pub async fn open_with(
        opts: Options,
        os: Arc<dyn Os>,
    ) -> Result<(Engine, Recovery), EngineError> {
        std::fs::create_dir_all(&opts.state_dir).map_err(io_err("creating the state directory"))?;
        let opening = store::Opening::start(opts.state_dir.join("generations.db"));
        let first_boot = FirstBoot::under(&opts.state_dir);
        let mut engine = Engine {
            opts,
            opening,
            os,
            left: None,
            windows: confirm::Windows::new(),
            first_boot,
        };
        let recovery = engine.recover().await?;
        Ok((engine, recovery))
    }

    async fn recover(&mut self) -> Result<Recovery, EngineError> {
        let mut recovery = Recovery::default();
        let state = self.opts.state_dir.clone();
        match self.finish_left().await {
            Ok(finished) => recovery.interrupted = finished,
            // The daemon still starts, and its status says what is wrong.
            Err(e @ EngineError::Unfinished { .. }) => {
                tracing::error!(error = %e, "could not finish the apply left behind");
            }
            Err(e) => return Err(e),
        }
        if Pending::load(&state)
            .map_err(io_err("reading the pending confirmation"))?
            .is_some()
        {
            let reason = "not confirmed: sysconfd restarted inside the confirm window";
            recovery.rolled_back = self.expire_pending(reason).await?;
        }
        Ok(recovery)
    }

    /// The generation store (waits for it to open the first time).
    fn store(&self) -> Result<&Store, StoreError> {
        self.opening.get()
    }

    /// The generation in force (0 before the first apply).
    pub fn current_generation(&self) -> Result<u64, EngineError> {
        Ok(self.opening.current()?.map_or(0, |g| g.id))
    }

    pub fn pending(&self) -> Option<Pending> {
        Pending::load(&self.opts.state_dir).ok().flatten()
    }

    /// The current config, secrets redacted (empty before the first apply).
    pub fn current_config(&self) -> Result<String, EngineError> {
        Ok(self
            .opening
            .current()?
            .map(|g| g.config)
            .unwrap_or_default())
    }

    /// The host name the generation in force sets.
    pub fn configured_hostname(&self) -> Option<String> {
        let text = self.current_config().ok()?;
        let config = config::load(&text, "current").ok()?;
        Some(config.system.hostname.to_string())
    }

    /// How many generations there are, and at most `limit` of them, newest
    /// first, skipping the `offset` newest.
    pub fn history(&self, offset: u64, limit: u64) -> Result<(u64, Vec<Generation>), EngineError> {
        Ok(self.store()?.history_page(offset, limit)?)
    }

    /// One generation, whole.
    pub fn generation(&self, id: u64) -> Result<Generation, EngineError> {
        Ok(self.store()?.get(id)?)
    }

    /// Validates and plans `text` against the system as it is now. Touches nothing.
    pub async fn plan(&self, text: &str) -> Result<Plan, EngineError> {
        let config = config::load(text, "appliance.toml").map_err(EngineError::Invalid)?;
        let (desired, observed) = self.observe(&config).await?;
        let mut checks = planner::DaemonChecks::start(&desired, &observed, &self.os);
        let plan = planner::plan(&desired, &observed)?;
        checks.finish().await?;
        Ok(plan)
    }

    fn render(&self, config: &config::Config, observed: &Observed) -> Result<Desired, EngineError> {
        let chrony = crate::ntp::ChronyPaths::for_box(&self.opts.root, &self.opts.state_dir);
        Ok(Desired::render(
            config,
            observed,
            &self.opts.state_dir,
            &chrony,
        )?)
    }

    /// The seam to the machine, for status reports.
    pub fn os(&self) -> &dyn Os {
        &*self.os
    }

    /// Applies a config: validate, check the base, finish an apply left
    /// behind, plan, journal, run, verify, record. A failure at any step
    /// after the plan ends in the previous generation, recorded as failed,
    /// or in a degraded state status names (see [`Engine::degraded`]).
    pub async fn apply(&mut self, req: ApplyRequest) -> Result<Applied, EngineError> {
        let mut clock = PhaseClock::start();
        let config = config::load(&req.text, "appliance.toml").map_err(EngineError::Invalid)?;
        if let Some(p) = self.pending() {
            return Err(EngineError::AwaitingConfirm(p.generation));
        }
        clock.lap("validate");
        let current = self.current_generation()?;
        if let Some(base) = req.base.filter(|b| *b != current) {
            return Err(EngineError::StaleBase {
                given: base,
                current,
            });
        }
        // The plan is made against the system as the generation in force
        // has it, never over the remains of an earlier attempt.
        self.finish_left().await?;
        let (desired, observed) = self.observe(&config).await?;
        clock.lap("observe and render");
        let checks = planner::DaemonChecks::start(&desired, &observed, &self.os);
        let plan = planner::plan(&desired, &observed)?;
        clock.lap("plan");
        if plan.is_empty() {
            return self.already_matching(&desired, current, req.caller_uid);
        }
        let previous = (current != 0).then_some(current);
        let generation = self.opening.next_id()?;
        let sets_hostname = plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::SetHostname { .. }));
        let journal = Journal {
            generation,
            previous,
            backups: backups_for(&plan, &observed),
            caller_uid: req.caller_uid,
            config: desired.redacted_config().to_owned(),
            plan: plan.lines(),
            network: plan.network_actions(),
            hostname_before: sets_hostname.then(|| observed.hostname.clone()).flatten(),
            services_started: plan
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::Service {
                        service,
                        change: ServiceChange::Refresh,
                    } if observed.services.get(service) == Some(&false) => Some(*service),
                    _ => None,
                })
                .collect(),
            dhcp_clients_started: plan
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::DhcpClient { link, run: true } => Some(link.clone()),
                    _ => None,
                })
                .collect(),
        };
        if let Err(e) = journal.begin(&self.opts.state_dir, plan.touches_secret()) {
            let cause = EngineError::Io {
                what: "writing the apply journal".into(),
                source: e,
            };
            return Err(self.fail(journal, cause, false).await);
        }
        clock.lap("journal");
        // The daemons' checks go on while the network changes; a file a
        // daemon refuses is never written, and the attempt ends undone, as
        // a failed generation with the daemon's message.
        let pause_at = pause_point(generation);
        if let Err(e) = self
            .run_and_verify(&plan, &desired, &observed, checks, pause_at, &mut clock)
            .await
        {
            return Err(self.fail(journal, e, true).await);
        }
        if pause_at == Some(PausePoint::Commit) {
            pause("the commit");
        }
        // A generation that cannot be recorded is undone like one that
        // failed to run: the store and the system never disagree.
        if let Err(e) = self.commit(&journal, req.confirm_timeout) {
            return Err(self.fail(journal, e, true).await);
        }
        clock.lap("commit");
        tracing::info!(
            generation,
            actions = plan.actions.len(),
            "generation applied"
        );
        Ok(Applied {
            generation,
            changed: true,
            plan: plan.lines(),
        })
    }

    /// The system already matches `desired`. That is "nothing to do" when
    /// the generation in force says the same; when it does not (the system
    /// was changed to this config behind sysconfd's back), the config is
    /// recorded as a generation with an empty plan, so history tells the truth.
    fn already_matching(
        &self,
        desired: &Desired,
        current: u64,
        caller_uid: u32,
    ) -> Result<Applied, EngineError> {
        let in_force = self.opening.current()?.map(|g| g.config);
        if in_force.as_deref() == Some(desired.redacted_config()) || current == 0 {
            return Ok(Applied {
                generation: current,
                changed: false,
                plan: Vec::new(),
            });
        }
        let generation = self.opening.next_id()?;
        let attempt = store::Attempt {
            id: generation,
            caller_uid,
            base: Some(current),
            config: desired.redacted_config(),
            plan: &[],
        };
        self.store()?.record(
            &attempt,
            Outcome::Applied,
            "the system already matched this configuration",
        )?;
        Ok(Applied {
            generation,
            changed: true,
            plan: Vec::new(),
        })
    }

    /// Records the generation as in force (or waiting for its confirm), then
    /// drops the journal: from here a crash keeps it. When the record fails,
    /// nothing is left saying it was made (the caller undoes it).
    fn commit(&self, journal: &Journal, timeout: Option<Duration>) -> Result<(), EngineError> {
        let state = &self.opts.state_dir;
        let generation = journal.generation;
        let recorded = match timeout {
            Some(t) => {
                let deadline = pending::unix_now() + t.as_secs_f64();
                Pending {
                    generation,
                    previous: journal.previous,
                    deadline,
                    backups: journal.backups.clone(),
                    network: journal.network.clone(),
                    hostname_before: journal.hostname_before.clone(),
                    services_started: journal.services_started.clone(),
                    dhcp_clients_started: journal.dhcp_clients_started.clone(),
                }
                .save(state)
                .map_err(io_err("saving the pending confirmation"))?;
                let reason = format!("waiting for a confirm within {} s", t.as_secs());
                let recorded = self
                    .store()
                    .and_then(|s| s.record(&journal.attempt(), Outcome::Pending, &reason));
                if recorded.is_err() {
                    let _ = Pending::clear(state);
                }
                recorded
            }
            None => self
                .store()
                .and_then(|s| s.record(&journal.attempt(), Outcome::Applied, "")),
        };
        recorded?;
        if let Some(t) = timeout {
            self.windows.open(generation, t);
        }
        journal.drop_kept(&*self.os);
        if let Err(e) = Journal::clear(state) {
            // The row says applied: the next start or apply drops it.
            tracing::warn!(generation, error = %e, "could not remove the apply journal");
        }
        Ok(())
    }

    /// Runs the plan in order. A run of network actions goes to the kernel
    /// together (one round trip per kind of change), and the file changes
    /// that follow it, which do not depend on it, are made beside it once
    /// the daemons' `checks` pass; the journal makes that safe, since an
    /// undo restores the files and takes the network back.
    async fn run_and_verify(
        &mut self,
        plan: &Plan,
        desired: &Desired,
        observed: &Observed,
        mut checks: planner::DaemonChecks,
        pause_point: Option<PausePoint>,
        clock: &mut PhaseClock,
    ) -> Result<(), EngineError> {
        let pause_at = match pause_point {
            Some(PausePoint::Action(k)) => Some(k),
            _ => None,
        };
        let mut index = 0;
        while index < plan.actions.len() {
            let rest = &plan.actions[index..];
            let run = network_run(rest);
            let mut nets = run.len();
            let mut files = if nets == 0 {
                0
            } else {
                rest[nets..]
                    .iter()
                    .take_while(|a| a.file().is_some())
                    .count()
            };
            // A pause inside a run of actions done together splits it there.
            if let Some(cut) = pause_at
                .and_then(|k| k.checked_sub(index))
                .filter(|c| (1..nets + files).contains(c))
            {
                files = cut.saturating_sub(nets);
                nets = nets.min(cut);
            }
            let len = (nets + files).max(1);
            if let Some(at) = self
                .opts
                .fault_abort_at
                .filter(|k| (index..index + len).contains(k))
            {
                eprintln!(
                    "sysconfd: fault injection: aborting before action {at}: {}",
                    plan.actions[at]
                );
                std::process::abort();
            }
            if pause_at == Some(index) {
                pause(&format!("action {index}: {}", plan.actions[index]));
            }
            if nets == 0 {
                if !matches!(rest[0], Action::Net(_)) {
                    checks.finish().await?;
                }
                self.execute(&rest[0]).await?;
            } else {
                self.network_beside_files(&run[..nets], &rest[nets..len], &mut checks)
                    .await?;
            }
            index += len;
        }
        // Each checked file is written by the plan, so its check ended before
        // that write; this only makes sure no check outlives the run.
        checks.finish().await?;
        clock.lap("run");
        self.verify(desired, observed).await?;
        clock.lap("verify");
        Ok(())
    }

    /// Sends a run of network actions while the daemons' checks finish and
    /// a blocking thread then makes the file changes; waits for both,
    /// network errors first.
    async fn network_beside_files(
        &self,
        run: &[crate::network::NetAction],
        files: &[Action],
        checks: &mut planner::DaemonChecks,
    ) -> Result<(), EngineError> {
        let os = Arc::clone(&self.os);
        let files = files.to_vec();
        let writing = async {
            checks.finish().await?;
            tokio::task::spawn_blocking(move || files.iter().try_for_each(|a| change_file(&*os, a)))
                .await
                .map_err(|e| {
                    if e.is_panic() {
                        std::panic::resume_unwind(e.into_panic());
                    }
                    EngineError::Refused(format!("the file writer stopped: {e}"))
                })?
        };
        let (applied, written) = tokio::join!(self.os.apply_network(run), writing);
        applied.map_err(OsError::from)?;
        written
    }

    /// Performs one action through the seam.
    async fn execute(&self, action: &Action) -> Result<(), EngineError> {
        let os = &*self.os;
        let services = |e| EngineError::Os(OsError::Services(e));
        match action {
            Action::WriteFile { .. } | Action::RemoveFile { .. } => change_file(os, action),
            Action::SetHostname { hostname } => Ok(os.set_hostname(hostname.as_str())?),
            Action::Net(a) => Ok(os
                .apply_network(std::slice::from_ref(a))
                .await
                .map_err(OsError::from)?),
            Action::Service {
                service,
                change: ServiceChange::Refresh,
            } => os.refresh_service(*service).await.map_err(services),
            Action::Service {
                service,
                change: ServiceChange::Stop,
            } => os.stop_service(*service).await.map_err(services),
            Action::Dahdi(step) => {
                for argv in step.commands() {
                    os.run(&argv).await?;
                }
                Ok(())
            }
            Action::DhcpClient { link, run: true } => os
                .start_dhcp_client(link)
                .map_err(io_err(format!("starting the DHCP client on {link}"))),
            Action::DhcpClient { link, run: false } => {
                os.stop_dhcp_client(link);
                Ok(())
            }
        }
    }

    /// What is left to do for `desired`: the plan against the machine
    /// observed again (`before` gives the files the generation in force owns).
    pub(super) async fn left_to_do(
        &self,
        desired: &Desired,
        before: &Observed,
    ) -> Result<Plan, EngineError> {
        let mut now = Observed {
            owned: before.owned.clone(),
            ..before.clone()
        };
        self.observe_machine(desired, &mut now).await?;
        planner::plan(desired, &now)
    }

    /// Observes the machine again until it matches (brief retries), else fails.
    async fn verify(&self, desired: &Desired, before: &Observed) -> Result<(), EngineError> {
        let mut left = self.left_to_do(desired, before).await?;
        for _ in 0..10 {
            if left.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            left = self.left_to_do(desired, before).await?;
        }
        Err(EngineError::Verify(left.lines()))
    }

    /// Observes and renders generation `id`'s config, and plans the way to it.
    pub(super) async fn plan_to(&self, id: u64, name: &str) -> Result<Plan, EngineError> {
        let config =
            config::load(&self.store()?.get(id)?.config, name).map_err(EngineError::Invalid)?;
        let (desired, observed) = self.observe(&config).await?;
        planner::plan(&desired, &observed)
    }
}

/// The files `plan` writes or removes, as they were observed before it.
fn backups_for(plan: &Plan, observed: &Observed) -> Vec<Backup> {
    plan.actions
        .iter()
        .filter_map(|a| {
            a.file()
                .map(|path| Backup::from_observed(path, observed.file(path)))
        })
        .collect()
}
