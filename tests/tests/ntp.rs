//! Issue 5, NTP: chronyd on the configuration sysconfd renders serves time
//! from the box's namespace; a chronyd client (`-x`) in another namespace
//! selects it. Needs root; fails loudly without it.

use std::path::Path;
use std::time::{Duration, Instant};

use sysconfd::files::write_atomic;
use sysconfd::ntp::{self, ChronyPaths, NtpStatus, SourceState};
use sysconfd::root::Root;
use sysconfd::services::{Program, Service, Supervisor};
use telbox_tests::bins::require_root;
use telbox_tests::netns::Netns;

const BOX_TOML: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "voip0"
role = "voip"
address = "10.65.0.1/24"

[ntp]
servers = ["10.65.0.250"]
local_stratum = 10
"#;

/// The client follows the box only, polling every 1/16 s.
fn client_conf(dir: &Path) -> String {
    let paths = ChronyPaths::under(dir);
    format!(
        "server 10.65.0.1 iburst minpoll -4 maxpoll -4\ncmdport 0\npidfile {}\nbindcmdaddress {}\n",
        paths.pidfile.display(),
        paths.socket.display()
    )
}

/// Polls `socket` until `done` holds, for at most `limit`.
async fn wait_for(socket: &Path, limit: Duration, done: impl Fn(&NtpStatus) -> bool) -> NtpStatus {
    let deadline = Instant::now() + limit;
    let mut last = None;
    while Instant::now() < deadline {
        match ntp::status(socket) {
            Ok(s) if done(&s) => return s,
            other => last = Some(format!("{other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("not reached within {limit:?}; last status: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_box_serves_time_and_a_client_namespace_selects_it() {
    require_root("the NTP namespace test");
    let server = Netns::create();
    let client = Netns::create();
    server.veth_to("voip0", &client, "lan0");
    server.address("voip0", "10.65.0.1/24");
    client.address("lan0", "10.65.0.20/24");

    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path().join("root"));
    let box_paths = ChronyPaths::under(&dir.path().join("box"));
    std::fs::create_dir_all(dir.path().join("box")).unwrap();
    let cfg = appliance::config::load(BOX_TOML, "appliance.toml").unwrap();
    let spec = ntp::render(&cfg, &box_paths).unwrap();
    assert!(
        spec.contents.contains("allow 10.65.0.0/24\n"),
        "{}",
        spec.contents
    );
    let box_conf = root.path(&spec.path);
    write_atomic(&box_conf, spec.contents.as_bytes(), spec.mode).unwrap();
    ntp::check(&box_conf).unwrap();

    let client_dir = dir.path().join("client");
    std::fs::create_dir_all(&client_dir).unwrap();
    let client_conf_path = client_dir.join("client.conf");
    std::fs::write(&client_conf_path, client_conf(&client_dir)).unwrap();
    let client_paths = ChronyPaths::under(&client_dir);

    let box_chronyd = Program::chronyd(&box_conf, &box_paths, false)
        .wrapped(&server.prefix())
        .log_to(&dir.path().join("box.log"));
    let client_chronyd = Program::chronyd(&client_conf_path, &client_paths, false)
        .wrapped(&client.prefix())
        .log_to(&dir.path().join("client.log"));
    // Two supervisors: the box's daemon, and the client standing in as another "Ntp".
    let box_sup = Supervisor::new([(Service::Ntp, box_chronyd)]);
    let client_sup = Supervisor::new([(Service::Ntp, client_chronyd)]);
    box_sup.start(Service::Ntp).await.unwrap();
    client_sup.start(Service::Ntp).await.unwrap();

    let box_status = wait_for(&box_paths.socket, Duration::from_secs(10), |s| {
        s.tracking.stratum == 10
    })
    .await;
    assert_eq!(
        box_status.tracking.reference_id, "7F7F0101",
        "the box falls back to its local clock"
    );
    assert!(box_status
        .sources
        .iter()
        .any(|s| s.address == "10.65.0.250" && s.state == SourceState::Unusable));

    let status = wait_for(&client_paths.socket, Duration::from_secs(30), |s| {
        s.selected().is_some_and(|src| src.address == "10.65.0.1")
    })
    .await;
    let src = status.selected().unwrap();
    assert_eq!(src.stratum, 10);
    assert!(src.reach != 0);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["sources"][0]["state"], "selected", "{json}");
    drop(client_sup);
    drop(box_sup);
}
