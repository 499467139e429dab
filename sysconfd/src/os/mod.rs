//! The OS seam: every effect sysconfd has on the machine, and every read of
//! it, goes through the [`Os`] trait. The engine observes through it once,
//! plans with plain functions, and acts only through it.
//!
//! * [`RealOs`]: the machine (files under a [`Root`](crate::root::Root),
//!   rtnetlink, systemd or the supervisor, `modprobe`/`dahdi_cfg`,
//!   `kea-dhcp4 -t`/`chronyd -p`, `dhclient`, sysfs and /proc through hwmgr).
//! * [`SimOs`]: the same in memory (files, links, addresses and routes,
//!   host name, daemon states, daemon check verdicts), recording every call
//!   in order; engine tests run against it without root.
//! * [`Faulty`]: wraps any [`Os`] and fails or "crashes" (panics, and
//!   every later call panics too, like a process that died) at a chosen
//!   change.
//!
//! The primitives that touch the machine (process spawns, file writes and
//! renames, netlink sockets, sysfs and procfs reads) live in this module
//! alone; `tests/os_seam.rs` fails when one appears elsewhere in sysconfd.
//! The udev monitor the hardware watch listens to ([`uevents`]) is one of
//! them: the watch only learns from it when to read the machine again.
//! The HA runtime's edge (keepalived's notify FIFO and track files, its
//! record, the VRRP nftables table, the health check commands) is
//! [`ha::HaOs`], with a real and a simulated implementation of its own.

pub mod commands;
pub mod dhclient;
pub mod dhcp_clients;
mod fault;
pub mod files;
pub mod ha;
pub mod host;
pub mod link_dump;
pub mod netlink;
pub mod process;
mod real;
mod sim;
pub mod supervise;
pub mod uevents;

use std::fmt;
use std::io;
use std::path::Path;

use futures::future::BoxFuture;
use hwmgr::detect::{DetectError, Inventory};
use hwmgr::firmware::{FirmwareError, FirmwarePresence};
use hwmgr::status::{SpanStatus, StatusError};

use crate::host::HostError;
use crate::network::{DhclientLease, NetAction, NetError, NetState};
use crate::ntp::{NtpError, NtpStatus};
use crate::services::{Service, ServiceState, ServicesError};

pub use fault::{Fault, Faulty, CRASH};
pub use real::{RealOs, ServicesMode};
pub use sim::{Call, Machine, SimOs, SimState};

/// A file as found: its bytes and permission bits.
#[derive(Clone, PartialEq, Eq)]
pub struct FileState {
    pub contents: Vec<u8>,
    pub mode: u32,
}

impl FileState {
    pub fn new(contents: impl Into<Vec<u8>>, mode: u32) -> FileState {
        FileState {
            contents: contents.into(),
            mode,
        }
    }

    /// Whether the file has exactly these bytes and mode.
    pub fn is(&self, contents: &[u8], mode: u32) -> bool {
        self.mode == mode && self.contents == contents
    }
}

/// Never the contents: a file may hold a secret.
impl fmt::Debug for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FileState({} bytes, {:04o})",
            self.contents.len(),
            self.mode
        )
    }
}

/// What can go wrong at the seam.
#[derive(Debug, thiserror::Error)]
pub enum OsError {
    #[error("network: {0}")]
    Net(#[from] NetError),
    #[error("services: {0}")]
    Services(#[from] ServicesError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("{0}")]
    Refused(String),
}

/// Every effect sysconfd has on the machine. Paths are system paths
/// (`/etc/hosts`); an implementation decides where they live.
///
/// Calls that change the machine are marked *change*; the others only read.
pub trait Os: Send + Sync + 'static {
    /// A file's bytes and mode; `None` when there is none.
    fn read_file(&self, path: &Path) -> io::Result<Option<FileState>>;
    /// A secret kept in a file (a Berofos `password_file`): one line, and
    /// refused when group or others may read the file.
    fn read_secret_file(&self, path: &Path) -> io::Result<String>;
    /// *Change*: writes a file through a temp file and a rename; `durable`
    /// waits for the disk (secrets, which cannot be derived again).
    fn write_file(&self, path: &Path, contents: &[u8], mode: u32, durable: bool) -> io::Result<()>;
    /// *Change*: removes a file (an error when there is none).
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// *Change*: keeps the file under a second name until the apply ends,
    /// so putting it back is a rename (nothing kept when there is no file).
    fn keep_file(&self, path: &Path) -> io::Result<()>;
    /// *Change*: puts the kept file back when it has exactly `contents` and
    /// `mode`; says whether it did.
    fn put_back_kept(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<bool>;
    /// *Change*: lets go of the kept file, if any.
    fn drop_kept(&self, path: &Path) -> io::Result<()>;

    /// The kernel host name.
    fn hostname(&self) -> Result<String, HostError>;
    /// *Change*: sets the kernel host name.
    fn set_hostname(&self, name: &str) -> Result<(), HostError>;

    /// Links, addresses and routes; `None` when sysconfd leaves the network alone.
    fn observe_network(&self) -> BoxFuture<'_, Result<Option<NetState>, NetError>>;
    /// *Change*: a run of network actions, sent together, in order.
    fn apply_network<'a>(&'a self, actions: &'a [NetAction])
        -> BoxFuture<'a, Result<(), NetError>>;

    /// A daemon's state; `None` when sysconfd does not run daemons.
    fn service_state(&self, service: Service) -> BoxFuture<'_, Option<ServiceState>>;
    /// *Change*: a daemon takes its new configuration (reload when it runs, start otherwise).
    fn refresh_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>>;
    /// *Change*: stops a daemon.
    fn stop_service(&self, service: Service) -> BoxFuture<'_, Result<(), ServicesError>>;
    /// The daemon's own check of configuration text before it is written
    /// (`kea-dhcp4 -t`, `chronyd -p`); the refusal carries its message.
    /// Blocking: the engine runs it on a blocking thread.
    fn check_config(&self, service: Service, contents: &str) -> Result<(), String>;

    /// *Change*: runs a command line (`modprobe`, `dahdi_cfg`, `asterisk -rx`…).
    fn run<'a>(&'a self, argv: &'a [String]) -> BoxFuture<'a, Result<(), OsError>>;

    /// The links with a running DHCP client; `None` when sysconfd runs no processes.
    fn dhcp_client_links(&self) -> Option<Vec<String>>;
    /// *Change*: starts a supervised DHCP client on `link`.
    fn start_dhcp_client(&self, link: &str) -> io::Result<()>;
    /// *Change*: stops the DHCP client on `link`.
    fn stop_dhcp_client(&self, link: &str);
    /// Each DHCP client's link and its lease, if any.
    fn dhcp_client_leases(&self) -> Vec<(String, Option<DhclientLease>)>;

    /// The telephony cards found (sysfs, /proc/dahdi).
    fn telephony_hardware(&self) -> Result<Inventory, DetectError>;
    /// The firmware files present.
    fn firmware_present(&self) -> Result<FirmwarePresence, FirmwareError>;
    /// Every span's alarms, counters and channels (/proc/dahdi).
    fn spans(&self) -> Result<Vec<SpanStatus>, StatusError>;
    /// The DHCP server's leases.
    fn dhcp_server_leases(&self) -> Result<Vec<crate::dhcp::KeaLease>, crate::dhcp::KeaError>;
    /// chronyd's tracking and sources.
    fn ntp_status(&self) -> Result<NtpStatus, NtpError>;
}
