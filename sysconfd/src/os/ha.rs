//! The HA runtime's edge to the machine: keepalived's notify FIFO and
//! track files, the runtime's own record, the nftables table that lets
//! VRRP in from the peer only, the health check commands, and the
//! service address that follows the active box.
//!
//! * [`RealHaOs`]: the machine.
//! * [`SimHaOs`]: the same in memory, recording every change in order; a
//!   test feeds it keepalived's lines and sets the check verdicts.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use appliance::config::values::Ipv4Cidr;
use futures::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::netlink::Netlink;
use crate::network::NetAction;

/// Longest notify line kept; the rest of a longer one is dropped.
const MAX_LINE: usize = 512;

/// Hears each line of the notify FIFO; returns false to stop reading.
pub type LineSink<'a> = &'a mut (dyn FnMut(String) -> bool + Send);

/// Everything the HA runtime does to the machine, or reads of it.
/// Calls that change the machine are marked *change*.
pub trait HaOs: Send + Sync + 'static {
    /// *Change*: makes the directory and the notify FIFO (mode 0600) in it,
    /// unless they exist.
    fn create_fifo(&self, path: &Path) -> io::Result<()>;
    /// Reads the notify FIFO one line at a time (a line is out of the pipe
    /// only once `sink` has it) until `sink` says stop or the pipe ends.
    fn follow_fifo<'a>(
        &'a self,
        path: &'a Path,
        sink: LineSink<'a>,
    ) -> BoxFuture<'a, io::Result<()>>;
    /// *Change*: replaces one of keepalived's track files (mode 0644).
    fn write_track_file(&self, path: &Path, text: &str) -> io::Result<()>;
    /// The runtime's record, if there is one.
    fn load_record(&self, path: &Path) -> Option<Vec<u8>>;
    /// *Change*: writes the runtime's record atomically (mode 0600).
    fn save_record(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Whether the keepalived whose pid `pid_file` holds still runs.
    fn keepalived_runs(&self, pid_file: &Path) -> bool;
    /// *Change*: loads an nftables ruleset (`nft -f -`); the refusal carries nft's message.
    fn load_nft(&self, rules: String) -> BoxFuture<'_, Result<(), String>>;
    /// Runs a health check command; it must exit 0 within `timeout`.
    fn run_check(&self, argv: Vec<String>, timeout: Duration) -> BoxFuture<'_, Result<(), String>>;
    /// *Change*: puts the HA service address on `link` (`present`) or takes
    /// it away; an address already so is no error.
    fn set_service_address(
        &self,
        link: String,
        address: Ipv4Cidr,
        present: bool,
    ) -> BoxFuture<'_, Result<(), String>>;
    /// *Change*: announces `address` on `link` with a gratuitous ARP, so
    /// that phones and switches send to this box at once.
    fn announce(&self, link: String, address: Ipv4Addr) -> BoxFuture<'_, Result<(), String>>;
}

/// The machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealHaOs;

impl HaOs for RealHaOs {
    fn create_fifo(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    fn follow_fifo<'a>(
        &'a self,
        path: &'a Path,
        sink: LineSink<'a>,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(read_fifo(path, sink))
    }

    fn write_track_file(&self, path: &Path, text: &str) -> io::Result<()> {
        super::files::write_replace(path, text.as_bytes(), 0o644)
    }

    fn load_record(&self, path: &Path) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }

    fn save_record(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        super::files::write_atomic(path, bytes, 0o600)
    }

    fn keepalived_runs(&self, pid_file: &Path) -> bool {
        let Ok(text) = std::fs::read_to_string(pid_file) else {
            return false;
        };
        let Ok(pid) = text.trim().parse::<u32>() else {
            return false;
        };
        super::supervise::running_program(pid).as_deref() == Some("keepalived")
    }

    fn load_nft(&self, rules: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(load_nft(rules))
    }

    fn run_check(&self, argv: Vec<String>, timeout: Duration) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(run_check(argv, timeout))
    }

    fn set_service_address(
        &self,
        link: String,
        address: Ipv4Cidr,
        present: bool,
    ) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(set_service_address(link, address, present))
    }

    fn announce(&self, link: String, address: Ipv4Addr) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(announce(link, address))
    }
}

