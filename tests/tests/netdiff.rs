//! The differential network runner: its generator and simulated side here,
//! and its real side against sysconfd in a network namespace on veth links
//! (this kernel has no 8021q, so no VLANs there; the QEMU guest runs those).

use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::Sysconfd;
use telbox_tests::netdiff::{self, bare_links, GenOptions, Generator, RunOptions, MINIMAL_BASE};
use telbox_tests::netns::Netns;

fn links() -> Vec<String> {
    vec!["eth0".into(), "eth1".into()]
}

#[test]
fn every_generated_config_validates_and_covers_what_the_kernel_orders() {
    let base = appliance::config::load(MINIMAL_BASE, "base").unwrap();
    let opts = GenOptions {
        links: links(),
        vlans: true,
        base,
    };
    let mut gen = Generator::new(42, opts, &bare_links(&links()));
    for _ in 0..300 {
        let step = gen.next_step().unwrap();
        appliance::config::load(&step.text, "generated")
            .unwrap_or_else(|r| panic!("{r}\n{}", step.text));
    }
    for feature in [
        "VLAN with its own MTU",
        "VLAN without MTU",
        "VLAN added",
        "VLAN removed",
        "address moved",
        "route via a VLAN",
        "parent MTU raised",
        "parent MTU lowered",
        "link set down",
        netdiff::REFUSED_ROUTE,
        netdiff::REFUSED_VLAN_MTU,
        netdiff::REFUSED_VLAN_UP,
    ] {
        assert!(
            gen.covered
                .get(feature)
                .is_some_and(|&n| n >= if feature.starts_with("refused") { 1 } else { 5 }),
            "{feature} barely covered: {:?}",
            gen.covered
        );
    }
    assert!(
        !gen.covered.contains_key("refused by validation (redrawn)"),
        "{:?}",
        gen.covered
    );
}

#[tokio::test]
async fn the_simulation_applies_every_generated_config() {
    let opts = RunOptions {
        seed: 42,
        count: 300,
        links: links(),
        vlans: true,
        base: appliance::config::load(MINIMAL_BASE, "base").unwrap(),
    };
    let summary = netdiff::run(opts, None).await.unwrap();
    assert_eq!(summary.configs, 300);
    assert_eq!(summary.sim_failures, 0, "{summary}");
    assert_eq!(summary.sim_accepted_refusals, 0, "{summary}");
    assert_eq!(summary.divergences, 0, "{summary}");
}

#[test]
fn the_kernel_and_the_simulation_agree_on_veth_links() {
    let ns = Netns::create();
    ns.veth("eth0", "eth0-peer");
    ns.veth("eth1", "eth1-peer");
    ns.veth("eth2", "eth2-peer");
    for peer in ["eth0-peer", "eth1-peer", "eth2-peer"] {
        ns.ip(&["link", "set", peer, "up"]);
    }
    let bus = PrivateBus::with_project_policy();
    let dir = tempfile::tempdir().unwrap();
    let d = Sysconfd::start_in(&bus, &dir.path().join("root"), ns.name());
    // NETDIFF_SEED and NETDIFF_COUNT run another sequence by hand.
    let seed = std::env::var("NETDIFF_SEED").unwrap_or_else(|_| "7".into());
    let count = std::env::var("NETDIFF_COUNT").unwrap_or_else(|_| "60".into());
    let out = ns
        .command(env!("CARGO_BIN_EXE_netdiff"))
        .args([
            "--seed",
            &seed,
            "--count",
            &count,
            "--links",
            "eth0,eth1,eth2",
        ])
        .args(["--no-vlans", "--bus", d.bus_address()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}\nsysconfd log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    assert!(
        stdout.contains(&format!(
            "netdiff: seed {seed}, {count} configs, 0 divergences, 0 real failures"
        )),
        "{stdout}"
    );
}
