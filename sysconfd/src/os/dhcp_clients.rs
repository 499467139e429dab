//! DHCP clients for `method = "dhcp"` links: one supervised `dhclient` per
//! link, with a telbox script that sets only the address and default route
//! (never /etc/resolv.conf, which sysconfd owns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::sync::watch;

use super::files::write_atomic;
use crate::network::{DhclientLease, DhcpClient};

/// What dhclient runs on each event: address and default route through `ip`.
const SCRIPT: &str = r#"#!/bin/sh
# telbox: configure what a DHCP lease gives a link; leave name resolution to sysconfd.
case "$reason" in
PREINIT)
    ip link set dev "$interface" up ;;
BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
        ip -4 address flush dev "$interface" scope global
    fi
    ip -4 address replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    for router in $new_routers; do
        ip -4 route replace default via "$router" dev "$interface" proto dhcp
        break
    done ;;
EXPIRE|FAIL|RELEASE|STOP)
    ip -4 address flush dev "$interface" scope global ;;
esac
exit 0
"#;

/// The running clients, by link name.
pub struct DhcpClients {
    state_dir: PathBuf,
    running: Mutex<BTreeMap<String, (DhcpClient, watch::Sender<bool>)>>,
}

impl DhcpClients {
    pub fn new(state_dir: &Path) -> DhcpClients {
        DhcpClients {
            state_dir: state_dir.to_owned(),
            running: Mutex::new(BTreeMap::new()),
        }
    }

    fn script(&self) -> PathBuf {
        self.state_dir.join("telbox-dhclient-script")
    }

    pub fn links(&self) -> Vec<String> {
        self.running
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Starts a supervised client on `link` (restarted with back-off if it dies).
    pub fn start(&self, link: &str) -> std::io::Result<()> {
        write_atomic(&self.script(), SCRIPT.as_bytes(), 0o755)?;
        let mut client = DhcpClient::new(link, &self.state_dir);
        client.script = self.script();
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
