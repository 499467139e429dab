//! The supervisor backend: sysconfd runs the daemons itself as child
//! processes, restarts them when they crash (with a growing pause), and
//! kills them when it is dropped — except a daemon marked to outlive
//! sysconfd (keepalived: a restart of sysconfd must not look like a dead
//! box to the peer), which the next sysconfd finds again by its pid file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Display;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ntp::ChronyPaths;
use crate::services::{Service, ServiceState, ServicesError};

/// First pause before restarting a crashed daemon; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A daemon that ran this long before exiting starts again after the shortest pause.
const STABLE: Duration = Duration::from_secs(10);
/// How long a daemon gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How to run one daemon in the foreground.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// A pid file the daemon refuses to start over; removed before each start.
    pub pidfile: Option<PathBuf>,
    /// Where its output goes; inherited when `None`.
    pub log: Option<PathBuf>,
    /// Keeps running when sysconfd stops or dies; `pidfile` (which the
    /// daemon writes) lets the next sysconfd take it over.
    pub outlives_sysconfd: bool,
    /// The supervisor writes `pidfile` for a program that writes none.
    pub note_pidfile: bool,
}

impl Program {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Program {
            argv: argv.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            pidfile: None,
            log: None,
            outlives_sysconfd: false,
            note_pidfile: false,
        }
    }

    /// `keepalived -n -f conf` (VRRP only, logging to its output), with its
    /// pid files in `state_dir`. It outlives sysconfd: the VRRP state of the
    /// box must not change because its agent restarts.
    pub fn keepalived(conf: &Path, state_dir: &Path) -> Self {
        let mut p = Program::new([
            OsString::from("keepalived"),
            "--dont-fork".into(),
            "--vrrp".into(),
            "--log-console".into(),
            "--log-detail".into(),
            "--use-file".into(),
            conf.into(),
            "--pid".into(),
            state_dir.join("keepalived.pid").into(),
            "--vrrp_pid".into(),
            state_dir.join("keepalived-vrrp.pid").into(),
        ]);
        p.pidfile = Some(state_dir.join("keepalived.pid"));
        p.outlives_sysconfd = true;
        p
    }

    /// `kea-dhcp4 -c conf`, with its pid and lock files in `state_dir`.
    pub fn kea_dhcp4(conf: &Path, state_dir: &Path) -> Self {
        let stem = conf
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut p = Program::new([OsString::from("kea-dhcp4"), "-c".into(), conf.into()]);
        p.env.push(("KEA_PIDFILE_DIR".into(), state_dir.into()));
        p.env.push(("KEA_LOCKFILE_DIR".into(), state_dir.into()));
        p.pidfile = Some(state_dir.join(format!("{stem}.kea-dhcp4.pid")));
        p
    }

    /// `chronyd -d -f conf`; with `clock_control = false` (`-x`) it serves
    /// time without ever setting this machine's clock.
    pub fn chronyd(conf: &Path, paths: &ChronyPaths, clock_control: bool) -> Self {
        let mut p = Program::new([
            OsString::from("chronyd"),
            "-d".into(),
            "-f".into(),
            conf.into(),
        ]);
        if !clock_control {
            p.argv.push("-x".into());
        }
        p.pidfile = Some(paths.pidfile.clone());
        p
    }

    /// The same program run through `prefix`, which must exec it (such as
    /// `ip netns exec NAME`), so signals still reach the daemon.
    pub fn wrapped<S: Into<OsString> + Clone>(mut self, prefix: &[S]) -> Self {
        let mut argv: Vec<OsString> = prefix.iter().cloned().map(Into::into).collect();
        argv.append(&mut self.argv);
        self.argv = argv;
        self
    }

    /// The same program with more arguments.
    pub fn with_args(mut self, args: &[&str]) -> Self {
        self.argv.extend(args.iter().map(OsString::from));
        self
    }

    /// Sends its output to `path` (appended).
    pub fn log_to(mut self, path: &Path) -> Self {
        self.log = Some(path.to_owned());
        self
    }

    /// The daemon a previous sysconfd left running, by its pid file.
    fn find_running(&self) -> Option<u32> {
        if !self.outlives_sysconfd {
            return None;
        }
        let text = std::fs::read_to_string(self.pidfile.as_ref()?).ok()?;
        let pid: u32 = text.trim().parse().ok()?;
        let program = Path::new(self.argv.first()?).file_name()?;
        (running_program(pid).as_deref() == Some(&*program.to_string_lossy())).then_some(pid)
    }

    /// A daemon that outlives sysconfd is found again by its pid file;
    /// one that writes none gets it written for it.
    fn note_pid(&self, pid: Option<u32>) {
        if let (true, Some(path), Some(pid)) = (self.note_pidfile, &self.pidfile, pid) {
            if let Err(e) = std::fs::write(path, format!("{pid}\n")) {
                tracing::warn!(path = %path.display(), error = %e, "could not write a pid file");
            }
        }
    }

    fn spawn(&self) -> std::io::Result<Child> {
        if let Some(pidfile) = &self.pidfile {
            let _ = std::fs::remove_file(pidfile);
        }
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| std::io::Error::other("empty command line"))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null());
        if self.outlives_sysconfd {
            // Its own process group: a signal to sysconfd's group spares it.
            cmd.process_group(0);
        } else {
            cmd.kill_on_drop(true);
            // Die with sysconfd even when it is killed outright (no drop runs then).
            // SAFETY: prctl is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
                });
            }
        }
        if let Some(log) = &self.log {
            let file = File::options().create(true).append(true).open(log)?;
            cmd.stdout(file.try_clone()?).stderr(file);
        }
        cmd.spawn()
    }
}

