//! `org.telbox.Sysconfd1.Firmware`: the firmware packages of the telephony
//! cards — list, what is needed, install, remove, upgrade. sysconfd owns
//! `/lib/firmware` under its root; the work itself is `hwmgr::firmware`'s,
//! run off the async threads, one operation at a time, with `Progress`
//! signals sent to the caller.

use std::sync::Arc;
use std::time::{Duration, Instant};

use appliance::firmware::{ChangeReport, NeededReport};
use hwmgr::firmware::{Firmware, FirmwareError, InstallRequest};
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{interface, Connection};

use super::access::require_admin;
use super::error::{bounded, BusError};
use super::Shared;

/// Kernel log text a caller may pass to `Needed`.
const MAX_KERNEL_LOG: usize = 4 * 1024 * 1024;

/// Progress signals at most this often (the last of a phase always goes).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

pub struct FirmwareIface {
    shared: Arc<Shared>,
    /// One install, remove or upgrade at a time.
    busy: tokio::sync::Mutex<()>,
}

impl FirmwareIface {
    /// Also removes what an install interrupted by a crash left in `/lib/firmware`.
    pub fn new(shared: Arc<Shared>) -> Self {
        if let Ok(engine) = shared.engine.try_read() {
            if let Ok(fw) = engine.firmware() {
                for path in fw.clean_interrupted() {
                    tracing::warn!(path = %path.display(), "removed a file an interrupted firmware install left");
                }
            }
        }
        FirmwareIface {
            shared,
            busy: tokio::sync::Mutex::new(()),
        }
    }

    async fn firmware(&self) -> Result<Firmware, BusError> {
        Ok(self.shared.engine.read().await.firmware()?)
    }
}

impl From<FirmwareError> for BusError {
    fn from(e: FirmwareError) -> Self {
        match e {
            FirmwareError::UnknownPackage(_)
            | FirmwareError::NotInstalled(_)
            | FirmwareError::Source(_) => BusError::Invalid(e.to_string()),
            _ => BusError::Firmware(e.to_string()),
        }
    }
}

