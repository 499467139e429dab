//! The engine against a simulated machine ([`SimOs`]): every behaviour of
//! an apply, a confirm, a rollback and a recovery, without root, with the
//! machine's state and every call made to it in view. Faults are injected
//! at the seam ([`Faulty`]): a failing, lost or crashing change.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};

use futures::FutureExt;

use super::*;
use crate::network::{Link, NetAction, NetState};
use crate::os::{Call, Fault, Faulty, FileState, Machine, SimOs, SimState};
use crate::services::{Service, ServiceState};

/// The box every engine test starts from: one VoIP link, DNS, a gateway.
pub(super) const A: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[dns]
nameservers = ["192.0.2.1"]

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
gateway = "192.0.2.1"
mtu = 1500
"#;

/// A different box: host name, address, MTU, DNS and NTP servers all change.
pub(super) const B: &str = r#"
[system]
hostname = "newbox"
domain = "example.com"

[dns]
nameservers = ["192.0.2.2"]

[ntp]
servers = ["192.0.2.123"]

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.20/24"
gateway = "192.0.2.1"
mtu = 1400
"#;

const SECRET: &str = "s3cret-Berofos-pw";

fn with_berofos(base: &str, password: &str) -> String {
    format!(
        "{base}\n[[berofos]]\nname = \"fos1\"\nhost = \"192.0.2.50\"\nuser = \"admin\"\npassword = \"{password}\"\n"
    )
}

/// The machine before telbox: two plain links, no addresses, daemons
/// stopped, no DHCP clients.
fn bare() -> SimState {
    let mut net = NetState::default();
    net.links.push(Link::new(1, "lo", 65536));
    net.links.push(Link::new(2, "eth0", 1500));
    net.links.push(Link::new(3, "eth1", 1500));
    SimState {
        network: Some(net),
        services: Some(
            Service::ALL
                .into_iter()
                .map(|s| (s, ServiceState::Inactive))
                .collect(),
        ),
        dhcp_clients: Some(Default::default()),
        hostname: "localhost".into(),
        ..SimState::default()
    }
}

/// A simulated box and the state directory of its sysconfd.
pub(super) struct SimBox {
    pub(super) sim: SimOs,
    dir: tempfile::TempDir,
    set_hostname: bool,
}

impl SimBox {
    pub(super) fn new() -> SimBox {
        SimBox::with(bare())
    }

    fn with(state: SimState) -> SimBox {
        SimBox {
            sim: SimOs::new(state),
            dir: tempfile::tempdir().unwrap(),
            set_hostname: true,
        }
    }

    pub(super) fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn options(&self) -> Options {
        Options {
            root: Root::new(self.dir.path().join("unused-root")),
            state_dir: self.state(),
            set_hostname: self.set_hostname,
            fault_abort_at: None,
            network: true,
            services: ServicesMode::Supervise,
        }
    }

    pub(super) async fn open(&self) -> (Engine, Recovery) {
        Engine::open_with(self.options(), Arc::new(self.sim.clone()))
            .await
            .unwrap()
    }

    async fn open_faulty(&self, fault: Fault) -> (Engine, Arc<Faulty>) {
        let faulty = Arc::new(Faulty::new(Arc::new(self.sim.clone()), Some(fault)));
        let (engine, _) = Engine::open_with(self.options(), faulty.clone())
            .await
            .unwrap();
        (engine, faulty)
    }

    /// The machine, with this box's state directory (which generated
    /// files name) written `STATE`, so machines of two boxes compare.
    pub(super) fn machine(&self) -> Machine {
        let mut m = self.sim.state().machine();
        let state = self.state().display().to_string();
        for f in m.files.values_mut() {
            let text = String::from_utf8_lossy(&f.contents).replace(&state, "STATE");
            f.contents = text.into_bytes();
        }
        m
    }

    fn link(&self, name: &str) -> Link {
        let net = self.sim.state().network.unwrap();
        net.link(name).unwrap().clone()
    }
}

pub(super) fn req(text: &str) -> ApplyRequest {
    ApplyRequest {
        text: text.to_owned(),
        base: None,
        confirm_timeout: None,
        caller_uid: 0,
    }
}

pub(super) fn with_confirm(text: &str) -> ApplyRequest {
    ApplyRequest {
        confirm_timeout: Some(Duration::from_secs(120)),
        ..req(text)
    }
}

pub(super) fn outcomes(e: &Engine) -> Vec<(u64, Outcome)> {
    e.history(0, u64::MAX)
        .unwrap()
        .1
        .into_iter()
        .map(|g| (g.id, g.outcome))
        .collect()
}

fn cidr(s: &str) -> appliance::config::values::Ipv4Cidr {
    s.parse().unwrap()
}

