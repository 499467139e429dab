//! A simulated machine: files, links, addresses and routes, the host name,
//! daemon states and their config checks' verdicts, all in memory. Every
//! call is recorded in order ([`Call`]), so a test can say what was done,
//! and that nothing was.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use hwmgr::detect::{DetectError, Inventory};
use hwmgr::firmware::{FirmwareError, FirmwarePresence};
use hwmgr::status::{SpanStatus, StatusError};

use super::{FileState, Os, OsError};
use crate::host::HostError;
use crate::network::{DhclientLease, NetAction, NetError, NetState};
use crate::ntp::{NtpError, NtpStatus};
use crate::services::{Service, ServiceState, ServicesError};

mod kernel;
use kernel::apply_run;

/// One call made to the simulated machine. File contents are never kept
/// here (a file may hold a secret): a write records its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    ReadFile(PathBuf),
    ReadSecretFile(PathBuf),
    WriteFile {
        path: PathBuf,
        mode: u32,
        len: usize,
    },
    RemoveFile(PathBuf),
    KeepFile(PathBuf),
    PutBackKept(PathBuf),
    DropKept(PathBuf),
    Hostname,
    SetHostname(String),
    ObserveNetwork,
    Network(Vec<NetAction>),
    ServiceState(Service),
    RefreshService(Service),
    StopService(Service),
    CheckConfig(Service),
    Run(Vec<String>),
    DhcpClientLinks,
    StartDhcpClient(String),
    StopDhcpClient(String),
    Hardware,
}

impl Call {
    /// Whether the call changes the machine.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Call::WriteFile { .. }
                | Call::RemoveFile(_)
                | Call::KeepFile(_)
                | Call::PutBackKept(_)
                | Call::DropKept(_)
                | Call::SetHostname(_)
                | Call::Network(_)
                | Call::RefreshService(_)
                | Call::StopService(_)
                | Call::Run(_)
                | Call::StartDhcpClient(_)
                | Call::StopDhcpClient(_)
        )
    }
}

/// The simulated machine's state. `None` for the network, the daemons or
/// the DHCP clients means sysconfd does not manage them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimState {
    pub files: BTreeMap<PathBuf, FileState>,
    /// Files kept under a second name during an apply.
    pub kept: BTreeMap<PathBuf, FileState>,
    pub hostname: String,
    pub network: Option<NetState>,
    pub services: Option<BTreeMap<Service, ServiceState>>,
    /// What each daemon's config check says of text: a refusal's message.
    pub refusals: BTreeMap<Service, String>,
    /// Command lines that fail, with their message.
    pub failing_commands: BTreeMap<String, String>,
    pub dhcp_clients: Option<BTreeSet<String>>,
    pub inventory: Inventory,
    pub firmware: FirmwarePresence,
    /// How often each daemon was started or reloaded.
    pub refreshes: BTreeMap<Service, u32>,
    /// The MTUs a link takes (the kernel's `min_mtu`/`max_mtu`), by name;
    /// [`DEVICE_MTUS`] for a link not named here, 0 up to 65535 for a VLAN
    /// (which also takes no more than its parent's).
    pub mtu_ranges: BTreeMap<String, (u32, u32)>,
}

/// The MTUs an Ethernet device takes when [`SimState::mtu_ranges`] does not
/// say (`ETH_MIN_MTU`, `ETH_MAX_MTU`: veth, virtio-net).
pub const DEVICE_MTUS: (u32, u32) = (68, 65535);

impl Default for SimState {
    fn default() -> Self {
        SimState {
            files: BTreeMap::new(),
            kept: BTreeMap::new(),
            hostname: "localhost".to_owned(),
            network: None,
            services: None,
            refusals: BTreeMap::new(),
            failing_commands: BTreeMap::new(),
            dhcp_clients: None,
            inventory: Inventory::default(),
            firmware: FirmwarePresence::default(),
            refreshes: BTreeMap::new(),
            mtu_ranges: BTreeMap::new(),
        }
    }
}

/// What a person would compare of a machine: its files (not the ones kept
/// during an apply), links, addresses and routes, host name, daemons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub files: BTreeMap<PathBuf, FileState>,
    pub network: Option<NetState>,
    pub hostname: String,
    pub services: Option<BTreeMap<Service, ServiceState>>,
}

