//! Issue 5, DHCP: the real kea-dhcp4 on the configuration sysconfd renders,
//! and a real dhclient, in network namespaces joined by a veth pair.
//! Needs root; fails loudly without it.

use std::net::Ipv4Addr;
use std::time::Duration;

use sysconfd::dhcp::{self, KeaError};
use telbox_tests::dhcp_box::{DhcpBox, PHONE_IF};
use telbox_tests::dhcp_client::{dhclient, Bound, ClientSpec};

const AASTRA_MAC: &str = "00:08:5d:12:34:56";
const PC_MAC: &str = "02:11:22:33:44:55";

fn phone(mac: &str) -> ClientSpec<'_> {
    ClientSpec {
        iface: PHONE_IF,
        mac,
        vendor_class: None,
        timeout: Duration::from_secs(6),
    }
}

fn address(b: &Bound) -> Ipv4Addr {
    b.get("new_ip_address")
        .expect("a bound lease has an address")
        .parse()
        .unwrap()
}

fn in_pool(ip: Ipv4Addr, net: u8, last: u8) -> bool {
    let o = ip.octets();
    o[..3] == [10, net, 0] && (100..=last).contains(&o[3])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_gets_its_options_and_a_pc_only_once_unknown_clients_are_allowed() {
    let b = DhcpBox::new(61);
    b.apply(&b.config_text("")).await.unwrap();

    let lease = dhclient(&b.client, &b.client_dir("phone"), &phone(AASTRA_MAC))
        .unwrap_or_else(|| panic!("the Aastra phone got no lease; Kea said:\n{}", b.kea_log()));
    assert!(
        in_pool(address(&lease), 61, 119),
        "{:?}",
        lease.get("new_ip_address")
    );
    assert_eq!(lease.get("new_routers"), Some("10.61.0.254"));
    assert_eq!(lease.get("new_domain_name_servers"), Some("10.61.0.53"));
    assert_eq!(lease.get("new_ntp_servers"), Some("10.61.0.1"));
    assert_eq!(
        lease.get("new_tftp_server_name"),
        Some("http://10.61.0.1:8667/")
    );
    assert_eq!(
        lease.get("new_provisioning_url"),
        Some("http://10.61.0.1:8667/")
    );
    assert_eq!(lease.get("new_domain_name"), Some("example.com"));

    let pc = dhclient(&b.client, &b.client_dir("pc"), &phone(PC_MAC));
    assert!(
        pc.is_none(),
        "a PC got a lease while unknown_clients = false: {pc:?}"
    );

    let kea_before = b.kea_pid();
    b.apply(&b.config_text("unknown_clients = true"))
        .await
        .unwrap();
    assert_eq!(
        b.kea_pid(),
        kea_before,
        "the new config is reloaded, not a restart"
    );
    let pc = dhclient(&b.client, &b.client_dir("pc"), &phone(PC_MAC)).unwrap_or_else(|| {
        panic!(
            "the PC got no lease with unknown_clients = true; Kea said:\n{}",
            b.kea_log()
        )
    });
    assert!(in_pool(address(&pc), 61, 119));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_known_only_by_its_vendor_class_gets_an_address() {
    let b = DhcpBox::new(62);
    b.apply(&b.config_text("")).await.unwrap();
    let spec = ClientSpec {
        vendor_class: Some("snom320"),
        ..phone(PC_MAC)
    };
    let lease = dhclient(&b.client, &b.client_dir("snom"), &spec)
        .unwrap_or_else(|| panic!("the snom320 got no lease; Kea said:\n{}", b.kea_log()));
    assert!(in_pool(address(&lease), 62, 119));
    let other = ClientSpec {
        vendor_class: Some("MSFT 5.0"),
        ..phone("02:11:22:33:44:56")
    };
    assert!(
        dhclient(&b.client, &b.client_dir("msft"), &other).is_none(),
        "an unknown vendor class got a lease"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_pool_keeps_existing_leases() {
    let b = DhcpBox::new(63);
    b.apply(&b.config_text("")).await.unwrap();
    let first = dhclient(&b.client, &b.client_dir("phone"), &phone(AASTRA_MAC))
        .unwrap_or_else(|| panic!("no first lease; Kea said:\n{}", b.kea_log()));
    let ip = address(&first);
    let before = dhcp::leases(&b.paths.lease_file).unwrap();
    let lease = before
        .iter()
        .find(|l| l.ip == ip)
        .expect("the lease is in Kea's lease file");
    assert_eq!(
        lease.mac.map(|m| m.to_string()).as_deref(),
        Some(AASTRA_MAC)
    );
    assert_eq!(lease.vendor.as_deref(), Some("aastra"));

    let kea_before = b.kea_pid();
    let bigger = b
        .config_text("")
        .replace("pool_end = \"10.63.0.119\"", "pool_end = \"10.63.0.149\"");
    b.apply(&bigger).await.unwrap();
    assert_eq!(b.kea_pid(), kea_before, "Kea reloads its config in place");
    assert!(
        std::fs::read_to_string(b.conf_path())
            .unwrap()
            .contains("10.63.0.100 - 10.63.0.149"),
        "the new pool is in force"
    );
    let after = dhcp::leases(&b.paths.lease_file).unwrap();
    assert!(
        after
            .iter()
            .any(|l| l.ip == ip && l.expires >= lease.expires),
        "lease lost: {after:?}"
    );
    let json = serde_json::to_value(&after).unwrap();
    assert_eq!(json[0]["mac"], AASTRA_MAC, "{json}");

    let again = dhclient(&b.client, &b.client_dir("phone"), &phone(AASTRA_MAC))
        .unwrap_or_else(|| panic!("no lease after the reload; Kea said:\n{}", b.kea_log()));
    assert_eq!(
        address(&again),
        ip,
        "the phone keeps its address across the pool change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_kea_refuses_stops_the_apply_and_the_old_one_keeps_serving() {
    let b = DhcpBox::new(64);
    b.apply(&b.config_text("")).await.unwrap();
    let kea_before = b.kea_pid();
    let good = std::fs::read_to_string(b.conf_path()).unwrap();

    // Valid for the model (eth9 is declared), refused by Kea: no such interface here.
    let text = b.config_text("interfaces = [\"eth9\"]")
        + "\n[[network.interface]]\nname = \"eth9\"\naddress = \"10.99.0.1/24\"\n";
    let spec = b.render(&text);
    let path = b.dir.path().join("candidate.conf");
    std::fs::write(&path, &spec.contents).unwrap();
    let checked = b.server.enter(|| dhcp::check(&path));
    let err = checked.expect_err(&spec.contents);
    assert!(
        matches!(&err, KeaError::Rejected(m) if m.contains("interface 'eth9' doesn't exist")),
        "{err}"
    );

    // A damaged file is refused at plan time with Kea's message; nothing is written.
    let broken = good.replace("\"authoritative\": true", "\"authoritative\": \"yes\"");
    assert_ne!(broken, good);
    let err = dhcp::check_contents(&broken, dhcp::InterfaceCheck::Skip).unwrap_err();
    assert!(
        matches!(&err, KeaError::Rejected(m) if m.contains("expecting boolean")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(b.conf_path()).unwrap(), good);

    assert_eq!(
        b.kea_pid(),
        kea_before,
        "the running server was not touched"
    );
    let lease =
        dhclient(&b.client, &b.client_dir("phone"), &phone(AASTRA_MAC)).unwrap_or_else(|| {
            panic!(
                "the old config no longer serves; Kea said:\n{}",
                b.kea_log()
            )
        });
    assert!(in_pool(address(&lease), 64, 119));
}