/// The panics of simulated crashes are expected: they are not printed.
fn quiet_crashes() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or_default();
            if !message.contains(crate::os::CRASH) {
                default(info);
            }
        }));
    });
}

/// Applies `text` through `engine`, which dies if its machine "crashes":
/// `None` then, else the apply's result.
async fn apply_or_crash(mut engine: Engine, text: &str) -> Option<Result<Applied, EngineError>> {
    quiet_crashes();
    let applied = std::panic::AssertUnwindSafe(engine.apply(req(text)))
        .catch_unwind()
        .await;
    // A dead process takes the thread opening its store with it; here that
    // thread lives on, so it is let finish before the next start opens the
    // same store.
    let _ = engine.history(0, 1);
    drop(engine);
    applied.ok()
}

#[tokio::test]
async fn a_first_apply_writes_the_files_sets_the_network_host_name_and_daemons() {
    let b = SimBox::new();
    let (mut e, recovery) = b.open().await;
    assert_eq!(recovery, Recovery::default());
    let applied = e.apply(req(A)).await.unwrap();
    assert_eq!((applied.generation, applied.changed), (1, true));

    assert_eq!(b.sim.file("/etc/hostname").as_deref(), Some("telbox\n"));
    assert!(b
        .sim
        .file("/etc/resolv.conf")
        .unwrap()
        .contains("nameserver 192.0.2.1"));
    assert!(b.sim.file(desired::CONFIG_PATH).unwrap().contains("telbox"));
    let eth0 = b.link("eth0");
    assert!(eth0.up);
    assert_eq!(eth0.ipv4, vec![cidr("192.0.2.10/24")]);
    let net = b.sim.state().network.unwrap();
    assert!(
        net.routes
            .iter()
            .any(|r| r.is_default() && r.gateway == Some("192.0.2.1".parse().unwrap())),
        "{net:?}"
    );
    assert_eq!(b.sim.state().hostname, "telbox");
    let services = b.sim.state().services.unwrap();
    assert_eq!(services[&Service::Ntp], ServiceState::Active);
    assert_eq!(
        services[&Service::Dhcp],
        ServiceState::Inactive,
        "DHCP is off"
    );
    assert_eq!(e.current_generation().unwrap(), 1);
    assert_eq!(outcomes(&e), vec![(1, Outcome::Applied)]);
    assert!(Journal::find(&b.state()).unwrap().is_none());
    assert!(b.sim.state().kept.is_empty(), "kept files let go of");
}

#[tokio::test]
async fn a_no_op_re_apply_touches_nothing() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    b.sim.clear_calls();
    let again = e.apply(req(A)).await.unwrap();
    assert_eq!((again.generation, again.changed), (1, false));
    assert!(again.plan.is_empty());
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
    assert!(
        !b.sim.calls().is_empty(),
        "the machine was observed all the same"
    );
    assert_eq!(outcomes(&e).len(), 1);
}

#[tokio::test]
async fn planning_observes_and_changes_nothing() {
    let b = SimBox::new();
    let (e, _) = b.open().await;
    let before = b.machine();
    let plan = e.plan(A).await.unwrap();
    assert!(plan.lines().iter().any(|l| l.contains("192.0.2.10/24")));
    assert!(plan.lines().iter().any(|l| l == "set host name to telbox"));
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
    assert_eq!(b.machine(), before);
    assert_eq!(e.current_generation().unwrap(), 0);
}

#[tokio::test]
async fn render_and_plan_read_nothing_once_the_machine_is_observed() {
    let b = SimBox::new();
    let (e, _) = b.open().await;
    let config = config::load(A, "a.toml").unwrap();
    let (desired, observed) = e.observe(&config).await.unwrap();
    b.sim.clear_calls();
    let first = planner::plan(&desired, &observed).unwrap();
    let again = Desired::render(
        &config,
        &observed,
        &b.state(),
        &crate::ntp::ChronyPaths::under(&b.state()),
    )
    .unwrap();
    assert_eq!(again, desired);
    assert_eq!(planner::plan(&again, &observed).unwrap(), first);
    assert_eq!(b.sim.calls(), Vec::<Call>::new(), "no call to the machine");
}

#[tokio::test]
async fn a_stale_base_is_refused_and_changes_nothing() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    e.apply(req(B)).await.unwrap();
    let before = b.machine();
    b.sim.clear_calls();
    let err = e
        .apply(ApplyRequest {
            base: Some(1),
            ..req(A)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::StaleBase {
                given: 1,
                current: 2
            }
        ),
        "{err}"
    );
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
    assert_eq!(b.machine(), before);
    let ok = e
        .apply(ApplyRequest {
            base: Some(2),
            ..req(A)
        })
        .await
        .unwrap();
    assert_eq!(ok.generation, 3);
}

