//! DHCP clients for `method = "dhcp"` links: one supervised `dhclient` per
//! link, with a telbox script that sets only the address and default route
//! (never /etc/resolv.conf, which sysconfd owns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::sync::watch;

use super::files::write_atomic;
use crate::network::{DhclientLease, DhcpClient};
use crate::root::Root;

/// Where the image installs the script dhclient runs on each event
/// (address and default route through `ip`). It lives on the root file
/// system: `/var/lib/telbox` is on `/data`, which is mounted `noexec`.
pub const SCRIPT_PATH: &str = "/usr/libexec/telbox/dhclient-script";

/// The script itself, written under a test root (`--root`), where nothing
/// installed it.
const SCRIPT: &str =
    include_str!("../../../buildroot-overlay/rootfs/usr/libexec/telbox/dhclient-script");

/// The running clients, by link name.
pub struct DhcpClients {
    root: Root,
    state_dir: PathBuf,
    running: Mutex<BTreeMap<String, (DhcpClient, watch::Sender<bool>)>>,
}

impl DhcpClients {
    pub fn new(root: &Root, state_dir: &Path) -> DhcpClients {
        DhcpClients {
            root: root.clone(),
            state_dir: state_dir.to_owned(),
            running: Mutex::new(BTreeMap::new()),
        }
    }

    fn script(&self) -> PathBuf {
        self.root.path(SCRIPT_PATH)
    }

    /// The script as installed; under a test root it is written there first.
    fn install_script(&self) -> std::io::Result<PathBuf> {
        let path = self.script();
        if !self.root.is_system() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_atomic(&path, SCRIPT.as_bytes(), 0o755)?;
        }
        Ok(path)
    }

    pub fn links(&self) -> Vec<String> {
        self.running
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Starts a supervised client on `link` (restarted with back-off if it dies).
    pub fn start(&self, link: &str) -> std::io::Result<()> {
        let script = self.install_script()?;
        let mut client = DhcpClient::new(link, &self.state_dir);
        client.script = script;
        let (stop, stopped) = watch::channel(false);
        let supervised = client.clone();
        tokio::spawn(async move {
            if let Err(e) = supervised.supervise(stopped).await {
                tracing::error!(error = %e, "DHCP client stopped");
            }
        });
        if let Ok(mut running) = self.running.lock() {
            running.insert(link.to_owned(), (client, stop));
        }
        Ok(())
    }

    pub fn stop(&self, link: &str) {
        if let Some((_, stop)) = self.running.lock().ok().and_then(|mut r| r.remove(link)) {
            let _ = stop.send(true);
        }
    }

    /// Each client's link and its current lease, if any.
    pub fn leases(&self) -> Vec<(String, Option<DhclientLease>)> {
        let running = self
            .running
            .lock()
            .map(|r| r.values().map(|(c, _)| c.clone()).collect::<Vec<_>>())
            .unwrap_or_default();
        running
            .into_iter()
            .map(|c| (c.interface.clone(), c.lease().ok().flatten()))
            .collect()
    }
}