/// Gratuitous ARPs sent for a service address, a second apart (iputils'
/// arping, `-U`: unsolicited, the address given as its own). The first
/// goes at once; the call returns once arping runs, not after the last.
const ANNOUNCEMENTS: &str = "3";

async fn announce(link: String, address: Ipv4Addr) -> Result<(), String> {
    let mut child = tokio::process::Command::new("arping")
        .args([
            "-q",
            "-U",
            "-c",
            ANNOUNCEMENTS,
            "-I",
            &link,
            &address.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("`arping` could not run: {e}"))?;
    tokio::spawn(async move {
        match child.wait().await {
            Ok(status) if status.success() => {}
            Ok(status) => tracing::warn!(%link, %address, %status, "arping failed"),
            Err(e) => tracing::warn!(%link, %address, error = %e, "arping"),
        }
    });
    Ok(())
}

async fn set_service_address(link: String, address: Ipv4Cidr, present: bool) -> Result<(), String> {
    let nl = Netlink::connect().map_err(|e| e.to_string())?;
    let state = nl.observe().await.map_err(|e| e.to_string())?;
    let carried = state
        .link(&link)
        .ok_or_else(|| format!("no link {link}"))?
        .ipv4
        .contains(&address);
    if carried == present {
        return Ok(());
    }
    let action = if present {
        NetAction::AddAddress { link, address }
    } else {
        NetAction::RemoveAddress { link, address }
    };
    nl.apply(&action).await.map_err(|e| e.to_string())
}

async fn read_fifo(path: &Path, sink: LineSink<'_>) -> io::Result<()> {
    // Opened for reading and writing, so no writer closing it ends the stream.
    let mut pipe = tokio::net::unix::pipe::OpenOptions::new()
        .read_write(true)
        .open_receiver(path)?;
    let mut line = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    loop {
        if pipe.read(&mut byte).await? == 0 {
            return Ok(());
        }
        if byte[0] != b'\n' {
            if line.len() < MAX_LINE {
                line.push(byte[0]);
            }
            continue;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        line.clear();
        if !sink(text) {
            return Ok(());
        }
    }
}

async fn load_nft(rules: String) -> Result<(), String> {
    let mut child = tokio::process::Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run nft: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(rules.as_bytes()).await;
    }
    match child.wait_with_output().await {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Err(format!("nft: {e}")),
    }
}

async fn run_check(argv: Vec<String>, timeout: Duration) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("empty check command")?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("`{program}` could not run: {e}"))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(format!("`{}` took longer than {timeout:?}", argv.join(" "))),
        Ok(Err(e)) => Err(format!("`{program}`: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(format!("`{}` failed ({})", argv.join(" "), out.status)),
    }
}

/// A change [`SimHaOs`] was asked for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaCall {
    CreateFifo(PathBuf),
    WriteTrackFile(PathBuf, String),
    SaveRecord(PathBuf),
    LoadNft(String),
    RunCheck(Vec<String>),
    ServiceAddress {
        link: String,
        address: Ipv4Cidr,
        present: bool,
    },
    Announce {
        link: String,
        address: Ipv4Addr,
    },
}

/// What [`SimHaOs`] holds.
#[derive(Debug, Default)]
pub struct SimHa {
    pub fifos: Vec<PathBuf>,
    /// Lines waiting in the notify FIFO.
    pub fifo_lines: VecDeque<String>,
    pub track_files: BTreeMap<PathBuf, String>,
    pub records: BTreeMap<PathBuf, Vec<u8>>,
    pub keepalived_running: bool,
    /// The verdict of each check command, by its program; one not named passes.
    pub check_verdicts: BTreeMap<String, Result<(), String>>,
    pub nft_refusal: Option<String>,
    /// The service addresses on the links, by link.
    pub addresses: Vec<(String, Ipv4Cidr)>,
    pub calls: Vec<HaCall>,
}