#[tokio::test]
async fn a_confirmed_generation_stays() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let applied = e.apply(with_confirm(B)).await.unwrap();
    assert_eq!(e.pending().map(|p| p.generation), Some(applied.generation));
    assert_eq!(outcomes(&e)[0], (2, Outcome::Pending));
    let err = e.apply(req(A)).await.unwrap_err();
    assert!(matches!(err, EngineError::AwaitingConfirm(2)), "{err}");
    assert!(matches!(e.confirm(1), Err(EngineError::NotPending(1))));
    e.confirm(2).unwrap();
    assert_eq!(e.pending(), None);
    assert_eq!(outcomes(&e)[0], (2, Outcome::Applied));
    drop(e);
    let (e, recovery) = b.open().await;
    assert_eq!(recovery, Recovery::default());
    assert_eq!(e.current_generation().unwrap(), 2);
    assert_eq!(b.sim.state().hostname, "newbox");
}

#[tokio::test]
async fn a_confirm_that_does_not_come_brings_the_previous_generation_back() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let old = b.machine();
    e.apply(with_confirm(B)).await.unwrap();
    assert_ne!(b.machine(), old);
    let rolled = e.expire_pending("not confirmed in time").await.unwrap();
    assert_eq!(rolled, Some(2));
    assert_eq!(b.machine(), old);
    assert_eq!(e.current_generation().unwrap(), 1);
    let h = e.history(0, 1).unwrap().1;
    assert_eq!((h[0].id, h[0].outcome), (2, Outcome::RolledBack));
    assert_eq!(h[0].reason, "not confirmed in time");
    assert_eq!(e.pending(), None);
    assert_eq!(e.expire_pending("again").await.unwrap(), None);
}

#[tokio::test]
async fn a_restart_inside_the_confirm_window_rolls_back() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let old = b.machine();
    e.apply(with_confirm(B)).await.unwrap();
    drop(e);
    let (e, recovery) = b.open().await;
    assert_eq!(recovery.rolled_back, Some(2));
    assert_eq!(recovery.interrupted, None);
    assert_eq!(b.machine(), old);
    assert_eq!(e.current_generation().unwrap(), 1);
    assert!(e.history(0, 1).unwrap().1[0]
        .reason
        .contains("sysconfd restarted inside the confirm window"));
}

#[tokio::test]
async fn a_first_generation_not_confirmed_is_taken_back_whole() {
    let b = SimBox::new();
    let before = b.machine();
    let (mut e, _) = b.open().await;
    e.apply(with_confirm(A)).await.unwrap();
    assert_eq!(b.link("eth0").ipv4, vec![cidr("192.0.2.10/24")]);
    assert_eq!(b.sim.state().hostname, "telbox");
    drop(e);
    let (e, recovery) = b.open().await;
    assert_eq!(recovery.rolled_back, Some(1));
    assert_eq!(
        b.machine(),
        before,
        "files, network, host name and daemons as before"
    );
    assert_eq!(e.current_generation().unwrap(), 0);
}

#[tokio::test]
async fn rolling_back_to_an_older_generation_applies_it_again() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let at_a = b.machine();
    e.apply(req(B)).await.unwrap();
    e.apply(req(&A.replace("telbox", "thirdbox")))
        .await
        .unwrap();
    let back = e.rollback_to(1, 0).await.unwrap();
    assert_eq!((back.generation, back.changed), (4, true));
    assert_eq!(b.machine().files, at_a.files);
    assert_eq!(b.machine().network, at_a.network);
    assert_eq!(b.sim.state().hostname, "telbox");
    assert_eq!(e.current_config().unwrap(), e.generation(1).unwrap().config);
    assert_eq!(outcomes(&e)[0], (4, Outcome::Applied));
    assert!(matches!(
        e.rollback_to(9, 0).await,
        Err(EngineError::Store(_))
    ));
}

