//! The HA runtime: follows keepalived's notify FIFO, runs the health
//! checks, feeds the [`Machine`], carries out its commands (keepalived's
//! track files, the services, the Berofos relays) and keeps what it did on
//! disk, so a restart of sysconfd neither repeats nor loses a transition.
//!
//! One task owns the machine and handles one event at a time, in order:
//! keepalived's notices, health verdicts, Promote/Demote, config changes.
//! A transition is written down as pending before its actions run and as
//! done after; a restart finds a pending one and finishes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use appliance::ha::{HaAction, HaPath, HaStatus, HaTransition};
use berofos::RelayMode;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use super::fifo::{self, Notice};
use super::machine::{Command, Input, Kept, Machine, Path as VrrpPath, VrrpState};
use super::relays;
use super::services::HaServices;
use super::settings::{HaPaths, HaSettings, Side, CHECK_FALL, CHECK_GRACE, CHECK_INTERVAL};
use crate::os::ha::HaOs;
use crate::root::Root;

/// Transitions kept in the history.
const HISTORY: usize = 200;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A transition written down before its actions run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    seq: u64,
    to: String,
    reason: String,
    noticed_at: f64,
}

/// What is kept on disk (`ha/state.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Record {
    kept: Kept,
    seq: u64,
    #[serde(default)]
    pending: Option<Pending>,
    #[serde(default)]
    history: Vec<HaTransition>,
}

impl Record {
    fn load(os: &dyn HaOs, path: &Path) -> Record {
        os.load_record(path)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, os: &dyn HaOs, path: &Path) {
        let text = serde_json::to_vec_pretty(self).unwrap_or_default();
        if let Err(e) = os.save_record(path, &text) {
            tracing::error!(path = %path.display(), error = %e, "could not record the HA state");
        }
    }
}

enum Admin {
    Promote,
    Demote,
}

enum Event {
    Notice(Notice),
    Health(Result<(), String>),
    Admin(Admin, u32, oneshot::Sender<Result<String, String>>),
    Config(Box<Option<HaSettings>>),
}

/// What the bus reads, refreshed after each event.
#[derive(Default)]
struct View {
    settings: Option<HaSettings>,
    state: String,
    healthy: bool,
    unhealthy: String,
    vrrp: (VrrpState, VrrpState),
    guard: bool,
    failback_at: Option<Instant>,
    two_masters: u64,
    history: Vec<HaTransition>,
}

/// The handle the bus and the daemon hold.
pub struct Ha {
    tx: mpsc::UnboundedSender<Event>,
    view: Mutex<View>,
    services: Arc<HaServices>,
    kicks: Arc<AtomicU64>,
    conn: std::sync::OnceLock<zbus::Connection>,
}

/// The runtime before its tasks start (see [`Ha::prepare`]).
pub struct Prepared {
    ha: Arc<Ha>,
    runtime: Runtime,
    rx: mpsc::UnboundedReceiver<Event>,
}

struct Runtime {
    /// Everything the runtime does to the machine but the services and relays.
    os: Arc<dyn HaOs>,
    paths: HaPaths,
    bnfos_conf: PathBuf,
    services: Arc<HaServices>,
    settings: Option<HaSettings>,
    machine: Option<Machine>,
    record: Record,
    epoch: Instant,
    deferred: Vec<Command>,
    gate: Arc<Gate>,
    settings_tx: watch::Sender<Option<HaSettings>>,
    two_masters: u64,
    unhealthy: String,
}

/// What the health and watchdog tasks need to know.
struct Gate {
    active: AtomicBool,
    since: Mutex<Option<Instant>>,
    healthy: AtomicBool,
}

fn machine_for(s: &HaSettings) -> Option<Machine> {
    (s.side != Side::Standalone).then(|| {
        Machine::new(
            s.side,
            s.second.is_some(),
            s.failover_delay,
            s.failback_delay,
        )
    })
}

