//! The engine: validated config -> observe -> pure plan -> apply through
//! the OS edges -> verify -> record a generation. Crash-safe through the
//! apply journal; commit-confirmed through the on-disk pending state.

pub mod action;
mod commands;
pub mod desired;
pub mod dhcp_clients;
pub mod edges;
mod failure;
pub mod firmware;
pub mod journal;
pub mod pending;
mod planner;
mod rollback;
#[cfg(test)]
mod tests;
mod views;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use appliance::config::{self, Report};

pub use action::{Action, Plan, ServiceChange};
pub use desired::Desired;
pub use edges::{EdgeError, Edges, ServicesMode};
use failure::Left;
use journal::{Backup, Journal};
pub use pending::Pending;

use crate::files::{write_atomic, write_replace};
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
    Edge(#[from] EdgeError),
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
fn change_file(root: &Root, action: &Action) -> Result<(), EngineError> {
    if let Some(path) = action.file() {
        // If the apply is undone, the file as it is now goes back by a
        // rename; where it cannot be kept, the journal's copy serves.
        if let Err(e) = crate::files::keep(&root.path(path)) {
            tracing::debug!(path = %path.display(), error = %e, "could not keep the file to put back");
        }
    }
    match action {
        Action::WriteFile {
            path,
            mode,
            contents,
            secret,
        } => {
            let write = if *secret { write_atomic } else { write_replace };
            write(&root.path(path), contents.as_bytes(), *mode)
                .map_err(io_err(format!("writing {}", path.display())))
        }
        Action::RemoveFile { path } => std::fs::remove_file(root.path(path))
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
    edges: Edges,
    /// A failed apply not settled yet (status says degraded).
    left: Option<Left>,
}

impl Engine {
    /// Opens the state directory, finishing any interrupted apply and rolling
    /// back a generation still waiting for its confirm.
    pub async fn open(opts: Options) -> Result<(Engine, Recovery), EngineError> {
        std::fs::create_dir_all(&opts.state_dir).map_err(io_err("creating the state directory"))?;
        let opening = store::Opening::start(opts.state_dir.join("generations.db"));
        let edges = Edges::open(opts.network, opts.services, &opts.root, &opts.state_dir).await?;
        let mut engine = Engine {
            opts,
            opening,
            edges,
            left: None,
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
        let desired = self.render(&config)?;
        let mut checks = planner::DaemonChecks::start(&desired, &self.opts.root);
        let plan = self.plan_for(&desired).await?;
        checks.finish().await?;
        Ok(plan)
    }

    fn render(&self, config: &config::Config) -> Result<Desired, EngineError> {
        Ok(Desired::render(
            config,
            &self.opts.root,
            &self.opts.state_dir,
        )?)
    }

    /// The edges, for status reports.
    pub fn edges(&self) -> &Edges {
        &self.edges
    }

    /// Files the generation in force generated. When `desired` is that
    /// same config, these are its own files: no second parse to learn them.
    fn owned_paths(&self, desired: &Desired) -> std::collections::BTreeSet<PathBuf> {
        let Ok(Some(current)) = self.opening.current() else {
            return Default::default();
        };
        if current.config == desired.redacted_config() {
            return desired.paths().cloned().collect();
        }
        let Ok(config) = config::load(&current.config, "current") else {
            return Default::default();
        };
        self.render(&config)
            .map(|d| d.paths().cloned().collect())
            .unwrap_or_default()
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
        let desired = self.render(&config)?;
        clock.lap("validate and render");
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
        let checks = planner::DaemonChecks::start(&desired, &self.opts.root);
        let plan = self.plan_for(&desired).await?;
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
            backups: self.backups_for(&plan),
            caller_uid: req.caller_uid,
            config: desired.redacted_config().to_owned(),
            plan: plan.lines(),
            network: plan.network_actions(),
            hostname_before: sets_hostname
                .then(|| crate::host::current_hostname().ok())
                .flatten(),
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
            .run_and_verify(&plan, &desired, checks, pause_at, &mut clock)
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
        journal.drop_kept(&self.opts.root);
        if let Err(e) = Journal::clear(state) {
            // The row says applied: the next start or apply drops it.
            tracing::warn!(generation, error = %e, "could not remove the apply journal");
        }
        Ok(())
    }

    fn backups_for(&self, plan: &Plan) -> Vec<Backup> {
        plan.actions
            .iter()
            .filter_map(|a| a.file().map(|path| Backup::take(&self.opts.root, path)))
            .collect()
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
        self.verify(desired).await?;
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
        let root = self.opts.root.clone();
        let files = files.to_vec();
        let writing = async {
            checks.finish().await?;
            tokio::task::spawn_blocking(move || {
                files.iter().try_for_each(|a| change_file(&root, a))
            })
            .await
            .map_err(|e| EngineError::Refused(format!("the file writer stopped: {e}")))?
        };
        let (applied, written) = tokio::join!(self.edges.apply_network_all(run), writing);
        applied?;
        written
    }

    async fn execute(&self, action: &Action) -> Result<(), EngineError> {
        let root = &self.opts.root;
        match action {
            Action::WriteFile { .. } | Action::RemoveFile { .. } => change_file(root, action),
            Action::SetHostname { hostname } => Ok(crate::host::set_hostname(hostname)?),
            Action::Net(a) => Ok(self.edges.apply_network(a).await?),
            Action::Service {
                service,
                change: ServiceChange::Refresh,
            } => Ok(self.edges.config_changed(*service).await?),
            Action::Service {
                service,
                change: ServiceChange::Stop,
            } => Ok(self.edges.stop(*service).await?),
            Action::Dahdi(step) => commands::run(root, &step.commands()).await,
            Action::DhcpClient { link, run } => self.dhcp_client(link, *run),
        }
    }

    fn dhcp_client(&self, link: &str, run: bool) -> Result<(), EngineError> {
        let Some(clients) = &self.edges.dhcp_clients else {
            return Ok(());
        };
        if run {
            clients
                .start(link)
                .map_err(io_err(format!("starting the DHCP client on {link}")))
        } else {
            clients.stop(link);
            Ok(())
        }
    }

    /// Reads the system back until it matches (brief retries), else fails.
    async fn verify(&self, desired: &Desired) -> Result<(), EngineError> {
        let mut left = self.plan_for(desired).await?;
        for _ in 0..10 {
            if left.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            left = self.plan_for(desired).await?;
        }
        Err(EngineError::Verify(left.lines()))
    }
}
