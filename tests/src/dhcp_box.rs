//! A telbox's DHCP side in a namespace: the VoIP link `voip0` (box side)
//! wired by a veth to `phone0` in a client namespace, Kea run by the
//! services edge in supervise mode on the configuration sysconfd renders.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sysconfd::dhcp::{self, InterfaceCheck, KeaPaths};
use sysconfd::files::{write_atomic, FileSpec};
use sysconfd::root::Root;
use sysconfd::services::{Backend, Program, Service, Services, Supervisor};
use tempfile::TempDir;

use crate::bins::require_root;
use crate::netns::Netns;

/// The box's VoIP interface in the server namespace.
pub const BOX_IF: &str = "voip0";
/// The phone's interface in the client namespace.
pub const PHONE_IF: &str = "phone0";

/// The box (Kea) and a client namespace for phones, on subnet `10.<net>.0.0/24`.
pub struct DhcpBox {
    pub net: u8,
    pub server: Netns,
    pub client: Netns,
    pub dir: TempDir,
    pub root: Root,
    pub paths: KeaPaths,
    pub services: Services,
}

impl DhcpBox {
    /// Namespaces and link; Kea is not started yet.
    pub fn new(net: u8) -> DhcpBox {
        require_root("the DHCP namespace test");
        let server = Netns::create();
        let client = Netns::create();
        server.veth_to(BOX_IF, &client, PHONE_IF);
        server.address(BOX_IF, &format!("10.{net}.0.1/24"));
        client.ip(&["link", "set", PHONE_IF, "up"]);
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path().join("root"));
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        let paths = KeaPaths::under(&state);
        let conf = root.path(dhcp::KEA_CONF);
        let kea = Program::kea_dhcp4(&conf, &state)
            .wrapped(&server.prefix())
            .log_to(&dir.path().join("kea.log"));
        let services = Services::new(
            Backend::Supervise(Supervisor::new([(Service::Dhcp, kea)])),
            &paths,
        );
        DhcpBox {
            net,
            server,
            client,
            dir,
            root,
            paths,
            services,
        }
    }

    /// An `appliance.toml` for this box; `dhcp_extra` goes at the end of `[dhcp]`.
    pub fn config_text(&self, dhcp_extra: &str) -> String {
        let n = self.net;
        format!(
            r#"[system]
hostname = "telbox"
domain = "example.com"

[dns]
nameservers = ["10.{n}.0.53"]

[[network.interface]]
name = "{BOX_IF}"
role = "voip"
address = "10.{n}.0.1/24"
gateway = "10.{n}.0.254"

[dhcp]
enabled = true
pool_start = "10.{n}.0.100"
pool_end = "10.{n}.0.119"
lease_time = 600
provisioning_url = "http://10.{n}.0.1:8667/"
{dhcp_extra}
"#
        )
    }

    /// Validates and renders `toml_text`, as the engine's plan does.
    pub fn render(&self, toml_text: &str) -> FileSpec {
        let cfg = appliance::config::load(toml_text, "appliance.toml")
            .unwrap_or_else(|r| panic!("{r:?}"));
        dhcp::render(&cfg, BOX_IF, &self.paths).unwrap()
    }

    /// The Kea config file under the root prefix.
    pub fn conf_path(&self) -> PathBuf {
        self.root.path(dhcp::KEA_CONF)
    }

    /// Plan-time check, atomic write, then reload or start: the engine's apply.
    pub async fn apply(&self, toml_text: &str) -> Result<(), dhcp::KeaError> {
        let spec = self.render(toml_text);
        dhcp::check_contents(&spec.contents, InterfaceCheck::Skip)?;
        write_atomic(&self.conf_path(), spec.contents.as_bytes(), spec.mode).unwrap();
        self.services.config_changed(Service::Dhcp).await.unwrap();
        self.wait_until_serving().await;
        Ok(())
    }

    /// Waits (at most 10 s) until Kea answers on its control socket.
    pub async fn wait_until_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let socket = self.paths.control_socket.clone();
            if tokio::task::spawn_blocking(move || dhcp::is_running(&socket))
                .await
                .unwrap()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "Kea did not answer within 10 s; its log:\n{}",
            self.kea_log()
        );
    }

    pub fn kea_pid(&self) -> Option<u32> {
        match self.services.backend() {
            Backend::Supervise(s) => s.pid(Service::Dhcp),
            Backend::Systemd(_) => None,
        }
    }

    pub fn kea_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kea.log")).unwrap_or_default()
    }

    /// A per-client scratch directory.
    pub fn client_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join("clients").join(name)
    }
}