#[tokio::test]
async fn a_crash_at_any_change_ends_in_the_old_or_the_new_generation() {
    let clean = SimBox::new();
    let (mut e, _) = clean.open().await;
    e.apply(req(A)).await.unwrap();
    let old = clean.machine();
    e.apply(req(B)).await.unwrap();
    let new = clean.machine();
    drop(e);

    let (mut crashes, mut ended_old, mut ended_new) = (0, 0, 0);
    for k in 0.. {
        let b = SimBox::new();
        let (mut e, _) = b.open().await;
        e.apply(req(A)).await.unwrap();
        drop(e);
        let (e, faulty) = b.open_faulty(Fault::CrashAt(k)).await;
        let Some(done) = apply_or_crash(e, B).await else {
            crashes += 1;
            let (e, _) = b.open().await;
            let now = b.machine();
            let generation = e.current_generation().unwrap();
            if now == old {
                ended_old += 1;
                assert_eq!(generation, 1, "crash before change {k}");
                assert_eq!(e.history(0, 1).unwrap().1[0].outcome, Outcome::Failed);
            } else {
                ended_new += 1;
                assert_eq!(now, new, "crash before change {k}: neither old nor new");
                assert_eq!(generation, 2, "crash before change {k}");
            }
            assert!(Journal::find(&b.state()).unwrap().is_none(), "{k}");
            assert!(b.sim.state().kept.is_empty(), "{k}");
            assert_eq!(e.degraded(), None);
            continue;
        };
        // No crash: the apply made fewer than k + 1 changes.
        assert!(faulty.changes() <= k, "{k}");
        assert_eq!(done.unwrap().generation, 2);
        assert_eq!(b.machine(), new);
        break;
    }
    assert!(crashes >= 10, "only {crashes} crash points");
    assert!(ended_old > 0 && ended_new > 0, "{ended_old} / {ended_new}");
}

#[tokio::test]
async fn a_crash_at_any_change_of_a_first_apply_ends_in_nothing_or_the_generation() {
    let before = SimBox::new().machine();
    let clean = SimBox::new();
    clean.open().await.0.apply(req(A)).await.unwrap();
    let new = clean.machine();

    let mut crashes = 0;
    for k in 0.. {
        let b = SimBox::new();
        let (e, _) = b.open_faulty(Fault::CrashAt(k)).await;
        if apply_or_crash(e, A).await.is_some() {
            break;
        }
        crashes += 1;
        let (e, _) = b.open().await;
        let now = b.machine();
        match e.current_generation().unwrap() {
            0 => assert_eq!(now, before, "crash before change {k}"),
            1 => assert_eq!(now, new, "crash before change {k}"),
            g => panic!("generation {g}"),
        }
    }
    assert!(crashes >= 8, "only {crashes} crash points");
}

#[tokio::test]
async fn recovery_undoes_an_interrupted_first_generations_network_changes() {
    let b = SimBox::new();
    let before = b.sim.state().network.clone();
    // Crash just after the network run: the first change after it.
    let (e, _) = b.open().await;
    let plan = e.plan(A).await.unwrap();
    let nets = plan.network_actions().len();
    assert!(nets >= 3, "{plan}");
    drop(e);
    let (e, faulty) = b.open_faulty(Fault::CrashAt(1)).await;
    b.sim.clear_calls();
    assert!(apply_or_crash(e, A).await.is_none(), "crashed");
    assert!(faulty.crashed());
    assert_eq!(b.link("eth0").ipv4, vec![cidr("192.0.2.10/24")], "applied");
    assert!(Journal::find(&b.state()).unwrap().is_some());

    b.sim.clear_calls();
    let (e, recovery) = b.open().await;
    assert_eq!(recovery.interrupted, Some(1));
    assert_eq!(b.sim.state().network, before, "links as they were");
    let undone: Vec<NetAction> = b
        .sim
        .changes()
        .into_iter()
        .filter_map(|c| match c {
            Call::Network(a) => Some(a),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        undone.contains(&NetAction::RemoveAddress {
            link: "eth0".into(),
            address: cidr("192.0.2.10/24")
        }),
        "{undone:?}"
    );
    assert_eq!(e.current_generation().unwrap(), 0);
    let h = e.history(0, 1).unwrap().1;
    assert_eq!((h[0].id, h[0].outcome), (1, Outcome::Failed));
    assert!(h[0].reason.contains("interrupted"), "{}", h[0].reason);
}

#[tokio::test]
async fn a_daemon_check_refusal_leaves_the_old_generation_and_the_daemon_untouched() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let old = b.machine();
    let refreshes = b.sim.state().refreshes;
    b.sim.edit(|s| {
        s.refusals.insert(
            Service::Ntp,
            "chronyd refuses the generated configuration: line 3: bad".into(),
        )
    });
    b.sim.clear_calls();

    let err = e.apply(req(B)).await.unwrap_err().to_string();
    assert!(
        err.contains("chronyd refuses the generated configuration"),
        "{err}"
    );
    assert_eq!(b.machine(), old, "the old generation is in force");
    assert_eq!(
        b.sim.state().refreshes,
        refreshes,
        "the daemon was left alone"
    );
    let calls = b.sim.calls();
    assert!(calls.contains(&Call::CheckConfig(Service::Ntp)));
    assert!(
        !calls.iter().any(|c| matches!(
            c,
            Call::RefreshService(_) | Call::StopService(_)
        ) || matches!(c, Call::WriteFile { path, .. } if path == Path::new(crate::ntp::CHRONY_CONF))),
        "{calls:?}"
    );
    assert_eq!(e.current_generation().unwrap(), 1);
    let h = e.history(0, 1).unwrap().1;
    assert_eq!((h[0].id, h[0].outcome), (2, Outcome::Failed));
    assert!(h[0].reason.contains("chronyd refuses"), "{}", h[0].reason);
    assert_eq!(e.degraded(), None);
}

