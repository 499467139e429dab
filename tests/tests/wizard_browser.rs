//! The first-boot web wizard in a real browser: headless Chromium, driven
//! over WebDriver, on a LAN namespace wired to the box's namespace, where
//! sysconfd (on a private bus with the project's policy) and the wizard's
//! server (as the telbox-wizard user) run. Screenshots of every page state
//! go to `target/wizard-screenshots/`.

use std::time::{Duration, Instant};

use serde_json::Value;
use telbox_tests::bins::require_root;
use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::{scratch_dir, shared_file, text, Sysconfd};
use telbox_tests::dahdi_fixture::Fixture;
use telbox_tests::netns::Netns;
use telbox_tests::wizard::{
    ensure_wizard_user, wizard_ids, Browser, WizardOptions, WizardServer, WIZARD_USER,
};

/// What the installer's seed leaves: the box at 192.0.2.10 on eth0.
const SEED: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.0.2.10/24"
"#;

const OLD: &str = "https://192.0.2.10:8443/";

/// Fields drop in order: browser sessions end first (in the test), then
/// the wizard, sysconfd, the namespaces, the files and the bus.
struct Lab {
    wizard: WizardServer,
    d: Sysconfd,
    boxns: Netns,
    lan: Netns,
    dir: tempfile::TempDir,
    _bus: PrivateBus,
}

fn lab(confirm_timeout_s: u32, linger_s: u64, token_window_s: u64) -> Lab {
    require_root("the wizard in a browser");
    ensure_wizard_user();
    let boxns = Netns::create();
    let lan = Netns::create();
    boxns.veth_to("eth0", &lan, "lan0");
    lan.address("lan0", "192.0.2.1/24");
    boxns.ip(&["link", "set", "eth0", "up"]);
    let dir = scratch_dir("telbox-wizard-browser");
    let root = dir.path().join("root");
    Fixture::te420().build(&root).expect("a TE420 in the box");
    let bus = PrivateBus::with_project_policy();
    let d = Sysconfd::start_in(&bus, &root, boxns.name());
    let seed = shared_file(dir.path(), "seed.toml", SEED);
    let out = d.appliance(&["config", "apply", seed.to_str().unwrap()]);
    assert!(out.status.success(), "the seed: {}", text(&out));
    let wizard = WizardServer::start(
        dir.path(),
        &WizardOptions {
            netns: &boxns,
            bus_address: &bus.address,
            https_port: 8443,
            http_port: 8080,
            confirm_timeout_s,
            linger_s,
            token_tries: 5,
            token_window_s,
            extra: &[],
            nofile: None,
        },
    );
    Lab {
        wizard,
        d,
        boxns,
        lan,
        dir,
        _bus: bus,
    }
}

impl Lab {
    /// The token as root reads it: `appliance wizard token`.
    fn token(&self) -> String {
        let out = self.d.appliance(&[
            "wizard",
            "token",
            "--state-dir",
            self.wizard.state_dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let shown = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            shown.contains("certificate fingerprint: SHA-256 "),
            "{shown}"
        );
        shown
            .lines()
            .find_map(|l| l.strip_prefix("setup token:"))
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| panic!("no token in {shown}"))
    }

