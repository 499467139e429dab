//! sysconfd applying a [telephony] section over a DAHDI sysfs tree laid out
//! as the TE420 driver does: the files land, the DAHDI sequence is run (and
//! recorded under the test root), and a second apply changes nothing.

use std::fs;
use std::path::Path;
use std::process::Command;

use telbox_tests::bins::{bin, require_root};
use telbox_tests::daemon::{text, DEFAULT_LINKS};
use telbox_tests::dahdi_fixture::Fixture;

const BASE: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
"#;

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