impl Ha {
    /// Restores what was done before a restart and writes keepalived's
    /// track files, before the engine starts keepalived. `settings` is
    /// what the configuration in force asks for; `os` is the machine.
    pub fn prepare(
        root: &Root,
        state_dir: &Path,
        services: HaServices,
        settings: Option<HaSettings>,
        os: Arc<dyn HaOs>,
    ) -> Prepared {
        let paths = HaPaths::under(state_dir);
        if let Err(e) = os.create_fifo(&paths.fifo()) {
            tracing::error!(dir = %paths.dir.display(), error = %e, "could not prepare the HA directory");
        }
        let mut record = Record::load(&*os, &paths.state_file());
        // The keepalived a previous sysconfd started may still run.
        if !os.keepalived_runs(&state_dir.join("keepalived.pid")) {
            // A fresh keepalived knows nothing yet: neither do we.
            record.kept.advert = VrrpState::Unknown;
            record.kept.second = VrrpState::Unknown;
        }
        let services = Arc::new(services);
        let (tx, rx) = mpsc::unbounded_channel();
        let (settings_tx, _) = watch::channel(settings.clone());
        let mut runtime = Runtime {
            os,
            paths,
            bnfos_conf: root.path(crate::engine::desired::BNFOS_CONF),
            services: services.clone(),
            machine: settings
                .as_ref()
                .and_then(machine_for)
                .map(|m| m.restored(&record.kept)),
            settings,
            record,
            epoch: Instant::now(),
            deferred: Vec::new(),
            gate: Arc::new(Gate {
                active: AtomicBool::new(false),
                since: Mutex::new(None),
                healthy: AtomicBool::new(true),
            }),
            settings_tx,
            two_masters: 0,
            unhealthy: String::new(),
        };
        let active = runtime.record.kept.active;
        runtime.gate.active.store(active, Ordering::SeqCst);
        if active {
            *runtime.gate.since.lock().expect("gate") = Some(Instant::now());
        }
        if let Some(m) = runtime.machine.as_mut() {
            let now = runtime.epoch.elapsed().as_millis() as u64;
            for cmd in m.step(now, Input::Tick) {
                match cmd {
                    Command::Priority(_) | Command::Fault(_) => runtime.write_track(&cmd),
                    other => runtime.deferred.push(other),
                }
            }
        }
        let ha = Arc::new(Ha {
            tx,
            view: Mutex::new(View::default()),
            services,
            kicks: Arc::new(AtomicU64::new(0)),
            conn: std::sync::OnceLock::new(),
        });
        runtime.publish(&ha);
        Prepared { ha, runtime, rx }
    }

    /// Where transition signals go once the bus is up.
    pub fn set_connection(&self, conn: zbus::Connection) {
        let _ = self.conn.set(conn);
    }

    /// The configuration in force changed: `settings` is what it asks for.
    pub fn reconfigure(&self, settings: Option<HaSettings>) {
        let _ = self.tx.send(Event::Config(Box::new(settings)));
    }