/// A supervised daemon: its current pid (0 between runs) and its watcher.
#[derive(Debug)]
struct Running {
    pid: Arc<AtomicU32>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    outlives_sysconfd: bool,
    /// Times it was started (by this supervisor, or found running).
    starts: u64,
}

/// Runs the configured programs as child processes, each known by a key:
/// a [`Service`] for the daemons sysconfd configures, a unit name for the
/// services HA starts and stops.
#[derive(Debug)]
pub struct Supervisor<K = Service> {
    programs: BTreeMap<K, Program>,
    running: Mutex<BTreeMap<K, Running>>,
}

impl<K: Ord + Clone + Display + Send + Sync + 'static> Supervisor<K> {
    /// A supervisor for these programs; nothing runs until started.
    pub fn new(programs: impl IntoIterator<Item = (K, Program)>) -> Self {
        Supervisor {
            programs: programs.into_iter().collect(),
            running: Mutex::new(BTreeMap::new()),
        }
    }

    fn program(&self, service: &K) -> Result<&Program, ServicesError> {
        self.programs
            .get(service)
            .ok_or_else(|| ServicesError::Unknown {
                service: service.to_string(),
            })
    }

    /// Whether a program is configured for `service`.
    pub fn knows(&self, service: &K) -> bool {
        self.programs.contains_key(service)
    }

    /// Starts `service` unless it already runs (a daemon that outlives
    /// sysconfd may run from before: it is taken over); fails if it cannot
    /// be spawned.
    pub async fn start(&self, service: K) -> Result<(), ServicesError> {
        let program = self.program(&service)?.clone();
        let mut running = self.running.lock().expect("supervisor lock");
        let previous = running.get(&service);
        if previous.is_some_and(|r| !r.task.is_finished()) {
            return Ok(());
        }
        let starts = previous.map_or(0, |r| r.starts) + 1;
        let (stop, stopped) = oneshot::channel();
        let (pid, task) = match program.find_running() {
            Some(found) => {
                tracing::info!(%service, pid = found, "taking over the daemon already running");
                let pid = Arc::new(AtomicU32::new(found));
                let task =
                    tokio::spawn(watch(service.clone(), program, None, pid.clone(), stopped));
                (pid, task)
            }
            None => {
                let child = program.spawn().map_err(|e| ServicesError::Spawn {
                    service: service.to_string(),
                    source: e,
                })?;
                program.note_pid(child.id());
                let pid = Arc::new(AtomicU32::new(child.id().unwrap_or(0)));
                let task = tokio::spawn(watch(
                    service.clone(),
                    program.clone(),
                    Some(child),
                    pid.clone(),
                    stopped,
                ));
                (pid, task)
            }
        };
        let outlives_sysconfd = self.programs[&service].outlives_sysconfd;
        running.insert(
            service,
            Running {
                pid,
                stop: Some(stop),
                task,
                outlives_sysconfd,
                starts,
            },
        );
        Ok(())
    }

    /// How many times `service` was started since this supervisor began.
    pub fn starts(&self, service: &K) -> u64 {
        let running = self.running.lock().expect("supervisor lock");
        running.get(service).map_or(0, |r| r.starts)
    }

    /// Stops `service` (SIGTERM, then SIGKILL after a grace period) and waits for it.
    pub async fn stop(&self, service: K) -> Result<(), ServicesError> {
        let entry = self
            .running
            .lock()
            .expect("supervisor lock")
            .remove(&service);
        if let Some(mut r) = entry {
            if let Some(stop) = r.stop.take() {
                let _ = stop.send(());
            }
            let _ = r.task.await;
        }
        Ok(())
    }

    pub async fn restart(&self, service: K) -> Result<(), ServicesError> {
        self.stop(service.clone()).await?;
        self.start(service).await
    }

    /// Sends SIGHUP: Kea and keepalived re-read their configuration file.
    pub fn reload(&self, service: K) -> Result<(), ServicesError> {
        self.signal(service, Signal::SIGHUP)
    }

    /// Sends `signal` to the running daemon.
    pub fn signal(&self, service: K, signal: Signal) -> Result<(), ServicesError> {
        let pid = self.pid(service.clone()).ok_or(ServicesError::NotRunning {
            service: service.to_string(),
        })?;
        kill(Pid::from_raw(pid as i32), signal).map_err(|e| ServicesError::Signal {
            service: service.to_string(),
            source: e,
        })
    }

    /// The daemon's process id while it runs.
    pub fn pid(&self, service: K) -> Option<u32> {
        let running = self.running.lock().expect("supervisor lock");
        let r = running.get(&service)?;
        Some(r.pid.load(Ordering::SeqCst)).filter(|&p| p != 0 && !r.task.is_finished())
    }

    pub fn state(&self, service: K) -> ServiceState {
        let running = self.running.lock().expect("supervisor lock");
        match running.get(&service) {
            Some(r) if r.task.is_finished() => ServiceState::Failed,
            Some(r) if r.pid.load(Ordering::SeqCst) != 0 => ServiceState::Active,
            Some(_) => ServiceState::Activating,
            None => ServiceState::Inactive,
        }
    }
}

