//! `method = "dhcp"`: the supervised dhclient gets a lease from the box's
//! real Kea over a veth, the lease file reads back, the planner leaves the
//! leased address alone, and a killed dhclient is started again.

use std::path::Path;
use std::time::{Duration, Instant};

use sysconfd::network::{self, DhclientLease, DhcpClient, Netlink};
use telbox_tests::dhcp_box::{DhcpBox, PHONE_IF};
use tokio::sync::watch;

/// A dhclient script that only puts the leased address on the link, so the
/// test leaves the machine's /etc/resolv.conf alone.
const SCRIPT: &str = r#"#!/bin/sh
case "$reason" in
PREINIT) ip link set dev "$interface" up ;;
BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
esac
exit 0
"#;

fn write_script(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("script");
    std::fs::write(&path, SCRIPT).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pid_of(client: &DhcpClient) -> Option<i32> {
    std::fs::read_to_string(&client.pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Inside the phone namespace: supervise dhclient, wait for a lease, check
/// the planner, kill dhclient once and see it come back.
async fn run_client(client: DhcpClient) -> (DhclientLease, network::NetState, Vec<String>) {
    let (stop, stopped) = watch::channel(false);
    let supervisor = {
        let client = client.clone();
        tokio::spawn(async move { client.supervise(stopped).await })
    };
    let lease = wait_for("a lease", || client.lease().ok().flatten()).await;
    let nl = Netlink::connect().unwrap();
    let observed = nl.observe().await.unwrap();
    let config: appliance::config::network::Network = serde_json::from_value(
        serde_json::json!({ "interface": [{ "name": PHONE_IF, "method": "dhcp" }] }),
    )
    .unwrap();
    let plan = network::plan(&config, &observed)
        .iter()
        .map(|a| a.to_string())
        .collect();

    let first = wait_for("dhclient's pid file", || pid_of(&client)).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for("a restarted dhclient", || {
        pid_of(&client).filter(|&p| p != first)
    })
    .await;
    stop.send(true).unwrap();
    supervisor.await.unwrap().unwrap();
    (lease, observed, plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dhcp_link_is_leased_by_a_supervised_dhclient() {
    let b = DhcpBox::new(71);
    b.apply(&b.config_text("unknown_clients = true"))
        .await
        .unwrap();
    let dir = b.client_dir("telbox");
    std::fs::create_dir_all(&dir).unwrap();
    let mut client = DhcpClient::new(PHONE_IF, &dir);
    client.script = write_script(&dir);

    let (lease, observed, plan) = std::thread::scope(|s| {
        s.spawn(|| {
            b.client.enter(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(run_client(client))
            })
        })
        .join()
        .unwrap()
    });

    assert_eq!(lease.interface, PHONE_IF);
    let address = lease.address.unwrap_or_else(|| {
        panic!(
            "lease without address: {lease:?}; Kea said:\n{}",
            b.kea_log()
        )
    });
    assert_eq!(address.prefix, 24);
    assert_eq!(
        address.network(),
        "10.71.0.0".parse::<std::net::Ipv4Addr>().unwrap()
    );
    assert_eq!(
        lease.routers,
        ["10.71.0.254".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    let phone = observed.link(PHONE_IF).expect("phone link observed");
    assert!(
        phone.ipv4.contains(&address),
        "the leased address is on the link: {phone:?}"
    );
    assert_eq!(
        plan,
        Vec::<String>::new(),
        "the planner leaves a DHCP link's address to the client"
    );
}
