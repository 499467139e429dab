//! Fault injection at the seam: [`Faulty`] wraps any [`Os`] and, at the
//! n-th call that changes the machine, fails it or "crashes": the call
//! panics before it takes effect, and so does every call after it, as
//! nothing more happens to a machine whose sysconfd died. The engine's
//! journal is what the next start finds.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use hwmgr::detect::{DetectError, Inventory};
use hwmgr::firmware::{FirmwareError, FirmwarePresence};
use hwmgr::status::{SpanStatus, StatusError};

use super::{FileState, Os, OsError};
use crate::host::HostError;
use crate::network::{DhclientLease, NetAction, NetError, NetState};
use crate::ntp::{NtpError, NtpStatus};
use crate::services::{Service, ServiceState, ServicesError};

/// What happens at the chosen change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The process dies before change `n` (0 is the first) takes effect.
    CrashAt(usize),
    /// Change `n` fails with this message and has no effect; the rest work.
    FailAt(usize, String),
    /// Change `n` says it succeeded but has no effect (a kernel or daemon
    /// that did not take it): only reading the machine back shows it.
    LoseAt(usize),
}

/// What becomes of one change.
enum Verdict {
    Make,
    Fail(String),
    Lose,
}

/// The message of the panic a simulated crash raises.
pub const CRASH: &str = "simulated crash";

pub struct Faulty {
    inner: Arc<dyn Os>,
    fault: Option<Fault>,
    changes: AtomicUsize,
    dead: AtomicBool,
}

impl Faulty {
    pub fn new(inner: Arc<dyn Os>, fault: Option<Fault>) -> Faulty {
        Faulty {
            inner,
            fault,
            changes: AtomicUsize::new(0),
            dead: AtomicBool::new(false),
        }
    }

    /// How many changes were attempted.
    pub fn changes(&self) -> usize {
        self.changes.load(Ordering::SeqCst)
    }

    /// Whether the simulated crash happened.
    pub fn crashed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Any call: a dead process makes none.
    fn alive(&self) {
        if self.crashed() {
            panic!("{CRASH}: no call after the crash");
        }
    }

    /// A change: counts it, and crashes, fails or loses it when it is the chosen one.
    fn verdict(&self) -> Verdict {
        self.alive();
        let n = self.changes.fetch_add(1, Ordering::SeqCst);
        match &self.fault {
            Some(Fault::CrashAt(k)) if *k == n => {
                self.dead.store(true, Ordering::SeqCst);
                panic!("{CRASH} before change {n}");
            }
            Some(Fault::FailAt(k, message)) if *k == n => Verdict::Fail(message.clone()),
            Some(Fault::LoseAt(k)) if *k == n => Verdict::Lose,
            _ => Verdict::Make,
        }
    }

    /// A file change: made, failed as an I/O error, or lost (`lost` returned).
    fn file_change<T>(&self, lost: T, make: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        match self.verdict() {
            Verdict::Make => make(),
            Verdict::Fail(m) => Err(io::Error::other(m)),
            Verdict::Lose => Ok(lost),
        }
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(async move { value })
}

impl Os for Faulty {
    fn read_file(&self, path: &Path) -> io::Result<Option<FileState>> {
        self.alive();
        self.inner.read_file(path)
    }

    fn read_secret_file(&self, path: &Path) -> io::Result<String> {
        self.alive();
        self.inner.read_secret_file(path)
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: u32, durable: bool) -> io::Result<()> {
        self.file_change((), || self.inner.write_file(path, contents, mode, durable))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.file_change((), || self.inner.remove_file(path))
    }

    fn keep_file(&self, path: &Path) -> io::Result<()> {
        self.file_change((), || self.inner.keep_file(path))
    }

    fn put_back_kept(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<bool> {
        self.file_change(false, || self.inner.put_back_kept(path, contents, mode))
    }

    fn drop_kept(&self, path: &Path) -> io::Result<()> {
        self.file_change((), || self.inner.drop_kept(path))
    }

    fn hostname(&self) -> Result<String, HostError> {
        self.alive();
        self.inner.hostname()
    }

    fn set_hostname(&self, name: &str) -> Result<(), HostError> {
        match self.verdict() {
            Verdict::Make => self.inner.set_hostname(name),
            Verdict::Fail(_) => Err(HostError::Set {
                name: name.to_owned(),
                source: nix::Error::EPERM,
            }),
            Verdict::Lose => Ok(()),
        }
    }

    fn observe_network(&self) -> BoxFuture<'_, Result<Option<NetState>, NetError>> {
        self.alive();
        self.inner.observe_network()
    }

    fn apply_network<'a>(
        &'a self,
        actions: &'a [NetAction],
    ) -> BoxFuture<'a, Result<(), NetError>> {
        match self.verdict() {
            Verdict::Make => self.inner.apply_network(actions),
            Verdict::Fail(m) => ready(Err(NetError::Connect(io::Error::other(m)))),
            Verdict::Lose => ready(Ok(())),
        }
    }

    fn service_state(&self, service: Service) -> BoxFuture<'_, Option<ServiceState>> {
        self.alive();
        self.inner.service_state(service)
    }

    fn refresh_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>> {
        match self.verdict() {
            Verdict::Make => self.inner.refresh_service(service),
            Verdict::Fail(_) => ready(Err(ServicesError::NotRunning {
                service: service.to_string(),
            })),
            Verdict::Lose => ready(Ok(())),
        }
    }

    fn stop_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>> {
        match self.verdict() {
            Verdict::Make => self.inner.stop_service(service),
            Verdict::Fail(_) => ready(Err(ServicesError::NotRunning {
                service: service.to_string(),
            })),
            Verdict::Lose => ready(Ok(())),
        }
    }

    fn check_config(&self, service: Service, contents: &str) -> Result<(), String> {
        self.alive();
        self.inner.check_config(service, contents)
    }

    fn run<'a>(&'a self, argv: &'a [String]) -> BoxFuture<'a, Result<(), OsError>> {
        match self.verdict() {
            Verdict::Make => self.inner.run(argv),
            Verdict::Fail(m) => ready(Err(OsError::Refused(m))),
            Verdict::Lose => ready(Ok(())),
        }
    }

    fn dhcp_client_links(&self) -> Option<Vec<String>> {
        self.alive();
        self.inner.dhcp_client_links()
    }

    fn start_dhcp_client(&self, link: &str) -> io::Result<()> {
        self.file_change((), || self.inner.start_dhcp_client(link))
    }

    fn stop_dhcp_client(&self, link: &str) {
        if let Verdict::Make = self.verdict() {
            self.inner.stop_dhcp_client(link);
        }
    }

    fn dhcp_client_leases(&self) -> Vec<(String, Option<DhclientLease>)> {
        self.alive();
        self.inner.dhcp_client_leases()
    }

    fn telephony_hardware(&self) -> Result<Inventory, DetectError> {
        self.alive();
        self.inner.telephony_hardware()
    }

    fn firmware_present(&self) -> Result<FirmwarePresence, FirmwareError> {
        self.alive();
        self.inner.firmware_present()
    }

    fn spans(&self) -> Result<Vec<SpanStatus>, StatusError> {
        self.alive();
        self.inner.spans()
    }

    fn dhcp_server_leases(&self) -> Result<Vec<crate::dhcp::KeaLease>, crate::dhcp::KeaError> {
        self.alive();
        self.inner.dhcp_server_leases()
    }

    fn ntp_status(&self) -> Result<NtpStatus, NtpError> {
        self.alive();
        self.inner.ntp_status()
    }
}
