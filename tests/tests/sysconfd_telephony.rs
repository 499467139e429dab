//! sysconfd applying a [telephony] section over a DAHDI sysfs tree laid out
//! as the TE420 driver does: the files land, the DAHDI sequence is run (and
//! recorded under the test root), and a second apply changes nothing.

use std::fs;
use std::path::Path;
use std::process::Command;

use telbox_tests::bins::{bin, require_root};
use telbox_tests::daemon::{text, DEFAULT_LINKS, ONE_VOIP_LINK};
use telbox_tests::dahdi_fixture::Fixture;

const BASE: &str = ONE_VOIP_LINK;

fn e1_telephony() -> String {
    let example = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/e1-provider-pbx.toml"),
    )
    .unwrap();
    let at = example
        .find("[telephony]")
        .expect("the E1 example has a [telephony] section");
    example[at..].to_owned()
}

/// Applies `config` `times` times in a row, in one fresh network namespace.
fn apply(root: &Path, config: &Path, times: usize) -> std::process::Output {
    let once = "\"$0\" --root \"$1\" apply --once --config \"$2\"";
    let script = format!("{DEFAULT_LINKS}; {}", vec![once; times].join(" && "));
    Command::new("unshare")
        .args(["--net", "--", "sh", "-c", &script])
        .arg(bin("sysconfd"))
        .arg(root)
        .arg(config)
        .output()
        .unwrap()
}

#[test]
fn the_seed_e1_card_is_configured_and_a_second_apply_is_a_no_op() {
    require_root("sysconfd telephony");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    Fixture::te420().build(&root).unwrap();
    let config = dir.path().join("box.toml");
    fs::write(&config, format!("{BASE}\n{}", e1_telephony())).unwrap();

    let out = apply(&root, &config, 1);
    assert!(out.status.success(), "{}", text(&out));
    let system = fs::read_to_string(root.join("etc/dahdi/system.conf")).unwrap();
    for line in [
        "span=1,1,0,ccs,hdb3",
        "span=2,2,0,ccs,hdb3",
        "span=3,0,0,ccs,hdb3",
        "span=4,0,0,ccs,hdb3",
    ] {
        assert!(
            system.lines().any(|l| l.trim() == line),
            "no `{line}` in system.conf:\n{system}"
        );
    }
    let channels = fs::read_to_string(root.join("etc/asterisk/dahdi-channels.conf")).unwrap();
    assert!(
        channels.contains("signalling = pri_cpe") && channels.contains("signalling = pri_net"),
        "{channels}"
    );
    let commands = fs::read_to_string(root.join("var/log/telbox/commands.log")).unwrap();
    assert!(
        commands
            .lines()
            .any(|l| l == "dahdi_cfg -c /etc/dahdi/system.conf"),
        "{commands}"
    );
    assert!(
        commands
            .lines()
            .any(|l| l.starts_with("dahdi_span_assignments add")),
        "{commands}"
    );

    let before = fs::read_to_string(root.join("var/log/telbox/commands.log")).unwrap();
    let out = apply(&root, &config, 2);
    assert!(text(&out).contains("nothing to do"), "{}", text(&out));
    let after = fs::read_to_string(root.join("var/log/telbox/commands.log")).unwrap();
    assert_eq!(
        after, before,
        "re-applying the same telephony ran DAHDI commands again"
    );
}

/// Replaces the simulated hardware under `root` with `cards`, as a driver
/// would change it: the new sysfs and /proc trees are built aside and moved in.
fn swap_hardware(root: &Path, cards: &[&str]) {
    let aside = root.with_extension("next");
    let _ = fs::remove_dir_all(&aside);
    Fixture::parse(cards).unwrap().build(&aside).unwrap();
    for tree in ["sys", "proc"] {
        let old = root.with_extension(format!("old-{tree}"));
        fs::rename(root.join(tree), &old).unwrap();
        fs::rename(aside.join(tree), root.join(tree)).unwrap();
        fs::remove_dir_all(old).unwrap();
    }
}

/// Collects the Status signals sysconfd sends on `bus`, through dbus-monitor.
struct SignalLog {
    child: std::process::Child,
    path: std::path::PathBuf,
}

impl SignalLog {
    fn start(bus: &telbox_tests::bus::PrivateBus, dir: &Path) -> SignalLog {
        let path = dir.join("signals.log");
        let out = fs::File::create(&path).unwrap();
        let child = Command::new("dbus-monitor")
            .args(["--address", &bus.address])
            .arg("type='signal',interface='org.telbox.Sysconfd1.Status'")
            .stdout(out)
            .spawn()
            .expect("dbus-monitor (dbus package)");
        SignalLog { child, path }
    }

    /// Waits up to 5 s for the log to contain every one of `needles`.
    fn wait_for(&self, needles: &[&str]) -> String {
        let start = std::time::Instant::now();
        loop {
            let text = fs::read_to_string(&self.path).unwrap_or_default();
            if needles.iter().all(|n| text.contains(n)) {
                return text;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(5),
                "no {needles:?} in the signals:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for SignalLog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn span_alarms_and_new_cards_are_signalled_and_shown_not_configured() {
    require_root("sysconfd telephony");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    Fixture::te420().build(&root).unwrap();
    let bus = telbox_tests::bus::PrivateBus::with_project_policy();
    let d = telbox_tests::daemon::Sysconfd::start(&bus, &root, &[]);
    let signals = SignalLog::start(&bus, dir.path());
    std::thread::sleep(std::time::Duration::from_millis(300));

    swap_hardware(&root, &["te420:red"]);
    signals.wait_for(&["member=SpanAlarmsChanged", "uint32 1", "RED"]);
    let status = d.appliance(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        status["sections"]["telephony"]["spans"]["1"], "RED",
        "{status}"
    );

    swap_hardware(&root, &["te420:red", "b410p"]);
    signals.wait_for(&["member=CardsChanged", "pci:0000:03:00.0"]);
    let hw = d.appliance(&["telephony", "hardware", "--json"]);
    let hw: serde_json::Value = serde_json::from_slice(&hw.stdout).unwrap();
    assert_eq!(hw["cards"].as_array().map(Vec::len), Some(2), "{hw}");
    let proposal = d.appliance(&["telephony", "propose"]);
    assert!(
        text(&proposal).contains("pci:0000:03:00.0"),
        "the new card should be proposed: {}",
        text(&proposal)
    );
    assert!(
        !root.join("etc/dahdi/system.conf").exists(),
        "a new card must not be configured behind the admin's back"
    );
}