#[tokio::test]
async fn a_plan_the_daemon_refuses_is_refused_at_plan_time() {
    let b = SimBox::new();
    let (e, _) = b.open().await;
    b.sim
        .edit(|s| s.refusals.insert(Service::Ntp, "chronyd says no".into()));
    let err = e.plan(A).await.unwrap_err().to_string();
    assert_eq!(err, "chronyd says no");
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
}

#[tokio::test]
async fn secrets_never_reach_a_plan_history_or_log() {
    #[derive(Clone)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let log = Capture(Arc::new(Mutex::new(Vec::new())));
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let text = with_berofos(A, SECRET);
    let plan = e.plan(&text).await.unwrap();
    let applied = e.apply(req(&text)).await.unwrap();
    // A failed apply and a rollback log and record too.
    b.sim
        .edit(|s| s.refusals.insert(Service::Ntp, "chronyd says no".into()));
    assert!(e.apply(req(&with_berofos(B, SECRET))).await.is_err());
    b.sim.edit(|s| s.refusals.clear());
    e.apply(with_confirm(&with_berofos(B, SECRET)))
        .await
        .unwrap();
    e.expire_pending("not confirmed").await.unwrap();

    let mut seen = format!("{plan}\n{:?}\n{:?}\n", plan.items(), applied.plan);
    for g in e.history(0, u64::MAX).unwrap().1 {
        seen.push_str(&format!("{g:?}\n"));
    }
    seen.push_str(&e.current_config().unwrap());
    seen.push_str(&format!("{:?}", b.sim.calls()));
    let config = config::load(&text, "t").unwrap();
    let (desired, observed) = e.observe(&config).await.unwrap();
    seen.push_str(&format!(
        "{observed:?}{:?}",
        planner::plan(&desired, &observed)
    ));
    seen.push_str(&String::from_utf8_lossy(&log.0.lock().unwrap()));
    assert!(seen.contains("fos1"), "the device itself is named");
    assert!(!seen.contains(SECRET), "the secret leaked:\n{seen}");
    assert!(
        plan.lines()
            .iter()
            .any(|l| l.contains("(secret, mode 0600)")),
        "{plan}"
    );
    // The secret is where it belongs, and only there.
    let stored = b.sim.state().files[Path::new("/etc/telbox/secrets/fos1.password")].clone();
    assert_eq!(stored, FileState::new(format!("{SECRET}\n"), 0o600));
    assert!(!b.sim.file(desired::CONFIG_PATH).unwrap().contains(SECRET));
}

#[tokio::test]
async fn a_redacted_secret_resolves_to_the_stored_one() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(&with_berofos(A, SECRET))).await.unwrap();
    let current = e.current_config().unwrap();
    assert!(current.contains(appliance::config::values::Secret::REDACTED));
    b.sim.clear_calls();
    let again = e.apply(req(&current)).await.unwrap();
    assert_eq!((again.generation, again.changed), (1, false));
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
    let bnfos = b.sim.file(desired::BNFOS_CONF).unwrap();
    assert!(bnfos.contains(SECRET), "bnfos.conf keeps the login");
}

#[tokio::test]
async fn a_redacted_secret_with_none_stored_is_refused() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let text = with_berofos(A, appliance::config::values::Secret::REDACTED);
    let err = e.apply(req(&text)).await.unwrap_err().to_string();
    assert!(err.contains("no stored secret exists"), "{err}");
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
    assert_eq!(e.current_generation().unwrap(), 0);
}

#[tokio::test]
async fn a_failing_network_change_is_undone_and_recorded() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let old = b.machine();
    drop(e);
    // The first change of the apply is its network run.
    let (mut e, _) = b
        .open_faulty(Fault::FailAt(
            0,
            "RTNETLINK answers: Permission denied".into(),
        ))
        .await;
    let err = e.apply(req(B)).await.unwrap_err().to_string();
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(b.machine(), old);
    assert_eq!(e.current_generation().unwrap(), 1);
    assert_eq!(outcomes(&e)[0], (2, Outcome::Failed));
    assert!(e.history(0, 1).unwrap().1[0]
        .reason
        .ends_with("the previous generation was restored"));
}

