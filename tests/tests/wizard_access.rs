//! The first-boot wizard's user on the bus: it may call the Wizard methods
//! and nothing that changes the box otherwise: not `Config.Apply`,
//! `Rollback` or `Confirm`, and `Wizard.Confirm` only of the generation
//! its own `Complete` made; `Complete` only until the wizard has completed.
//! Checked against the project's bus policy, and against an allow-all
//! policy, where sysconfd's own check must hold alone.

use std::path::Path;

use telbox_tests::bins::require_root;
use telbox_tests::bus::{PrivateBus, ALLOW_ALL_POLICY};
use telbox_tests::daemon::{scratch_dir, shared_file, snapshot, text, Sysconfd};
use telbox_tests::wizard::{ensure_wizard_user, wizard_ids, WIZARD_USER};

const BASE: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
"#;

struct Files {
    one: String,
    two: String,
    wizard: String,
}

fn files(dir: &Path) -> Files {
    let f = |name: &str, text: &str| shared_file(dir, name, text).to_str().unwrap().to_owned();
    Files {
        one: f("one.toml", BASE),
        two: f("two.toml", &BASE.replace("\"telbox\"", "\"second\"")),
        wizard: f(
            "wizard.toml",
            &BASE.replace("192.0.2.10/24", "192.0.2.20/24"),
        ),
    }
}

fn ok(d: &Sysconfd, user: Option<&str>, args: &[&str]) -> String {
    let out = match user {
        Some(u) => d.appliance_as(u, args),
        None => d.appliance(args),
    };
    assert!(out.status.success(), "{user:?} {args:?}: {}", text(&out));
    text(&out)
}

fn refused(d: &Sysconfd, user: &str, args: &[&str], why: &str) {
    let out = d.appliance_as(user, args);
    assert!(
        !out.status.success(),
        "{args:?} was allowed for {user}: {}",
        text(&out)
    );
    assert!(
        text(&out).contains(why),
        "{args:?} as {user}: {}",
        text(&out)
    );
}

fn status(d: &Sysconfd) -> serde_json::Value {
    serde_json::from_str(&ok(d, None, &["status", "--json"])).unwrap()
}

#[test]
fn the_wizard_user_may_set_up_the_box_once_and_do_nothing_else() {
    require_root("access control");
    ensure_wizard_user();
    let dir = scratch_dir("telbox-wizard-access");
    let root = dir.path().join("root");
    let bus = PrivateBus::with_project_policy();
    let d = Sysconfd::start(&bus, &root, &[]);
    let f = files(dir.path());
    ok(&d, None, &["config", "apply", &f.one]);
    let before = snapshot(&root);

    // The bus refuses everything but what the wizard needs.
    let bus_says = "AccessDenied";
    for args in [
        vec!["config", "apply", f.two.as_str()],
        vec!["config", "rollback", "1"],
        vec!["config", "confirm", "1"],
        vec!["status"],
    ] {
        refused(&d, WIZARD_USER, &args, bus_says);
    }
    assert_eq!(snapshot(&root), before, "a refused call changed something");
    assert!(ok(&d, Some(WIZARD_USER), &["wizard", "discover", "--json"]).contains("eth0"));

    // A generation an admin applied, waiting for its confirm: not the wizard's to keep.
    ok(
        &d,
        None,
        &["config", "apply", &f.two, "--confirm-timeout", "300"],
    );
    assert_eq!(status(&d)["pending"]["generation"], 2);
    refused(
        &d,
        WIZARD_USER,
        &["wizard", "confirm", "2"],
        "Wizard.Confirm of generation 2 refused",
    );
    assert_eq!(status(&d)["pending"]["generation"], 2, "still waiting");
    ok(&d, None, &["config", "confirm", "2"]);

    // Its own Complete, with a confirm window: only Wizard.Confirm keeps it.
    let out = ok(
        &d,
        Some(WIZARD_USER),
        &["wizard", "complete", &f.wizard, "--confirm-timeout", "120"],
    );
    assert!(out.contains("generation 3"), "{out}");
    let s = status(&d);
    assert_eq!(s["pending"]["generation"], 3, "{s}");
    assert_eq!(
        s["wizard_completed"], false,
        "not completed before its confirm"
    );
    refused(&d, WIZARD_USER, &["config", "confirm", "3"], bus_says);
    ok(&d, Some(WIZARD_USER), &["wizard", "confirm", "3"]);
    let s = status(&d);
    assert!(s["pending"].is_null(), "{s}");
    assert_eq!(s["wizard_completed"], true);
    let history: serde_json::Value =
        serde_json::from_str(&ok(&d, None, &["config", "history", "--json"])).unwrap();
    assert_eq!(history[0]["id"], 3);
    assert_eq!(history[0]["outcome"], "applied");
    assert_eq!(history[0]["caller_uid"], wizard_ids().0);

    // Once completed: Complete is refused, to the wizard and to root.
    let done = snapshot(&root);
    refused(
        &d,
        WIZARD_USER,
        &["wizard", "complete", &f.one],
        "AlreadyCompleted",
    );
    let out = d.appliance(&["wizard", "complete", &f.one]);
    assert!(text(&out).contains("AlreadyCompleted"), "{}", text(&out));
    assert_eq!(snapshot(&root), done);
}

#[test]
fn with_an_allow_all_policy_sysconfd_still_holds_the_wizard_to_its_rules() {
    require_root("access control");
    ensure_wizard_user();
    let dir = scratch_dir("telbox-wizard-access");
    let root = dir.path().join("root");
    let bus = PrivateBus::start(ALLOW_ALL_POLICY);
    let d = Sysconfd::start(&bus, &root, &[]);
    let f = files(dir.path());
    ok(&d, None, &["config", "apply", &f.one]);
    ok(
        &d,
        None,
        &["config", "apply", &f.two, "--confirm-timeout", "300"],
    );
    let before = snapshot(&root);

    let daemon_says = "needs root or membership of the telbox-admin group";
    for args in [
        vec!["config", "apply", f.wizard.as_str()],
        vec!["config", "rollback", "1"],
        vec!["config", "confirm", "2"],
    ] {
        refused(&d, WIZARD_USER, &args, daemon_says);
    }
    refused(
        &d,
        WIZARD_USER,
        &["wizard", "confirm", "2"],
        "Wizard.Confirm of generation 2 refused",
    );
    // Other users may not call the wizard's methods either.
    refused(
        &d,
        "nobody",
        &["wizard", "complete", &f.wizard],
        "or the telbox-wizard user",
    );
    assert_eq!(snapshot(&root), before, "a refused call changed something");
    assert_eq!(status(&d)["pending"]["generation"], 2);
    ok(&d, None, &["config", "confirm", "2"]);

    // An admin's Config.Confirm of the wizard's generation completes the wizard too.
    ok(
        &d,
        Some(WIZARD_USER),
        &["wizard", "complete", &f.wizard, "--confirm-timeout", "120"],
    );
    assert_eq!(status(&d)["wizard_completed"], false);
    ok(&d, None, &["config", "confirm", "3"]);
    assert_eq!(status(&d)["wizard_completed"], true);
    refused(
        &d,
        WIZARD_USER,
        &["wizard", "complete", &f.wizard],
        "AlreadyCompleted",
    );
}