    async fn admin(&self, what: Admin, uid: u32) -> Result<String, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Event::Admin(what, uid, reply))
            .map_err(|_| "the HA runtime is not running".to_owned())?;
        answer
            .await
            .map_err(|_| "the HA runtime stopped".to_owned())?
    }

    pub async fn promote(&self, uid: u32) -> Result<String, String> {
        self.admin(Admin::Promote, uid).await
    }

    pub async fn demote(&self, uid: u32) -> Result<String, String> {
        self.admin(Admin::Demote, uid).await
    }

    /// Transitions, newest first.
    pub fn history(&self) -> Vec<HaTransition> {
        let view = self.view.lock().expect("ha view");
        view.history.iter().rev().cloned().collect()
    }

    pub async fn status(&self) -> HaStatus {
        let (settings, mut status) =
            {
                let v = self.view.lock().expect("ha view");
                let settings = v.settings.clone();
                let role = match settings.as_ref().map(|s| s.side) {
                    Some(Side::Master) => "master",
                    Some(Side::Slave) => "slave",
                    _ => "disabled",
                };
                let paths = settings
                    .iter()
                    .flat_map(|s| {
                        s.paths().map(|p| {
                            let state = if p.instance == "telbox" {
                                v.vrrp.0
                            } else {
                                v.vrrp.1
                            };
                            HaPath {
                                name: if p.instance == "telbox" {
                                    "advert"
                                } else {
                                    "second"
                                }
                                .into(),
                                interface: p.interface.clone(),
                                peer: p.peer.to_string(),
                                vrrp: state.to_string(),
                                peer_advertising: state == VrrpState::Backup,
                            }
                        })
                    })
                    .collect();
                let status = HaStatus {
                role: role.into(),
                state: v.state.clone(),
                healthy: v.healthy,
                unhealthy: v.unhealthy.clone(),
                paths,
                guard: v.guard.then(|| {
                    "the advert path is silent but the peer still advertises on the second path: \
                     not taking over"
                        .to_owned()
                }),
                failback_in_s: v
                    .failback_at
                    .map(|t| t.saturating_duration_since(Instant::now()).as_secs_f64()),
                services: BTreeMap::new(),
                berofos: settings.as_ref().map(|s| s.berofos.clone()).unwrap_or_default(),
                watchdog_kicks: self.kicks.load(Ordering::SeqCst),
                two_masters_seen: v.two_masters,
                last_transition: v.history.last().cloned(),
            };
                (settings, status)
            };
        for name in settings.iter().flat_map(|s| s.services.iter()) {
            status
                .services
                .insert(name.clone(), self.services.state(name).await);
        }
        status
    }
}

impl Prepared {
    pub fn handle(&self) -> Arc<Ha> {
        self.ha.clone()
    }

    /// Starts following keepalived, the health checks, the watchdog kicks
    /// and the event loop.
    pub fn spawn(self) {
        let Prepared { ha, runtime, rx } = self;
        let tx = ha.tx.clone();
        let (ntx, mut nrx) = mpsc::unbounded_channel();
        tokio::spawn(fifo::follow(runtime.os.clone(), runtime.paths.fifo(), ntx));
        let forward = tx.clone();
        tokio::spawn(async move {
            while let Some(n) = nrx.recv().await {
                if forward.send(Event::Notice(n)).is_err() {
                    return;
                }
            }
        });
        tokio::spawn(health_loop(
            runtime.settings_tx.subscribe(),
            runtime.services.clone(),
            runtime.os.clone(),
            runtime.gate.clone(),
            tx,
        ));
        tokio::spawn(watchdog_loop(
            runtime.settings_tx.subscribe(),
            runtime.bnfos_conf.clone(),
            runtime.gate.clone(),
            ha.kicks.clone(),
        ));
        tokio::spawn(runtime.run(ha, rx));
    }
}