#[tokio::test]
async fn a_failing_file_write_puts_every_file_back() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let old = b.machine();
    drop(e);
    let (e, _) = b.open().await;
    let plan = e.plan(B).await.unwrap();
    drop(e);
    // Changes: the network run, then per file a keep and a write.
    let files = plan.actions.iter().filter(|a| a.file().is_some()).count();
    assert!(files >= 3, "{plan}");
    let last_write = 1 + 2 * files - 1;
    let (mut e, _) = b
        .open_faulty(Fault::FailAt(last_write, "No space left on device".into()))
        .await;
    let err = e.apply(req(B)).await.unwrap_err().to_string();
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(b.machine(), old);
    assert!(b.sim.state().kept.is_empty());
    assert_eq!(outcomes(&e)[0], (2, Outcome::Failed));
}

#[tokio::test]
async fn a_change_the_machine_does_not_take_fails_the_verify() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let old = b.machine();
    drop(e);
    // The host name is set after the files; lose that change.
    let (e, _) = b.open().await;
    let plan = e.plan(B).await.unwrap();
    drop(e);
    let files = plan.actions.iter().filter(|a| a.file().is_some()).count();
    let (mut e, _) = b.open_faulty(Fault::LoseAt(1 + 2 * files)).await;
    let err = e.apply(req(B)).await.unwrap_err();
    assert!(
        matches!(&err, EngineError::Verify(left) if left == &["set host name to newbox"]),
        "{err}"
    );
    assert_eq!(b.machine(), old);
    assert_eq!(outcomes(&e)[0], (2, Outcome::Failed));
}

#[tokio::test]
async fn links_the_config_names_that_are_missing_are_refused_before_any_change() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let text = A.replace("\"eth0\"", "\"eth7\"");
    let err = e.apply(req(&text)).await.unwrap_err();
    assert!(
        matches!(&err, EngineError::MissingLinks(l) if l == &["eth7"]),
        "{err}"
    );
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
}

#[tokio::test]
async fn an_unmanaged_interface_is_never_touched() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let text = format!(
        "{A}\n[[network.interface]]\nname = \"eth1\"\naddress = \"198.51.100.7/24\"\nmanaged = false\n"
    );
    e.apply(req(&text)).await.unwrap();
    let eth1 = b.link("eth1");
    assert_eq!(eth1, Link::new(3, "eth1", 1500));
    assert!(!b.sim.calls().iter().any(|c| matches!(
        c,
        Call::Network(a) if a.iter().any(|a| format!("{a}").contains("eth1"))
    )));
}

#[tokio::test]
async fn a_file_changed_behind_sysconfds_back_is_written_again_alone() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    b.sim.edit(|s| {
        s.files.insert(
            "/etc/hosts".into(),
            FileState::new("127.0.0.1 edited\n", 0o644),
        )
    });
    b.sim.clear_calls();
    let applied = e.apply(req(A)).await.unwrap();
    assert_eq!(applied.plan.len(), 1, "{:?}", applied.plan);
    assert!(applied.plan[0].starts_with("write /etc/hosts "));
    let written: Vec<_> = b
        .sim
        .changes()
        .into_iter()
        .filter_map(|c| match c {
            Call::WriteFile { path, .. } => Some(path),
            _ => None,
        })
        .collect();
    assert_eq!(written, vec![PathBuf::from("/etc/hosts")]);
    assert!(b
        .sim
        .file("/etc/hosts")
        .unwrap()
        .contains("telbox.example.com"));
}

#[tokio::test]
async fn a_file_the_config_no_longer_asks_for_is_removed() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    assert!(b.sim.file("/etc/resolv.conf").is_some());
    let no_dns = A.replace("[dns]\nnameservers = [\"192.0.2.1\"]\n", "");
    let applied = e.apply(req(&no_dns)).await.unwrap();
    assert!(
        applied.plan.contains(&"remove /etc/resolv.conf".to_owned()),
        "{:?}",
        applied.plan
    );
    assert_eq!(b.sim.file("/etc/resolv.conf"), None);
    // Rolled back, it comes again.
    e.rollback_to(1, 0).await.unwrap();
    assert!(b.sim.file("/etc/resolv.conf").is_some());
}

#[tokio::test]
async fn only_the_daemon_whose_file_changed_is_refreshed() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    b.sim.clear_calls();
    let text = A.replace("[dns]", "[ntp]\nservers = [\"192.0.2.99\"]\n\n[dns]");
    e.apply(req(&text)).await.unwrap();
    let daemons: Vec<_> = b
        .sim
        .changes()
        .into_iter()
        .filter(|c| matches!(c, Call::RefreshService(_) | Call::StopService(_)))
        .collect();
    assert_eq!(daemons, vec![Call::RefreshService(Service::Ntp)]);
}