/// Runs `work` on a blocking thread, sending its progress to `caller` as signals.
async fn with_progress<F>(
    emitter: &SignalEmitter<'_>,
    caller: String,
    work: F,
) -> Result<ChangeReport, BusError>
where
    F: FnOnce(&mut dyn FnMut(hwmgr::firmware::Progress<'_>)) -> Result<ChangeReport, FirmwareError>
        + Send
        + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, &'static str, u64, u64)>();
    let job = tokio::task::spawn_blocking(move || {
        let mut last: Option<(Instant, &'static str)> = None;
        let mut report = |p: hwmgr::firmware::Progress<'_>| {
            let now = Instant::now();
            let new_phase = last.is_none_or(|(_, phase)| phase != p.phase);
            let finished = p.total > 0 && p.done >= p.total;
            let due = last.is_none_or(|(at, _)| now.duration_since(at) >= PROGRESS_EVERY);
            if new_phase || finished || due {
                last = Some((now, p.phase));
                let _ = tx.send((p.package.to_owned(), p.phase, p.done, p.total));
            }
        };
        work(&mut report)
    });
    let emitter = match zbus::names::BusName::try_from(caller.clone()) {
        Ok(dest) => emitter.to_owned().set_destination(dest.into_owned()),
        Err(_) => emitter.to_owned(),
    };
    while let Some((package, phase, done, total)) = rx.recv().await {
        let _ = FirmwareIface::progress(&emitter, &caller, &package, phase, done, total).await;
    }
    job.await
        .map_err(|e| BusError::Firmware(format!("the firmware operation stopped: {e}")))?
        .map_err(BusError::from)
}

fn caller_name(header: &Header<'_>) -> String {
    header.sender().map(|s| s.to_string()).unwrap_or_default()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, BusError> {
    bounded(serde_json::to_string(value).unwrap_or_default())
}

#[interface(name = "org.telbox.Sysconfd1.Firmware")]
impl FirmwareIface {
    /// JSON `FirmwareList`: every catalog package, and what is installed of it
    /// with each file's state (intact, changed, missing).
    async fn list(&self) -> Result<String, BusError> {
        let fw = self.firmware().await?;
        let list = tokio::task::spawn_blocking(move || fw.list())
            .await
            .map_err(|e| BusError::Firmware(e.to_string()))??;
        to_json(&list)
    }

    /// JSON `NeededReport`: what the cards present ask for, and what drivers
    /// reported missing in the kernel log (sysconfd's own `/dev/kmsg`, plus
    /// `kernel_log`, text the caller passes: `dmesg` or `journalctl -k` output).
    async fn needed(&self, kernel_log: String) -> Result<String, BusError> {
        if kernel_log.len() > MAX_KERNEL_LOG {
            return Err(BusError::TooLarge(format!(
                "the kernel log text is {} bytes; the limit is {MAX_KERNEL_LOG} bytes",
                kernel_log.len()
            )));
        }
        let (fw, inventory, wanted) = {
            let engine = self.shared.engine.read().await;
            (
                engine.firmware()?,
                engine.hardware()?,
                engine.firmware_wanted(),
            )
        };
        let root = hwmgr::Root::new(self.shared.engine.read().await.root_dir());
        let report: NeededReport = tokio::task::spawn_blocking(move || {
            let mut log = hwmgr::firmware::read_kernel_log(&root);
            log.push('\n');
            log.push_str(&kernel_log);
            fw.needed(&inventory, &log, wanted)
        })
        .await
        .map_err(|e| BusError::Firmware(e.to_string()))??;
        to_json(&report)
    }

    /// Installs from `source`: a catalog package name (downloaded from the
    /// catalog's URL), an absolute path to an archive or a directory of
    /// archives, or an http(s) URL. `package` names the package when the
    /// file name does not (empty: by name, else by checksum); `sha256` pins
    /// the archive's checksum (empty: none); `force` replaces files changed
    /// by hand or not installed by telbox. The archive is checked before
    /// anything is written. Returns a JSON `ChangeReport`.
    async fn install(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        source: String,
        package: String,
        sha256: String,
        force: bool,
    ) -> Result<String, BusError> {
        require_admin(emitter.connection(), &header, "Install").await?;
        let _busy = self.busy.lock().await;
        let fw = self.firmware().await?;
        let req = InstallRequest {
            source,
            package: Some(package).filter(|p| !p.is_empty()),
            sha256: Some(sha256).filter(|s| !s.is_empty()),
            force,
        };
        let report = with_progress(&emitter, caller_name(&header), move |progress| {
            fw.install(&req, progress)
        })
        .await?;
        log_change("installed", &report);
        to_json(&report)
    }

    /// Removes an installed package's files, exactly those recorded. Refused
    /// when one was changed by hand since it was installed, unless `force`.
    /// Returns a JSON `ChangeReport`.
    async fn remove(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        name: String,
        force: bool,
    ) -> Result<String, BusError> {
        require_admin(conn, &header, "Remove").await?;
        let _busy = self.busy.lock().await;
        let (fw, inventory, wanted) = {
            let engine = self.shared.engine.read().await;
            (
                engine.firmware()?,
                engine.hardware().ok(),
                engine.firmware_wanted(),
            )
        };
        let report = tokio::task::spawn_blocking(move || {
            let mut report = fw.remove(&name, force)?;
            if let Some(inventory) = inventory {
                report
                    .warnings
                    .extend(still_needed(&fw, &inventory, wanted, &name));
            }
            Ok::<_, FirmwareError>(report)
        })
        .await
        .map_err(|e| BusError::Firmware(e.to_string()))??;
        log_change("removed", &report);
        to_json(&report)
    }

    /// Upgrades every installed package whose catalog version differs,
    /// from `source` (a directory or a URL prefix holding the archives;
    /// empty: the catalog's URLs). Returns a JSON `ChangeReport`.
    async fn upgrade(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        source: String,
        force: bool,
    ) -> Result<String, BusError> {
        require_admin(conn, &header, "Upgrade").await?;
        let _busy = self.busy.lock().await;
        let fw = self.firmware().await?;
        let report = with_progress(&emitter, caller_name(&header), move |progress| {
            fw.upgrade(Some(&source), force, progress)
        })
        .await?;
        log_change("upgraded", &report);
        to_json(&report)
    }

    /// Progress of an `Install` or `Upgrade`, sent to its caller (`caller`,
    /// its unique bus name): `phase` is fetch, verify, extract or commit;
    /// `done` of `total` bytes (files for commit; `total` 0 when unknown).
    #[zbus(signal)]
    pub async fn progress(
        emitter: &SignalEmitter<'_>,
        caller: &str,
        package: &str,
        phase: &str,
        done: u64,
        total: u64,
    ) -> zbus::Result<()>;
}

/// Warnings for the cards in the box that need what package `name` provided.
fn still_needed(
    fw: &Firmware,
    inventory: &hwmgr::detect::Inventory,
    wanted: hwmgr::firmware::Wanted,
    name: &str,
) -> Vec<String> {
    let Ok(report) = fw.needed(inventory, "", wanted) else {
        return Vec::new();
    };
    report
        .needs
        .iter()
        .filter(|n| n.required && !n.present && n.package.as_deref() == Some(name))
        .flat_map(|n| {
            n.reasons.iter().filter_map(move |r| match r {
                appliance::firmware::NeedReason::Card {
                    location, card, ..
                } => Some(format!(
                    "{} is needed by the {card} at {location}: a plan configuring it is refused until {name} is installed again",
                    n.file
                )),
                appliance::firmware::NeedReason::KernelLog { .. } => None,
            })
        })
        .collect()
}

fn log_change(what: &str, report: &ChangeReport) {
    for c in &report.changes {
        tracing::info!(
            package = %c.package,
            version = c.version.as_deref().unwrap_or("-"),
            written = c.written.len(),
            removed = c.removed.len(),
            "firmware {what}"
        );
    }
    for w in &report.warnings {
        tracing::warn!("firmware: {w}");
    }
}