impl Runtime {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    async fn run(mut self, ha: Arc<Ha>, mut rx: mpsc::UnboundedReceiver<Event>) {
        if let Some(p) = self.record.pending.take() {
            tracing::warn!(seq = p.seq, to = %p.to, "finishing a transition a restart interrupted");
            self.finish(&ha, p).await;
        }
        for cmd in std::mem::take(&mut self.deferred) {
            self.execute(&ha, cmd).await;
        }
        if self.machine.as_ref().is_some_and(|m| m.is_active()) {
            // Active before the restart: the services run on (found again,
            // not started anew); one that died meanwhile is started.
            self.ensure_running().await;
        }
        if let Some(s) = &self.settings {
            apply_nft(&*self.os, Some(s)).await;
            if s.side == Side::Standalone {
                self.standalone_start().await;
            }
        }
        self.publish(&ha);
        loop {
            let deadline = self.machine.as_ref().and_then(|m| m.deadline());
            let sleep = match deadline {
                Some(at) => Duration::from_millis(at.saturating_sub(self.now())),
                None => Duration::from_secs(3600),
            };
            let input = tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ev) => self.input_for(&ha, ev).await,
                    None => return,
                },
                _ = tokio::time::sleep(sleep) => Some((Input::Tick, None)),
            };
            if let Some((input, reply)) = input {
                self.step(&ha, input).await;
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(self.state_word()));
                }
            }
            self.publish(&ha);
        }
    }

    /// Turns an event into the machine's input (some need no step).
    async fn input_for(
        &mut self,
        ha: &Ha,
        ev: Event,
    ) -> Option<(Input, Option<oneshot::Sender<Result<String, String>>>)> {
        match ev {
            Event::Notice(Notice::State(path, state)) => {
                if self.machine.is_none() {
                    // Remembered for the machine a config change builds.
                    match path {
                        VrrpPath::Advert => self.record.kept.advert = state,
                        VrrpPath::Second => self.record.kept.second = state,
                    }
                    return None;
                }
                Some((Input::Vrrp(path, state), None))
            }
            Event::Notice(Notice::LowerPriorityPeer(path)) => {
                self.two_masters += 1;
                tracing::warn!(
                    ?path,
                    "two masters: the peer with the lower priority steps down"
                );
                None
            }
            Event::Health(verdict) => {
                let healthy = verdict.is_ok();
                self.unhealthy = verdict.err().unwrap_or_default();
                self.gate.healthy.store(healthy, Ordering::SeqCst);
                Some((
                    Input::Health {
                        healthy,
                        why: self.unhealthy.clone(),
                    },
                    None,
                ))
            }
            Event::Admin(what, uid, reply) => {
                if self.machine.is_none() {
                    let _ =
                        reply.send(Err("this box is not part of an HA pair ([ha] role)".into()));
                    return None;
                }
                let input = match what {
                    Admin::Promote => Input::Promote(uid),
                    Admin::Demote => Input::Demote(uid),
                };
                Some((input, Some(reply)))
            }
            Event::Config(settings) => {
                self.reconfigure(ha, *settings).await;
                None
            }
        }
    }

    async fn step(&mut self, ha: &Ha, input: Input) {
        let now = self.now();
        let Some(m) = self.machine.as_mut() else {
            return;
        };
        let cmds = m.step(now, input);
        let kept = m.kept();
        let changed_vrrp = kept != self.record.kept;
        for cmd in cmds {
            self.execute(ha, cmd).await;
        }
        if changed_vrrp {
            self.record.kept = self.machine.as_ref().map(|m| m.kept()).unwrap_or_default();
            self.record.save(&*self.os, &self.paths.state_file());
        }
    }

    fn write_track(&self, cmd: &Command) {
        let (path, text) = match cmd {
            Command::Priority(v) => (self.paths.priority_file(), format!("{v}\n")),
            Command::Fault(f) => (self.paths.health_file(), format!("{}\n", u8::from(*f))),
            _ => return,
        };
        if let Err(e) = self.os.write_track_file(&path, &text) {
            tracing::error!(path = %path.display(), error = %e, "could not write keepalived's track file");
        }
    }

    async fn execute(&mut self, ha: &Ha, cmd: Command) {
        match cmd {
            Command::Priority(_) | Command::Fault(_) => self.write_track(&cmd),
            Command::Activate { reason } => self.transition(ha, "active", reason).await,
            Command::Standby { reason } => self.transition(ha, "standby", reason).await,
        }
    }

    async fn transition(&mut self, ha: &Ha, to: &str, reason: String) {
        self.record.seq += 1;
        let pending = Pending {
            seq: self.record.seq,
            to: to.to_owned(),
            reason,
            noticed_at: unix_now(),
        };
        self.record.pending = Some(pending.clone());
        if let Some(m) = &self.machine {
            self.record.kept = m.kept();
        }
        self.record.save(&*self.os, &self.paths.state_file());
        self.finish(ha, pending).await;
    }

    /// Carries out a transition written down as pending, then records it done.
    async fn finish(&mut self, ha: &Ha, p: Pending) {
        let active = p.to == "active";
        self.gate.active.store(active, Ordering::SeqCst);
        *self.gate.since.lock().expect("gate") = active.then(Instant::now);
        let actions = self.perform(active).await;
        tracing::info!(seq = p.seq, to = %p.to, reason = %p.reason, "HA transition done");
        let t = HaTransition {
            seq: p.seq,
            to: p.to,
            reason: p.reason,
            noticed_at: p.noticed_at,
            done_at: unix_now(),
            actions,
        };
        self.record.history.push(t.clone());
        let excess = self.record.history.len().saturating_sub(HISTORY);
        self.record.history.drain(..excess);
        self.record.pending = None;
        self.record.save(&*self.os, &self.paths.state_file());
        self.publish(ha);
        if let Some(conn) = ha.conn.get() {
            let json = serde_json::to_string(&t).unwrap_or_default();
            if let Ok(emitter) =
                zbus::object_server::SignalEmitter::new(conn, appliance::dbus::OBJECT_PATH)
            {
                if let Err(e) = crate::bus::HaIface::transition(&emitter, &json).await {
                    tracing::warn!(error = %e, "could not send the Transition signal");
                }
            }
        }
    }

    /// Becoming active: the service address on and announced, the services
    /// started, the relays thrown; going to standby: the services stopped,
    /// the address off, the relays thrown.
    async fn perform(&self, active: bool) -> Vec<HaAction> {
        let Some(s) = &self.settings else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        if active {
            actions.extend(self.service_address(s, true).await);
        }
        let names: Vec<&String> = if active {
            s.services.iter().collect()
        } else {
            s.services.iter().rev().collect()
        };
        for name in names {
            let (verb, result) = if active {
                ("start", self.services.start(name).await)
            } else {
                ("stop", self.services.stop(name).await)
            };
            actions.push(action(
                format!("{verb} {name}"),
                result.map_err(|e| e.to_string()),
            ));
        }
        if !active {
            actions.extend(self.service_address(s, false).await);
        }
        let mode = match (s.side, active) {
            (Side::Slave, true) => Some(RelayMode::Slave),
            (Side::Slave, false) | (Side::Master, true) => Some(RelayMode::Master),
            _ => None,
        };
        if let (Some(mode), false) = (mode, s.berofos.is_empty()) {
            let conf = self.bnfos_conf.clone();
            let names = s.berofos.clone();
            match tokio::task::spawn_blocking(move || relays::throw(&conf, &names, mode)).await {
                Ok(mut done) => actions.append(&mut done),
                Err(e) => actions.push(HaAction {
                    what: format!("berofos {}", mode.ports()),
                    ok: false,
                    detail: e.to_string(),
                }),
            }
        }
        actions
    }

    /// Puts the service address on its link and announces it, or takes it
    /// away; nothing without one.
    async fn service_address(&self, s: &HaSettings, present: bool) -> Vec<HaAction> {
        let Some((address, link)) = &s.virtual_address else {
            return Vec::new();
        };
        let what = if present { "add" } else { "remove" };
        let result = self
            .os
            .set_service_address(link.clone(), *address, present)
            .await;
        let mut actions = vec![action(
            format!("{what} address {address} on {link}"),
            result,
        )];
        if present && actions[0].ok {
            let result = self.os.announce(link.clone(), address.addr).await;
            actions.push(action(
                format!("announce {} on {link}", address.addr),
                result,
            ));
        }
        actions
    }

    /// An active box whose service address changed: the old one off, the
    /// new one on and announced.
    async fn move_service_address(&self, old: Option<&HaSettings>) {
        let (Some(old), Some(new)) = (old, self.settings.as_ref()) else {
            return;
        };
        if old.virtual_address != new.virtual_address {
            self.service_address(old, false).await;
            self.service_address(new, true).await;
        }
    }

    async fn ensure_running(&self) {
        let Some(s) = &self.settings else {
            return;
        };
        for name in &s.services {
            if let Err(e) = self.services.start(name).await {
                tracing::error!(service = %name, error = %e, "could not start an HA service");
            }
        }
    }

    /// A standalone box runs its services (it is the only one).
    async fn standalone_start(&mut self) {
        let Some(s) = &self.settings else {
            return;
        };
        for name in &s.services {
            if let Err(e) = self.services.start(name).await {
                tracing::error!(service = %name, error = %e, "could not start a service");
            }
        }
        self.gate.active.store(true, Ordering::SeqCst);
        *self.gate.since.lock().expect("gate") = Some(Instant::now());
    }

    async fn reconfigure(&mut self, ha: &Ha, settings: Option<HaSettings>) {
        if settings == self.settings {
            return;
        }
        tracing::info!(enabled = settings.is_some(), "HA settings changed");
        let was_active = self.machine.as_ref().is_some_and(|m| m.is_active());
        let same_shape = matches!((&settings, &self.settings), (Some(a), Some(b))
            if a.side == b.side && a.second.is_some() == b.second.is_some()
                && a.failover_delay == b.failover_delay && a.failback_delay == b.failback_delay);
        if !same_shape {
            if was_active {
                self.transition(ha, "standby", "HA configuration changed".into())
                    .await;
            }
            let kept = Kept {
                active: false,
                ..self.record.kept.clone()
            };
            self.machine = settings
                .as_ref()
                .and_then(machine_for)
                .map(|m| m.restored(&kept));
        }
        let old = std::mem::replace(&mut self.settings, settings.clone());
        if was_active && same_shape {
            self.move_service_address(old.as_ref()).await;
        }
        let _ = self.settings_tx.send(settings.clone());
        apply_nft(&*self.os, settings.as_ref()).await;
        if settings
            .as_ref()
            .is_some_and(|s| s.side == Side::Standalone)
        {
            self.standalone_start().await;
        }
        let now = self.now();
        if let Some(m) = self.machine.as_mut() {
            let cmds = m.step(now, Input::Tick);
            for cmd in cmds {
                self.execute(ha, cmd).await;
            }
        }
    }

    fn state_word(&self) -> String {
        match (&self.settings, &self.machine) {
            (None, _) => "off",
            (Some(_), None) => "active",
            (Some(_), Some(m)) if m.is_active() => "active",
            (Some(_), Some(m)) if m.is_demoted() => "demoted",
            _ => "standby",
        }
        .to_owned()
    }

    fn publish(&self, ha: &Ha) {
        let mut v = ha.view.lock().expect("ha view");
        v.settings = self.settings.clone();
        v.state = self.state_word();
        let now = self.now();
        match &self.machine {
            Some(m) => {
                v.healthy = m.is_healthy();
                v.vrrp = m.vrrp();
                v.guard = m.guarded();
                v.failback_at = m
                    .failback_left(now)
                    .map(|s| Instant::now() + Duration::from_secs_f64(s));
            }
            None => {
                v.healthy = self.gate.healthy.load(Ordering::SeqCst);
                v.vrrp = (VrrpState::Unknown, VrrpState::Unknown);
                v.guard = false;
                v.failback_at = None;
            }
        }
        v.unhealthy = if v.healthy {
            String::new()
        } else {
            self.unhealthy.clone()
        };
        v.two_masters = self.two_masters;
        v.history = self.record.history.clone();
    }
}