impl SimState {
    pub fn machine(&self) -> Machine {
        Machine {
            files: self.files.clone(),
            network: self.network.clone(),
            hostname: self.hostname.clone(),
            services: self.services.clone(),
        }
    }
}

/// The simulated machine, shared: clones see the same state (a test keeps
/// one while an engine owns another).
#[derive(Debug, Clone, Default)]
pub struct SimOs {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    state: SimState,
    calls: Vec<Call>,
}

impl SimOs {
    pub fn new(state: SimState) -> SimOs {
        SimOs {
            inner: Arc::new(Mutex::new(Inner {
                state,
                calls: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test thread that panicked mid-call (a simulated crash) leaves the
        // state as it was at that moment, which is what the test examines.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn call(&self, call: Call) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        inner.calls.push(call);
        inner
    }

    /// A copy of the state now.
    pub fn state(&self) -> SimState {
        self.lock().state.clone()
    }

    /// Changes the state (behind sysconfd's back, or to set up a test).
    pub fn edit<T>(&self, f: impl FnOnce(&mut SimState) -> T) -> T {
        f(&mut self.lock().state)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The calls so far that changed the machine.
    pub fn changes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::is_change).collect()
    }

    /// Forgets the calls so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// A file's contents as text, if it exists.
    pub fn file(&self, path: &str) -> Option<String> {
        self.lock()
            .state
            .files
            .get(Path::new(path))
            .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file", path.display()),
    )
}

impl Os for SimOs {
    fn read_file(&self, path: &Path) -> io::Result<Option<FileState>> {
        let inner = self.call(Call::ReadFile(path.to_owned()));
        Ok(inner.state.files.get(path).cloned())
    }

    fn read_secret_file(&self, path: &Path) -> io::Result<String> {
        let inner = self.call(Call::ReadSecretFile(path.to_owned()));
        let file = inner.state.files.get(path).ok_or_else(|| not_found(path))?;
        if file.mode & 0o077 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} may be read by others", path.display()),
            ));
        }
        let text = String::from_utf8_lossy(&file.contents);
        Ok(text.lines().next().unwrap_or_default().to_owned())
    }

    fn write_file(
        &self,
        path: &Path,
        contents: &[u8],
        mode: u32,
        _durable: bool,
    ) -> io::Result<()> {
        let mut inner = self.call(Call::WriteFile {
            path: path.to_owned(),
            mode,
            len: contents.len(),
        });
        inner
            .state
            .files
            .insert(path.to_owned(), FileState::new(contents, mode));
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.call(Call::RemoveFile(path.to_owned()));
        inner
            .state
            .files
            .remove(path)
            .map(drop)
            .ok_or_else(|| not_found(path))
    }

    fn keep_file(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.call(Call::KeepFile(path.to_owned()));
        let state = &mut inner.state;
        state.kept.remove(path);
        if let Some(f) = state.files.get(path).cloned() {
            state.kept.insert(path.to_owned(), f);
        }
        Ok(())
    }

    fn put_back_kept(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<bool> {
        let mut inner = self.call(Call::PutBackKept(path.to_owned()));
        let state = &mut inner.state;
        if !state.kept.get(path).is_some_and(|k| k.is(contents, mode)) {
            return Ok(false);
        }
        let kept = state.kept.remove(path).expect("just seen");
        state.files.insert(path.to_owned(), kept);
        Ok(true)
    }

    fn drop_kept(&self, path: &Path) -> io::Result<()> {
        self.call(Call::DropKept(path.to_owned()))
            .state
            .kept
            .remove(path);
        Ok(())
    }

    fn hostname(&self) -> Result<String, HostError> {
        Ok(self.call(Call::Hostname).state.hostname.clone())
    }

    fn set_hostname(&self, name: &str) -> Result<(), HostError> {
        self.call(Call::SetHostname(name.to_owned())).state.hostname = name.to_owned();
        Ok(())
    }

    fn observe_network(&self) -> BoxFuture<'_, Result<Option<NetState>, NetError>> {
        let net = self.call(Call::ObserveNetwork).state.network.clone();
        Box::pin(async move { Ok(net) })
    }

    fn apply_network<'a>(
        &'a self,
        actions: &'a [NetAction],
    ) -> BoxFuture<'a, Result<(), NetError>> {
        let mut inner = self.call(Call::Network(actions.to_vec()));
        let state = &mut inner.state;
        let result = match state.network.as_mut() {
            Some(net) => apply_run(net, &state.mtu_ranges, actions),
            None => Ok(()),
        };
        drop(inner);
        Box::pin(async move { result })
    }

    fn service_state(&self, service: Service) -> BoxFuture<'_, Option<ServiceState>> {
        let inner = self.call(Call::ServiceState(service));
        let state = inner
            .state
            .services
            .as_ref()
            .map(|s| s.get(&service).cloned().unwrap_or(ServiceState::Inactive));
        drop(inner);
        Box::pin(async move { state })
    }

    fn refresh_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>> {
        let mut inner = self.call(Call::RefreshService(service));
        let state = &mut inner.state;
        if let Some(s) = state.services.as_mut() {
            s.insert(service, ServiceState::Active);
            *state.refreshes.entry(service).or_default() += 1;
        }
        drop(inner);
        Box::pin(async move { Ok(()) })
    }

    fn stop_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>> {
        let mut inner = self.call(Call::StopService(service));
        if let Some(s) = inner.state.services.as_mut() {
            s.insert(service, ServiceState::Inactive);
        }
        drop(inner);
        Box::pin(async move { Ok(()) })
    }

    fn check_config(&self, service: Service, _contents: &str) -> Result<(), String> {
        let inner = self.call(Call::CheckConfig(service));
        match inner.state.refusals.get(&service) {
            Some(message) => Err(message.clone()),
            None => Ok(()),
        }
    }

    fn run<'a>(&'a self, argv: &'a [String]) -> BoxFuture<'a, Result<(), OsError>> {
        let inner = self.call(Call::Run(argv.to_vec()));
        let line = argv.join(" ");
        let result = match inner.state.failing_commands.get(&line) {
            Some(message) => Err(OsError::Refused(format!("`{line}` failed: {message}"))),
            None => Ok(()),
        };
        drop(inner);
        Box::pin(async move { result })
    }

    fn dhcp_client_links(&self) -> Option<Vec<String>> {
        let inner = self.call(Call::DhcpClientLinks);
        inner
            .state
            .dhcp_clients
            .as_ref()
            .map(|c| c.iter().cloned().collect())
    }

    fn start_dhcp_client(&self, link: &str) -> io::Result<()> {
        let mut inner = self.call(Call::StartDhcpClient(link.to_owned()));
        if let Some(c) = inner.state.dhcp_clients.as_mut() {
            c.insert(link.to_owned());
        }
        Ok(())
    }

    fn stop_dhcp_client(&self, link: &str) {
        let mut inner = self.call(Call::StopDhcpClient(link.to_owned()));
        if let Some(c) = inner.state.dhcp_clients.as_mut() {
            c.remove(link);
        }
    }

    fn dhcp_client_leases(&self) -> Vec<(String, Option<DhclientLease>)> {
        let inner = self.lock();
        inner
            .state
            .dhcp_clients
            .iter()
            .flatten()
            .map(|l| (l.clone(), None))
            .collect()
    }

    fn telephony_hardware(&self) -> Result<Inventory, DetectError> {
        Ok(self.call(Call::Hardware).state.inventory.clone())
    }

    fn firmware_present(&self) -> Result<FirmwarePresence, FirmwareError> {
        Ok(self.lock().state.firmware.clone())
    }

    fn spans(&self) -> Result<Vec<SpanStatus>, StatusError> {
        Ok(Vec::new())
    }

    fn dhcp_server_leases(&self) -> Result<Vec<crate::dhcp::KeaLease>, crate::dhcp::KeaError> {
        Ok(Vec::new())
    }

    fn ntp_status(&self) -> Result<NtpStatus, NtpError> {
        Err(NtpError::Parse("no chronyd on a simulated machine".into()))
    }
}