#[tokio::test]
async fn a_daemon_no_longer_wanted_is_stopped() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let dhcp = A.replace(
        "[dns]",
        "[dhcp]\nenabled = true\npool_start = \"192.0.2.100\"\npool_end = \"192.0.2.150\"\n\n[dns]",
    );
    e.apply(req(&dhcp)).await.unwrap();
    let services = b.sim.state().services.unwrap();
    assert_eq!(services[&Service::Dhcp], ServiceState::Active);
    b.sim.clear_calls();
    e.apply(req(A)).await.unwrap();
    assert!(b.sim.changes().contains(&Call::StopService(Service::Dhcp)));
    let services = b.sim.state().services.unwrap();
    assert_eq!(services[&Service::Dhcp], ServiceState::Inactive);
}

#[tokio::test]
async fn converge_at_start_starts_a_daemon_that_stopped() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    b.sim.edit(|s| {
        s.services
            .as_mut()
            .unwrap()
            .insert(Service::Ntp, ServiceState::Failed)
    });
    b.sim.clear_calls();
    e.converge().await.unwrap();
    assert_eq!(b.sim.changes(), vec![Call::RefreshService(Service::Ntp)]);
    assert_eq!(outcomes(&e).len(), 1, "converging records nothing");
}

#[tokio::test]
async fn dhcp_clients_follow_the_links_with_method_dhcp() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let text = format!("{A}\n[[network.interface]]\nname = \"eth1\"\nmethod = \"dhcp\"\n");
    e.apply(req(&text)).await.unwrap();
    assert!(b
        .sim
        .changes()
        .contains(&Call::StartDhcpClient("eth1".into())));
    let clients = b.sim.state().dhcp_clients.unwrap();
    assert_eq!(clients.into_iter().collect::<Vec<_>>(), ["eth1"]);
    assert!(b.link("eth1").ipv4.is_empty(), "the client's business");
    e.apply(req(A)).await.unwrap();
    assert!(b
        .sim
        .changes()
        .contains(&Call::StopDhcpClient("eth1".into())));
    assert_eq!(b.sim.state().dhcp_clients, Some(Default::default()));
}

#[tokio::test]
async fn the_host_name_is_left_alone_when_sysconfd_does_not_set_it() {
    let mut b = SimBox::new();
    b.set_hostname = false;
    let (mut e, _) = b.open().await;
    let applied = e.apply(req(A)).await.unwrap();
    assert!(!applied.plan.iter().any(|l| l.contains("host name")));
    assert_eq!(b.sim.state().hostname, "localhost");
    assert!(!b.sim.calls().contains(&Call::Hostname));
    assert_eq!(b.sim.file("/etc/hostname").as_deref(), Some("telbox\n"));
}

#[tokio::test]
async fn without_network_or_daemons_only_files_change() {
    let b = SimBox::with(SimState {
        network: None,
        services: None,
        dhcp_clients: None,
        ..SimState::default()
    });
    let (mut e, _) = b.open().await;
    let applied = e.apply(req(A)).await.unwrap();
    assert!(applied
        .plan
        .iter()
        .all(|l| l.starts_with("write ") || l.starts_with("set host name")));
    let changed: Vec<_> = b
        .sim
        .changes()
        .into_iter()
        .filter(|c| {
            !matches!(
                c,
                Call::WriteFile { .. }
                    | Call::KeepFile(_)
                    | Call::DropKept(_)
                    | Call::SetHostname(_)
            )
        })
        .collect();
    assert_eq!(changed, Vec::<Call>::new());
}

#[tokio::test]
async fn a_system_changed_to_the_config_behind_sysconfds_back_is_recorded() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let other = SimBox::new();
    other.open().await.0.apply(req(B)).await.unwrap();
    // B's machine, made behind sysconfd's back: its files, kernel state
    // and host name.
    let made = other.sim.state();
    let (desired, _) = e.observe(&config::load(B, "b").unwrap()).await.unwrap();
    b.sim.edit(|s| {
        for f in &desired.files {
            s.files
                .insert(f.path.clone(), FileState::new(f.contents.clone(), f.mode));
        }
        s.network = made.network.clone();
        s.hostname = made.hostname.clone();
    });
    b.sim.clear_calls();
    let applied = e.apply(req(B)).await.unwrap();
    assert_eq!((applied.generation, applied.changed), (2, true));
    assert!(applied.plan.is_empty(), "{:?}", applied.plan);
    assert_eq!(b.sim.changes(), Vec::<Call>::new());
    let h = e.history(0, 1).unwrap().1;
    assert_eq!(h[0].reason, "the system already matched this configuration");
}