/// Loads (or removes) the nftables table that lets VRRP in from the peer only.
/// One thing a transition did, and how it went; a failure is logged.
fn action(what: String, result: Result<(), String>) -> HaAction {
    if let Err(e) = &result {
        tracing::error!(action = %what, error = %e, "an HA action failed");
    }
    HaAction {
        what,
        ok: result.is_ok(),
        detail: result.err().unwrap_or_default(),
    }
}

async fn apply_nft(os: &dyn HaOs, settings: Option<&HaSettings>) {
    let rules = match settings {
        Some(s) if s.side != Side::Standalone => super::render::nft_rules(s),
        _ => super::render::nft_removal(),
    };
    if let Err(e) = os.load_nft(rules).await {
        tracing::error!(error = %e, "nft refused the VRRP rules");
    }
}

/// Runs the health checks while the box is active (always, standalone)
/// and sends a verdict each time it changes.
async fn health_loop(
    mut settings: watch::Receiver<Option<HaSettings>>,
    services: Arc<HaServices>,
    os: Arc<dyn HaOs>,
    gate: Arc<Gate>,
    tx: mpsc::UnboundedSender<Event>,
) {
    let mut fails = 0u32;
    let mut reported: Result<(), String> = Ok(());
    let mut tick = tokio::time::interval(CHECK_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(s) = settings.borrow_and_update().clone() else {
            fails = 0;
            continue;
        };
        let since = *gate.since.lock().expect("gate");
        let checking =
            gate.active.load(Ordering::SeqCst) && since.is_some_and(|t| t.elapsed() >= CHECK_GRACE);
        let verdict = if !checking {
            fails = 0;
            Ok(())
        } else {
            match super::health::check(&s, &services, &*os).await {
                Ok(()) => {
                    fails = 0;
                    Ok(())
                }
                Err(why) => {
                    fails += 1;
                    if fails >= CHECK_FALL {
                        Err(why)
                    } else {
                        reported.clone()
                    }
                }
            }
        };
        if verdict != reported {
            match &verdict {
                Ok(()) => tracing::info!("HA health checks pass"),
                Err(why) => tracing::warn!(why = %why, "HA health check failed"),
            }
            reported = verdict.clone();
            if tx.send(Event::Health(verdict)).is_err() {
                return;
            }
        }
    }
}

