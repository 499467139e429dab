//! The HA runtime against the simulated HA edge ([`SimHaOs`]): keepalived's
//! lines in, track files, the record, the VRRP rules and the health checks
//! out, without root or keepalived.

use std::sync::Arc;
use std::time::Duration;

use super::settings::tests::pair;
use super::settings::{Check, HaPaths, HaSettings};
use super::{health, Ha, HaServices, Side};
use crate::os::ha::{HaCall, HaOs, SimHaOs};
use crate::root::Root;
use appliance::config::values::Ipv4Cidr as Cidr;

/// A slave with no Berofos to throw (relays go over the network).
fn slave() -> HaSettings {
    HaSettings {
        berofos: Vec::new(),
        ..pair(Side::Slave)
    }
}

/// Waits (a few seconds at most) until the runtime says `state`.
async fn until_state(ha: &Ha, state: &str) {
    for _ in 0..100 {
        if ha.status().await.state == state {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the HA runtime never became {state}: {:?}",
        ha.status().await
    );
}

#[tokio::test]
async fn a_slave_takes_over_when_keepalived_says_so_through_the_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let paths = HaPaths::under(&state);
    let os = SimHaOs::new();
    let prepared = Ha::prepare(
        &Root::new(dir.path()),
        &state,
        HaServices::Unmanaged,
        Some(slave()),
        Arc::new(os.clone()),
    );
    // keepalived starts from the track files the runtime wrote first.
    assert_eq!(os.with(|s| s.fifos.clone()), vec![paths.fifo()]);
    let tracks = os.with(|s| s.track_files.clone());
    assert_eq!(
        tracks.get(&paths.priority_file()).map(String::as_str),
        Some("0\n")
    );
    assert_eq!(
        tracks.get(&paths.health_file()).map(String::as_str),
        Some("0\n")
    );
    let ha = prepared.handle();
    prepared.spawn();
    until_state(&ha, "standby").await;
    os.notify("INSTANCE \"telbox\" MASTER 100");
    os.notify("INSTANCE \"telbox_second\" MASTER 100");
    until_state(&ha, "active").await;
    let calls = os.with(|s| s.calls.clone());
    assert!(
        calls
            .iter()
            .any(|c| matches!(c, HaCall::LoadNft(rules) if rules.contains("vrrp"))),
        "the VRRP rules are loaded: {calls:?}"
    );
    assert!(calls.contains(&HaCall::SaveRecord(paths.state_file())));
    let record = os.load_record(&paths.state_file()).unwrap();
    let record: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["history"][0]["to"], "active", "{record}");
    assert_eq!(record["pending"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_failing_check_command_names_its_service() {
    let os = SimHaOs::new();
    let settings = HaSettings {
        checks: vec![Check {
            service: "asterisk".into(),
            argv: vec!["asterisk-probe".into(), "-q".into()],
        }],
        ..slave()
    };
    let services = HaServices::Unmanaged;
    assert_eq!(health::check(&settings, &services, &os).await, Ok(()));
    os.with(|s| {
        s.check_verdicts.insert(
            "asterisk-probe".into(),
            Err("`asterisk-probe -q` failed".into()),
        )
    });
    assert_eq!(
        health::check(&settings, &services, &os).await,
        Err("asterisk: `asterisk-probe -q` failed".into())
    );
    assert_eq!(
        os.with(|s| s.calls.clone()),
        vec![
            HaCall::RunCheck(vec!["asterisk-probe".into(), "-q".into()]),
            HaCall::RunCheck(vec!["asterisk-probe".into(), "-q".into()]),
        ]
    );
}

/// The changes to the service address, and its announcements, in order.
fn address_calls(os: &SimHaOs) -> Vec<HaCall> {
    os.with(|s| s.calls.clone())
        .into_iter()
        .filter(|c| matches!(c, HaCall::ServiceAddress { .. } | HaCall::Announce { .. }))
        .collect()
}

#[tokio::test]
async fn the_service_address_follows_the_active_box_and_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let os = SimHaOs::new();
    let vip: Cidr = "10.9.0.9/24".parse().unwrap();
    let settings = HaSettings {
        virtual_address: Some((vip, "eth0".into())),
        ..slave()
    };
    let prepared = Ha::prepare(
        &Root::new(dir.path()),
        &state,
        HaServices::Unmanaged,
        Some(settings),
        Arc::new(os.clone()),
    );
    let ha = prepared.handle();
    prepared.spawn();
    until_state(&ha, "standby").await;
    assert_eq!(os.with(|s| s.addresses.clone()), []);

    os.notify("INSTANCE \"telbox\" MASTER 100");
    os.notify("INSTANCE \"telbox_second\" MASTER 100");
    until_state(&ha, "active").await;
    let on = ("eth0".to_owned(), vip);
    assert_eq!(os.with(|s| s.addresses.clone()), [on]);
    assert_eq!(
        address_calls(&os),
        [
            HaCall::ServiceAddress {
                link: "eth0".into(),
                address: vip,
                present: true
            },
            HaCall::Announce {
                link: "eth0".into(),
                address: vip.addr
            },
        ]
    );
    // The address goes on before the services start.
    let done = &ha.history()[0].actions;
    let what: Vec<&str> = done.iter().map(|a| a.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "add address 10.9.0.9/24 on eth0",
            "announce 10.9.0.9 on eth0",
            "start asterisk"
        ]
    );

    // A new service address while active: the old one goes, the new one comes.
    let moved: Cidr = "10.9.0.10/24".parse().unwrap();
    ha.reconfigure(Some(HaSettings {
        virtual_address: Some((moved, "eth0".into())),
        ..slave()
    }));
    let want = [("eth0".to_owned(), moved)];
    for _ in 0..100 {
        if os.with(|s| s.addresses.clone()) == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(os.with(|s| s.addresses.clone()), want);
    assert_eq!(ha.status().await.state, "active");

    os.notify("INSTANCE \"telbox\" BACKUP 100");
    os.notify("INSTANCE \"telbox_second\" BACKUP 100");
    until_state(&ha, "standby").await;
    assert_eq!(os.with(|s| s.addresses.clone()), []);
    // The history lists the newest first.
    let what: Vec<String> = ha.history()[0]
        .actions
        .iter()
        .map(|a| a.what.clone())
        .collect();
    assert_eq!(
        what,
        ["stop asterisk", "remove address 10.9.0.10/24 on eth0"]
    );
}