/// The HA edge in memory.
#[derive(Debug, Clone, Default)]
pub struct SimHaOs {
    state: Arc<Mutex<SimHa>>,
    lines: Arc<Notify>,
}

impl SimHaOs {
    pub fn new() -> SimHaOs {
        SimHaOs::default()
    }

    /// Reads or changes what the simulated machine holds.
    pub fn with<T>(&self, f: impl FnOnce(&mut SimHa) -> T) -> T {
        f(&mut self.state.lock().expect("sim ha"))
    }

    /// keepalived writes a line to the notify FIFO.
    pub fn notify(&self, line: &str) {
        self.with(|s| s.fifo_lines.push_back(line.to_owned()));
        self.lines.notify_one();
    }

    fn record(&self, call: HaCall) {
        self.with(|s| s.calls.push(call));
    }
}

impl HaOs for SimHaOs {
    fn create_fifo(&self, path: &Path) -> io::Result<()> {
        self.record(HaCall::CreateFifo(path.to_owned()));
        self.with(|s| {
            if !s.fifos.iter().any(|f| f == path) {
                s.fifos.push(path.to_owned());
            }
        });
        Ok(())
    }

    fn follow_fifo<'a>(
        &'a self,
        path: &'a Path,
        sink: LineSink<'a>,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            if !self.with(|s| s.fifos.iter().any(|f| f == path)) {
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
            loop {
                let waiting = self.lines.notified();
                match self.with(|s| s.fifo_lines.pop_front()) {
                    Some(line) => {
                        if !sink(line) {
                            return Ok(());
                        }
                    }
                    None => waiting.await,
                }
            }
        })
    }

    fn write_track_file(&self, path: &Path, text: &str) -> io::Result<()> {
        self.record(HaCall::WriteTrackFile(path.to_owned(), text.to_owned()));
        self.with(|s| s.track_files.insert(path.to_owned(), text.to_owned()));
        Ok(())
    }

    fn load_record(&self, path: &Path) -> Option<Vec<u8>> {
        self.with(|s| s.records.get(path).cloned())
    }

    fn save_record(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.record(HaCall::SaveRecord(path.to_owned()));
        self.with(|s| s.records.insert(path.to_owned(), bytes.to_vec()));
        Ok(())
    }

    fn keepalived_runs(&self, _pid_file: &Path) -> bool {
        self.with(|s| s.keepalived_running)
    }

    fn load_nft(&self, rules: String) -> BoxFuture<'_, Result<(), String>> {
        self.record(HaCall::LoadNft(rules));
        let refusal = self.with(|s| s.nft_refusal.clone());
        Box::pin(async move { refusal.map_or(Ok(()), Err) })
    }

    fn run_check(
        &self,
        argv: Vec<String>,
        _timeout: Duration,
    ) -> BoxFuture<'_, Result<(), String>> {
        let program = argv.first().cloned().unwrap_or_default();
        self.record(HaCall::RunCheck(argv));
        let verdict = self.with(|s| s.check_verdicts.get(&program).cloned());
        Box::pin(async move { verdict.unwrap_or(Ok(())) })
    }

    fn set_service_address(
        &self,
        link: String,
        address: Ipv4Cidr,
        present: bool,
    ) -> BoxFuture<'_, Result<(), String>> {
        self.with(|s| {
            let on = (link.clone(), address);
            s.addresses.retain(|a| *a != on);
            if present {
                s.addresses.push(on);
            }
        });
        self.record(HaCall::ServiceAddress {
            link,
            address,
            present,
        });
        Box::pin(async { Ok(()) })
    }

    fn announce(&self, link: String, address: Ipv4Addr) -> BoxFuture<'_, Result<(), String>> {
        self.record(HaCall::Announce { link, address });
        Box::pin(async { Ok(()) })
    }
}