/// On a standalone box, kicks the watchdog of each Berofos set up for a
/// bypass while the health checks pass; stops kicking when they fail, so
/// the device drops the lines to the legacy PBX.
async fn watchdog_loop(
    settings: watch::Receiver<Option<HaSettings>>,
    bnfos_conf: PathBuf,
    gate: Arc<Gate>,
    kicks: Arc<AtomicU64>,
) {
    /// How often each device's scenario and watchdog are read again.
    const REFRESH: Duration = Duration::from_secs(10);
    let mut armed: BTreeMap<String, (Option<Duration>, Instant)> = BTreeMap::new();
    let mut last_kick: BTreeMap<String, Instant> = BTreeMap::new();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let names = match settings.borrow().as_ref() {
            Some(s) if s.side == Side::Standalone => s.berofos.clone(),
            _ => {
                armed.clear();
                continue;
            }
        };
        for name in names {
            let stale = armed
                .get(&name)
                .is_none_or(|(_, at)| at.elapsed() >= REFRESH);
            if stale {
                let (conf, n) = (bnfos_conf.clone(), name.clone());
                let found =
                    tokio::task::spawn_blocking(move || relays::bypass_kick_interval(&conf, &n))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                let interval = match found {
                    Ok(i) => i,
                    Err(e) => {
                        tracing::warn!(device = %name, error = %e, "could not read the Berofos watchdog");
                        None
                    }
                };
                armed.insert(name.clone(), (interval, Instant::now()));
            }
            let Some((Some(interval), _)) = armed.get(&name) else {
                continue;
            };
            if !gate.healthy.load(Ordering::SeqCst) {
                continue;
            }
            if last_kick
                .get(&name)
                .is_some_and(|t| t.elapsed() < *interval)
            {
                continue;
            }
            let (conf, n) = (bnfos_conf.clone(), name.clone());
            match tokio::task::spawn_blocking(move || relays::kick(&conf, &n)).await {
                Ok(Ok(())) => {
                    kicks.fetch_add(1, Ordering::SeqCst);
                    last_kick.insert(name, Instant::now());
                }
                Ok(Err(e)) => tracing::warn!(device = %name, error = %e, "watchdog kick failed"),
                Err(e) => tracing::warn!(error = %e, "watchdog kick"),
            }
        }
    }
}