    fn status(&self) -> Value {
        let out = self.d.appliance(&["status", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    }

    fn history(&self) -> Value {
        let out = self.d.appliance(&["config", "history", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs the browser part inside the LAN namespace.
    fn browse<T: Send>(&self, f: impl AsyncFnOnce() -> T + Send) -> T {
        self.lan.run(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(f())
        })
    }

    /// The token never reaches a log.
    fn assert_token_unlogged(&self, token: &str) {
        for (what, log) in [
            ("the wizard's log", self.wizard.log_text()),
            ("sysconfd's log", self.d.log_text()),
        ] {
            assert!(!log.contains(token), "the token is in {what}:\n{log}");
        }
    }
}

/// `fetch` from the page: (status, body).
async fn fetch(b: &Browser, method: &str, path: &str, body: &str) -> (u64, String) {
    let script = format!(
        "const r = await fetch({path:?}, {{method: {method:?}, headers: {{'Content-Type': 'application/json'}}{}}}); return [r.status, await r.text()];",
        if method == "GET" { String::new() } else { format!(", body: {body:?}") }
    );
    let v = b
        .client
        .execute(&format!("return (async () => {{ {script} }})();"), vec![])
        .await
        .expect("fetch from the page");
    (
        v[0].as_u64().unwrap_or(0),
        v[1].as_str().unwrap_or("").to_owned(),
    )
}

async fn claim(b: &Browser, token: &str) {
    b.fill("token", token).await;
    b.click("claim-submit").await;
    b.wait_phase("open", Duration::from_secs(10)).await;
}

async fn fill_form(b: &Browser, fields: &[(&str, &str)]) {
    for (id, value) in fields {
        b.fill(id, value).await;
    }
}

async fn check(b: &Browser, expect: &str) {
    b.js("delete document.body.dataset.checked").await;
    b.click("check").await;
    b.wait_until(
        &format!("the form checked {expect}"),
        &format!("return document.body.dataset.checked === '{expect}'"),
        Duration::from_secs(15),
    )
    .await;
}

/// Every console entry is a network one (a refused token's 403, the old
/// address going away): no script error, no console.error.
fn assert_console_clean(entries: &[(String, String, String)]) {
    let bad: Vec<_> = entries
        .iter()
        .filter(|(level, source, _)| {
            source != "network" && (level == "SEVERE" || level == "WARNING")
        })
        .collect();
    assert!(bad.is_empty(), "console errors: {bad:#?}");
}

async fn scroll_to(b: &Browser, id: &str) {
    b.js(&format!(
        "document.getElementById('{id}').scrollIntoView({{block: 'start'}}); return true;"
    ))
    .await;
}

async fn fits_phone(b: &Browser) {
    let fits = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(
        fits,
        Value::Bool(true),
        "the page is wider than a phone's screen"
    );
}

#[test]
fn the_wizard_claims_shows_checks_completes_and_is_confirmed_from_the_new_address() {
    let started = Instant::now();
    let mut lab = lab(60, 6, 300);
    let token = lab.token();
    for (what, shown) in [
        ("the console", lab.wizard.console_text()),
        ("the screen", lab.wizard.screen_text()),
    ] {
        assert!(shown.contains(&token), "{what} shows the token:\n{shown}");
        assert!(
            shown.contains("certificate fingerprint: SHA-256 "),
            "{what}:\n{shown}"
        );
    }
    let mac = lab.boxns.link("eth0")["address"]
        .as_str()
        .unwrap()
        .to_owned();

    let console = lab.browse(async || {
        let b = Browser::start(9515, "flow").await;
        let mut console = Vec::new();

        // Plain HTTP sends the browser to HTTPS; the token comes first.
        b.client.goto("http://192.0.2.10:8080/").await.unwrap();
        b.wait_phase("claim", Duration::from_secs(15)).await;
        assert_eq!(b.client.current_url().await.unwrap().as_str(), OLD);
        let page = b.js("return document.body.innerText").await;
        let page = page.as_str().unwrap();
        assert!(!page.contains("eth0") && !page.contains(&mac), "{page}");
        assert_eq!(fetch(&b, "GET", "/api/state", "").await, (200, r#"{"phase":"claim"}"#.into()));
        let (status, _) = fetch(&b, "POST", "/api/check", "{}").await;
        assert_eq!(status, 401, "no check without the token");
        fits_phone(&b).await;
        b.shot("1-claim").await;

        b.fill("token", "AAAAA-BBBBB-CCCCC-DDDDD").await;
        b.click("claim-submit").await;
        b.wait_until(
            "a wrong token refused",
            "return document.getElementById('claim-error').textContent.includes('not the setup token')",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(b.phase().await, "claim");
        b.shot("2-wrong-token").await;

        // Typed loosely (lower case), the right token claims the box.
        claim(&b, &token.to_lowercase()).await;
        let nics = b.text_of("nics").await;
        assert!(nics.contains("eth0") && nics.contains(&mac), "{nics}");
        assert!(nics.contains("192.0.2.10/24"), "{nics}");
        let cards = b.text_of("cards").await;
        assert!(cards.contains("wct4xxp"), "the TE420 is listed: {cards}");
        assert_eq!(b.js("return document.getElementById('address').value").await, "192.0.2.10");
        fits_phone(&b).await;
        b.shot("3-box").await;

        // A bad host name and a gateway outside the subnet, both at once, each beside its field.
        fill_form(
            &b,
            &[
                ("hostname", "bad_host!"),
                ("domain", "example.com"),
                ("address", "192.0.2.20"),
                ("prefix", "24"),
                ("gateway", "10.9.0.1"),
                ("dns", "192.0.2.1"),
                ("timezone", "Europe/Paris"),
            ],
        )
        .await;
        check(&b, "invalid").await;
        let host = b.text_of("err-hostname").await;
        assert!(host.contains("invalid host name") && host.contains('_'), "{host}");
        let gw = b.text_of("err-gateway").await;
        assert!(gw.contains("outside the subnet"), "{gw}");
        for other in ["err-domain", "err-address", "err-dns", "err-timezone", "err-form"] {
            assert_eq!(b.text_of(other).await, "", "{other}");
        }
        assert_eq!(
            b.js("return document.querySelectorAll('.field.bad').length").await,
            2
        );
        assert_eq!(b.js("return document.getElementById('apply').disabled").await, true);
        scroll_to(&b, "hostname").await;
        b.shot("4-problems").await;

        // Fixed: the plan preview, then apply.
        fill_form(&b, &[("hostname", "pbx"), ("gateway", "192.0.2.1")]).await;
        check(&b, "valid").await;
        let plan = b.text_of("plan").await;
        assert!(plan.contains("192.0.2.20/24"), "{plan}");
        assert!(plan.contains("/etc/hostname"), "{plan}");
        let warnings = b.text_of("warnings").await;
        assert!(warnings.contains("192.0.2.10"), "the preview says the address goes: {warnings}");
        fits_phone(&b).await;
        scroll_to(&b, "preview").await;
        b.shot("5-preview").await;
        console.extend(b.console().await);

        b.click("apply").await;
        b.wait_until(
            "the browser at the new address, set up",
            "return location.href === 'https://192.0.2.20:8443/' && document.body.dataset.phase === 'done'",
            Duration::from_secs(30),
        )
        .await;
        fits_phone(&b).await;
        b.shot("6-done").await;

        // A later visit: still the set-up page, no form, and Complete is refused.
        b.client.goto("https://192.0.2.20:8443/").await.unwrap();
        b.wait_phase("done", Duration::from_secs(10)).await;
        assert_eq!(b.js("return document.getElementById('open').hidden").await, true);
        let (status, body) = fetch(&b, "POST", "/api/complete", "{}").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("already set up"), "{body}");
        console.extend(b.console().await);
        b.close().await;
        console
    });
    assert_console_clean(&console);

    // sysconfd: the wizard's generation, confirmed by the visit at the new address.
    let s = lab.status();
    assert!(s["pending"].is_null(), "{s}");
    assert_eq!(s["wizard_completed"], true, "{s}");
    assert_eq!(s["current_generation"], 2, "{s}");
    let h = lab.history();
    assert_eq!(h[0]["outcome"], "applied", "{h}");
    assert_eq!(h[0]["caller_uid"], wizard_ids().0, "{h}");
    assert_eq!(lab.boxns.ipv4("eth0"), vec!["192.0.2.20/24"]);
    assert!(
        lab.wizard.log_text().contains("confirmed"),
        "{}",
        lab.wizard.log_text()
    );

    // sysconfd refuses a second Complete, to the wizard's user too.
    let again = shared_file(lab.dir.path(), "again.toml", SEED);
    let out = lab.d.appliance_as(
        WIZARD_USER,
        &["wizard", "complete", again.to_str().unwrap()],
    );
    assert!(
        !out.status.success() && text(&out).contains("AlreadyCompleted"),
        "{}",
        text(&out)
    );

    // The server stops by itself once it has said so.
    let exit = lab.wizard.wait_exit(Duration::from_secs(20));
    assert!(
        exit.is_some_and(|s| s.success()),
        "the wizard did not stop: {exit:?}"
    );
    lab.assert_token_unlogged(&token);
    eprintln!("browser flow: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn an_unreachable_new_address_comes_back_by_itself_and_the_page_says_so() {
    let started = Instant::now();
    const TIMEOUT: u32 = 8;
    const WINDOW: u64 = 4;
    let lab = lab(TIMEOUT, 5, WINDOW);
    let token = lab.token();

    let (console, went_back) = lab.browse(async || {
        let b = Browser::start(9515, "rollback").await;
        b.client.goto(OLD).await.unwrap();
        b.wait_phase("claim", Duration::from_secs(15)).await;

        // Five wrong tokens, then this client waits out the window, even with the right one.
        let wrong = r#"{"token":"AAAAA-BBBBB-CCCCC-DDDDD"}"#;
        for _ in 0..5 {
            assert_eq!(fetch(&b, "POST", "/api/claim", wrong).await.0, 403);
        }
        let locked = Instant::now();
        let (status, body) = fetch(&b, "POST", "/api/claim", wrong).await;
        assert_eq!(status, 429, "{body}");
        assert!(body.contains("try again in"), "{body}");
        let right = format!(r#"{{"token":"{token}"}}"#);
        assert_eq!(fetch(&b, "POST", "/api/claim", &right).await.0, 429);
        assert_eq!(fetch(&b, "GET", "/api/state", "").await.1, r#"{"phase":"claim"}"#);
        let window = Duration::from_secs(WINDOW);
        tokio::time::sleep(window.saturating_sub(locked.elapsed()) + Duration::from_millis(300)).await;
        claim(&b, &token).await;

        // An address this LAN has no route to.
        fill_form(
            &b,
            &[
                ("hostname", "pbx"),
                ("domain", "example.com"),
                ("address", "198.51.100.20"),
                ("prefix", "24"),
                ("gateway", ""),
                ("dns", ""),
                ("timezone", "UTC"),
            ],
        )
        .await;
        check(&b, "valid").await;
        b.click("apply").await;
        b.wait_phase("pending", Duration::from_secs(15)).await;
        assert_eq!(b.text_of("new-url").await, "https://198.51.100.20:8443/");
        fits_phone(&b).await;
        b.shot("1-pending").await;
        let moving = Instant::now();
        while lab.boxns.ipv4("eth0") != ["198.51.100.20/24"] {
            assert!(
                moving.elapsed() < Duration::from_secs(5),
                "the box did not move: {:?}; sysconfd:\n{}\nwizard:\n{}",
                lab.boxns.ipv4("eth0"),
                lab.d.log_text(),
                lab.wizard.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // No request reaches the new address: the old one comes back, and the page at it says so.
        let applied = Instant::now();
        b.wait_until(
            "the page back at the old address saying so",
            "return document.body.dataset.phase === 'open' && document.body.dataset.rolledBack === 'yes'",
            Duration::from_secs(u64::from(TIMEOUT) + 30),
        )
        .await;
        let went_back = applied.elapsed();
        let banner = b.text_of("rolled-back").await;
        assert!(banner.contains("https://198.51.100.20:8443/"), "{banner}");
        assert!(banner.contains("went back to its previous address"), "{banner}");
        assert_eq!(b.client.current_url().await.unwrap().as_str(), OLD);
        assert_eq!(lab.boxns.ipv4("eth0"), vec!["192.0.2.10/24"], "the old address is back");
        assert_eq!(lab.status()["wizard_completed"], false);
        assert_eq!(lab.history()[0]["outcome"], "rolled-back");
        scroll_to(&b, "rolled-back").await;
        b.shot("2-rolled-back").await;

        // And the user may try again, with an address this LAN reaches.
        assert_eq!(b.js("return document.getElementById('address').value").await, "198.51.100.20");
        b.fill("address", "192.0.2.30").await;
        check(&b, "valid").await;
        b.click("apply").await;
        b.wait_until(
            "the second try set up at its address",
            "return location.href === 'https://192.0.2.30:8443/' && document.body.dataset.phase === 'done'",
            Duration::from_secs(30),
        )
        .await;
        b.shot("3-done-after-retry").await;
        let console = b.console().await;
        b.close().await;
        (console, went_back)
    });
    assert_console_clean(&console);
    assert!(
        went_back >= Duration::from_secs(u64::from(TIMEOUT) - 1),
        "back after {went_back:?}, before the {TIMEOUT} s window ended"
    );
    let s = lab.status();
    assert_eq!(s["wizard_completed"], true, "{s}");
    assert_eq!(lab.boxns.ipv4("eth0"), vec!["192.0.2.30/24"]);
    lab.assert_token_unlogged(&token);
    eprintln!(
        "rollback flow: the page said so {:.1} s after apply ({TIMEOUT} s window); {:.1} s in all",
        went_back.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