#[tokio::test]
async fn status_reads_go_through_the_seam() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.apply(req(A)).await.unwrap();
    let view = e.network_view().await.unwrap();
    assert!(view.managed);
    assert_eq!(view.differs, Vec::<String>::new());
    assert_eq!(e.links().await.unwrap().len(), 3);
    assert_eq!(e.hardware().unwrap(), Default::default());
    assert_eq!(
        e.os().service_state(Service::Ntp).await,
        Some(ServiceState::Active)
    );
    // Behind sysconfd's back, the address goes: the view says so.
    b.sim.edit(|s| {
        let net = s.network.as_mut().unwrap();
        net.links.iter_mut().for_each(|l| l.ipv4.clear());
    });
    let view = e.network_view().await.unwrap();
    assert!(
        view.differs.iter().any(|l| l.contains("192.0.2.10/24")),
        "{:?}",
        view.differs
    );
}

/// A first generation that lowers a parent's MTU and gives a new VLAN on it
/// the same.
const VLAN_ON_SMALLER_PARENT: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth1"
role = "voip"
address = "192.0.2.10/24"
mtu = 1400

[[network.vlan]]
name = "eth1.30"
parent = "eth1"
id = 30
address = "198.51.100.2/24"
mtu = 1400
"#;

#[tokio::test]
async fn a_failed_first_apply_deletes_its_vlan_whole_and_leaves_the_machine_as_it_was() {
    let b = SimBox::new();
    let before = b.machine();
    let (e, _) = b.open().await;
    let plan = e.plan(VLAN_ON_SMALLER_PARENT).await.unwrap();
    let mtus = plan
        .network_actions()
        .iter()
        .filter(|a| matches!(a, NetAction::SetMtu { .. }))
        .count();
    assert!(mtus >= 2, "{plan}");
    // Changes: the network run, then per file a keep and a write; the last
    // write fails, and the network run is taken back.
    let files = plan.actions.iter().filter(|a| a.file().is_some()).count();
    drop(e);
    let (mut e, _) = b
        .open_faulty(Fault::FailAt(2 * files, "No space left on device".into()))
        .await;
    let err = e
        .apply(req(VLAN_ON_SMALLER_PARENT))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("restor"), "the undo itself failed: {err}");
    assert_eq!(b.machine(), before);
    let net = b.sim.state().network.unwrap();
    assert!(net.link("eth1.30").is_none(), "{net:?}");
    assert_eq!(outcomes(&e), [(1, Outcome::Failed)]);
    assert!(
        Journal::find(&b.state()).unwrap().is_none(),
        "nothing left to finish"
    );
}

#[tokio::test]
async fn a_failed_apply_puts_back_an_mtu_the_generation_in_force_does_not_name() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let no_mtu = A.replace("mtu = 1500\n", "");
    assert_ne!(no_mtu, A);
    e.apply(req(&no_mtu)).await.unwrap();
    let old = b.machine();
    let plan = e.plan(B).await.unwrap();
    assert!(
        plan.to_string().contains("set eth0 mtu 1500 -> 1400"),
        "{plan}"
    );
    let files = plan.actions.iter().filter(|a| a.file().is_some()).count();
    drop(e);
    let (mut e, _) = b
        .open_faulty(Fault::FailAt(2 * files, "No space left on device".into()))
        .await;
    let err = e.apply(req(B)).await.unwrap_err().to_string();
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("restoring the previous"), "{err}");
    assert_eq!(b.link("eth0").mtu, 1500);
    assert_eq!(b.machine(), old);
    assert_eq!(outcomes(&e)[0], (2, Outcome::Failed));
}

/// eth1 carrying VLAN 10 with its own MTU; eth1 itself has no MTU of its own.
const VLAN_WITH_MTU: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
gateway = "192.0.2.1"

[[network.interface]]
name = "eth1"
address = "10.1.0.2/24"

[[network.vlan]]
name = "eth1.10"
parent = "eth1"
id = 10
address = "10.10.0.2/24"
mtu = 1400

[[network.route]]
destination = "10.30.0.0/16"
via = "10.10.0.1"
"#;

#[tokio::test]
async fn a_vlan_with_its_own_mtu_on_a_parent_coming_up_applies() {
    // Sent per link in plan order, the VLAN's "mtu + up" went before its
    // parent's "up" and the kernel said ENETDOWN.
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    let applied = e.apply(req(VLAN_WITH_MTU)).await.unwrap();
    assert!(applied.changed);
    let vlan = b.link("eth1.10");
    assert!(vlan.up && b.link("eth1").up);
    assert_eq!(vlan.mtu, 1400);
    let net = b.sim.state().network.unwrap();
    assert!(
        net.routes
            .iter()
            .any(|r| r.dev.as_deref() == Some("eth1.10") && r.is_telbox()),
        "{net:?}"
    );
    assert!(e.plan(VLAN_WITH_MTU).await.unwrap().is_empty());
}