impl<K> Drop for Supervisor<K> {
    /// Kills every daemon at once, so none outlives sysconfd or a test
    /// (except those meant to).
    fn drop(&mut self) {
        let running = self
            .running
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        for (_, r) in running {
            let pid = r.pid.load(Ordering::SeqCst);
            if pid != 0 && !r.outlives_sysconfd {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
            r.task.abort();
        }
    }
}

fn alive(pid: u32) -> bool {
    kill(Pid::from_raw(pid as i32), None).is_ok()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
}

/// The name of the program process `pid` runs, unless it is gone (or a zombie).
pub fn running_program(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    alive(pid).then(|| comm.trim().to_owned())
}

/// Waits until the process `pid` (not a child of ours) is gone.
async fn gone(pid: u32) {
    while alive(pid) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGTERM to a daemon that is not our child, SIGKILL after the grace period.
async fn terminate_pid(pid: u32) {
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    if tokio::time::timeout(STOP_GRACE, gone(pid)).await.is_err() {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
}

/// Waits on the daemon (a child, or one found running: by its pid); starts
/// it again after a crash until told to stop.
async fn watch<K: Display>(
    service: K,
    program: Program,
    mut child: Option<Child>,
    pid: Arc<AtomicU32>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let started = Instant::now();
        match child.as_mut() {
            Some(c) => tokio::select! {
                status = c.wait() => {
                    pid.store(0, Ordering::SeqCst);
                    tracing::warn!(%service, ?status, "daemon exited; starting it again in {backoff:?}");
                }
                _ = &mut stop => {
                    terminate(c).await;
                    pid.store(0, Ordering::SeqCst);
                    return;
                }
            },
            None => {
                let found = pid.load(Ordering::SeqCst);
                tokio::select! {
                    _ = gone(found) => {
                        pid.store(0, Ordering::SeqCst);
                        tracing::warn!(%service, "daemon exited; starting it again in {backoff:?}");
                    }
                    _ = &mut stop => {
                        terminate_pid(found).await;
                        pid.store(0, Ordering::SeqCst);
                        return;
                    }
                }
            }
        }
        if started.elapsed() > STABLE {
            backoff = MIN_BACKOFF;
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = &mut stop => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
        let next = loop {
            match program.spawn() {
                Ok(c) => {
                    program.note_pid(c.id());
                    break c;
                }
                Err(e) => {
                    tracing::warn!(%service, "could not start again: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = &mut stop => return,
                    }
                }
            }
        };
        pid.store(next.id().unwrap_or(0), Ordering::SeqCst);
        child = Some(next);
    }
}

/// SIGTERM, then SIGKILL if the daemon is still there after the grace period.
async fn terminate(child: &mut Child) {
    if let Some(id) = child.id() {
        let _ = kill(Pid::from_raw(id as i32), Signal::SIGTERM);
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper() -> Supervisor {
        Supervisor::new([(Service::Ntp, Program::new(["sleep", "1000"]))])
    }

    async fn wait_for_pid(s: &Supervisor, not: Option<u32>) -> u32 {
        for _ in 0..100 {
            if let Some(p) = s.pid(Service::Ntp).filter(|p| Some(*p) != not) {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the supervised program did not (re)start within 5 s");
    }

    #[tokio::test]
    async fn a_crashed_daemon_is_started_again() {
        let s = sleeper();
        s.start(Service::Ntp).await.unwrap();
        let first = wait_for_pid(&s, None).await;
        assert_eq!(s.state(Service::Ntp), ServiceState::Active);
        kill(Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();
        let second = wait_for_pid(&s, Some(first)).await;
        assert_ne!(first, second);
        s.stop(Service::Ntp).await.unwrap();
        assert!(!alive(second), "stop must end the daemon");
        assert_eq!(s.state(Service::Ntp), ServiceState::Inactive);
    }

    #[tokio::test]
    async fn dropping_the_supervisor_kills_its_daemons() {
        let s = sleeper();
        s.start(Service::Ntp).await.unwrap();
        let pid = wait_for_pid(&s, None).await;
        drop(s);
        for _ in 0..100 {
            // Reaped by tokio, or at least a zombie no longer running `sleep`.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z ") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("pid {pid} still runs after the supervisor was dropped");
    }

    #[tokio::test]
    async fn unknown_services_and_signals_to_stopped_ones_are_errors() {
        let s = sleeper();
        assert!(matches!(
            s.start(Service::Dhcp).await,
            Err(ServicesError::Unknown { .. })
        ));
        assert!(matches!(
            s.reload(Service::Ntp),
            Err(ServicesError::NotRunning { .. })
        ));
    }
}
