//! `appliance berofos …` run as a user would, against the simulated device
//! on loopback (ephemeral ports only).

use std::ffi::OsStr;
use std::fs;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use telbox_tests::berofos_sim::{self, Relay, SimConfig, SimHandle};
use telbox_tests::bins;

/// `appliance berofos ARGS…`, waited for.
fn appliance<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(bins::bin("appliance"))
        .arg("berofos")
        .args(args)
        .output()
        .expect("appliance runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn sim() -> SimHandle {
    berofos_sim::start(SimConfig::loopback()).expect("simulator starts")
}

/// A password file `name` in `dir` holding `text`, with mode `mode`.
fn password_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// `--host 127.0.0.1` with the simulator's ports and a short timeout.
fn target(sim: &SimHandle) -> Vec<String> {
    let udp = sim.udp_addr().port().to_string();
    let http = sim.http_addr().port().to_string();
    [
        "--host",
        "127.0.0.1",
        "--udp-port",
        &udp,
        "--http-port",
        &http,
    ]
    .into_iter()
    .chain(["--timeout", "2"])
    .map(String::from)
    .collect()
}

/// `appliance berofos COMMAND [EXTRA…] TARGET…`.
fn run_on(sim: &SimHandle, command: &[&str]) -> Output {
    let target = target(sim);
    let mut args: Vec<&str> = command.to_vec();
    args.extend(target.iter().map(String::as_str));
    appliance(&args)
}

#[test]
fn scan_finds_the_simulator() {
    let sim = sim();
    let port = sim.udp_addr().port().to_string();
    let args = ["scan", "--host", "127.0.0.1", "--udp-port", &port, "--json"];
    let found: Value = serde_json::from_str(&ok(appliance(&args))).expect("JSON");
    let found = found.as_array().expect("an array");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["mac"], sim.mac());
    assert_eq!(found[0]["address"], "127.0.0.1");
    assert_eq!(found[0]["http_port"], sim.http_addr().port());
    let text = ok(appliance(&args[..5]));
    assert!(
        text.contains(&sim.mac()) && text.contains("1 device(s) found."),
        "{text}"
    );
}

#[test]
fn status_shows_the_relay_mode() {
    let sim = sim();
    let text = ok(run_on(&sim, &["status"]));
    assert!(text.contains("relay mode:    A--D (slave)"), "{text}");
    sim.set_relay_mode(Relay::AB);
    let json: Value = serde_json::from_str(&ok(run_on(&sim, &["status", "--json"]))).unwrap();
    assert_eq!(json[0]["relay_mode"], "master");
    assert_eq!(json[0]["relay_ports"], "A--B");
    assert_eq!(json[0]["watchdog"]["state"], "off");
}

#[test]
fn set_mode_throws_the_relays() {
    let sim = sim();
    ok(run_on(&sim, &["set-mode", "master"]));
    assert_eq!(sim.relay_mode(), Relay::AB);
    let text = ok(run_on(&sim, &["set-mode", "slave"]));
    assert_eq!(sim.relay_mode(), Relay::AD);
    assert!(text.contains("relays set to A--D (slave)"), "{text}");
}

#[test]
fn kick_reaches_the_watchdog() {
    let sim = sim();
    let before = sim.kicks_received();
    let text = ok(run_on(&sim, &["kick"]));
    assert_eq!(sim.kicks_received(), before + 1);
    assert!(text.contains("watchdog kicked"), "{text}");
    let mac = sim.mac();
    ok(run_on(&sim, &["kick", "--mac", &mac]));
    assert_eq!(sim.kicks_received(), before + 2);
}

#[test]
fn a_wrong_password_fails_clearly_and_is_never_printed() {
    let sim = berofos_sim::start(SimConfig::loopback().with_login("admin", "right-one"))
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let wrong = password_file(dir.path(), "wrong.pw", "not-the-password\n", 0o600);
    let out = run_on(
        &sim,
        &["status", "--password-file", wrong.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad credentials for 127.0.0.1"), "{err}");
    assert!(!err.contains("not-the-password") && !stdout(&out).contains("not-the"));
    let right = password_file(dir.path(), "right.pw", "right-one\n", 0o600);
    let text = ok(run_on(
        &sim,
        &["status", "--password-file", right.to_str().unwrap()],
    ));
    assert!(
        text.contains("relay mode:") && !text.contains("right-one"),
        "{text}"
    );
}

#[test]
fn a_password_file_others_can_read_is_refused_with_the_fix() {
    let sim = berofos_sim::start(SimConfig::loopback().with_login("admin", "right-one"))
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let open = password_file(dir.path(), "open.pw", "right-one\n", 0o644);
    let out = run_on(&sim, &["status", "--password-file", open.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let shown = open.display().to_string();
    assert!(
        err.contains(&format!("the password file for 127.0.0.1: {shown}")),
        "{err}"
    );
    assert!(err.contains("mode 0644"), "{err}");
    assert!(err.contains(&format!("chmod 600 {shown}")), "{err}");
    assert!(
        !err.contains("right-one") && stdout(&out).is_empty(),
        "{err}"
    );
    let counters = sim.snapshot().counters;
    assert!(
        counters.http_requests.is_empty() && counters.unauthorized == 0,
        "the device was not asked: {counters:?}"
    );

    fs::set_permissions(&open, fs::Permissions::from_mode(0o600)).unwrap();
    let text = ok(run_on(
        &sim,
        &["status", "--password-file", open.to_str().unwrap()],
    ));
    assert!(text.contains("relay mode:    A--D (slave)"), "{text}");
}

#[test]
fn status_with_a_digest_login() {
    let sim = berofos_sim::start(SimConfig::loopback().with_digest_login("admin", "right-one"))
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let right = password_file(dir.path(), "right.pw", "right-one\n", 0o600);
    let text = ok(run_on(
        &sim,
        &["status", "--password-file", right.to_str().unwrap()],
    ));
    assert!(text.contains("relay mode:    A--D (slave)"), "{text}");
    ok(run_on(
        &sim,
        &[
            "set-mode",
            "master",
            "--password-file",
            right.to_str().unwrap(),
        ],
    ));
    assert_eq!(sim.relay_mode(), Relay::AB);
    let schemes = sim.snapshot().counters.authorization_schemes;
    assert_eq!(schemes, ["Digest", "Digest"]);

    let wrong = password_file(dir.path(), "wrong.pw", "not-the-password\n", 0o600);
    let out = run_on(
        &sim,
        &[
            "set-mode",
            "slave",
            "--password-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad credentials for 127.0.0.1"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");
    assert_eq!(sim.relay_mode(), Relay::AB, "nothing changed");
}

#[test]
fn status_shows_unknown_for_what_the_firmware_does_not_send() {
    let sim = berofos_sim::start(
        SimConfig::loopback().without_keys(&["6_wstate", "0_wretv", "1_rm", "5_p1"]),
    )
    .expect("simulator starts");
    let out = run_on(&sim, &["status"]);
    let err = stderr(&out);
    let text = ok(out);
    assert!(text.contains("relay mode:    A--D (slave)"), "{text}");
    assert!(text.contains("default mode:  unknown"), "{text}");
    assert!(
        text.contains("watchdog:      unknown, interval 60 s, off at power-on"),
        "{text}"
    );
    assert!(text.contains("power:         1 off, 2 unknown"), "{text}");
    assert!(err.is_empty(), "missing keys are no warning: {err}");
    let json: Value = serde_json::from_str(&ok(run_on(&sim, &["status", "--json"]))).unwrap();
    assert_eq!(json[0]["relay_mode"], "slave");
    assert!(json[0]["default_relay_mode"].is_null(), "{json}");
    assert!(json[0]["watchdog"]["state"].is_null(), "{json}");
    assert_eq!(json[0]["power"], serde_json::json!([false, null]));
}

#[test]
fn status_warns_on_another_layout_version() {
    let sim =
        berofos_sim::start(SimConfig::loopback().with_magic("0.2")).expect("simulator starts");
    let out = run_on(&sim, &["status"]);
    let err = stderr(&out);
    let text = ok(out);
    assert!(text.contains("relay mode:    A--D (slave)"), "{text}");
    assert!(
        !text.contains("warning"),
        "the warning goes to stderr: {text}"
    );
    assert!(
        err.contains(
            "appliance: warning: 127.0.0.1: config.txt has bnfos_confmap_magic=0.2, not 0.1"
        ),
        "{err}"
    );
    assert!(err.contains("expect incorrect values"), "{err}");
}

/// A port on loopback that nothing listens on (TCP and UDP).
fn closed_port() -> u16 {
    let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = tcp.local_addr().unwrap().port();
    let udp_free = UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok();
    assert!(udp_free, "port {port} is free for UDP too");
    port
}

/// Runs `command` against `ports` with a 1 s timeout; returns stderr and how long it took.
fn fails_against(command: &[&str], http_port: u16, udp_port: u16) -> (String, Duration) {
    let (http, udp) = (http_port.to_string(), udp_port.to_string());
    let mut args = command.to_vec();
    args.extend([
        "--host",
        "127.0.0.1",
        "--http-port",
        &http,
        "--udp-port",
        &udp,
    ]);
    args.extend(["--timeout", "1"]);
    let started = Instant::now();
    let out = appliance(&args);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{command:?}: {}", stderr(&out));
    (stderr(&out), took)
}

const COMMANDS: [&[&str]; 3] = [&["status"], &["kick"], &["set-mode", "slave"]];

#[test]
fn a_closed_port_fails_at_once() {
    let port = closed_port();
    for command in COMMANDS {
        let (err, took) = fails_against(command, port, port);
        assert!(
            err.contains("127.0.0.1") && err.contains("refused"),
            "{err}"
        );
        assert!(took < Duration::from_secs(1), "{command:?} took {took:?}");
    }
}

#[test]
fn a_silent_host_fails_within_the_timeout() {
    // Sockets that are bound but never answer: the kernel completes the TCP
    // handshake into the backlog and queues the datagrams; nothing replies.
    let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let http_port = tcp.local_addr().unwrap().port();
    let udp_port = udp.local_addr().unwrap().port();
    for command in COMMANDS {
        let (err, took) = fails_against(command, http_port, udp_port);
        assert!(
            err.contains("127.0.0.1 unreachable: no reply after 1.0 s"),
            "{err}"
        );
        assert!(took >= Duration::from_secs(1), "{command:?} took {took:?}");
        assert!(took < Duration::from_secs(3), "{command:?} took {took:?}");
    }
}

#[test]
fn devices_come_from_bnfos_conf() {
    let sim = berofos_sim::start(SimConfig::loopback().with_login("admin", "conf-pw"))
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bnfos.conf");
    let text = format!(
        "\n[fos1]\nmac = {}\nhost = 127.0.0.1\nlogin = admin:conf-pw\n",
        sim.mac()
    );
    fs::write(&conf, text).unwrap();
    let ports = |extra: &[&str]| conf_args(&sim, &conf, extra);
    let json: Value = serde_json::from_str(&ok(appliance(&ports(&["status", "--json"])))).unwrap();
    assert_eq!(json[0]["device"], "fos1");
    ok(appliance(&ports(&[
        "set-mode", "master", "--device", "FOS1",
    ])));
    assert_eq!(sim.relay_mode(), Relay::AB);
    let out = appliance(&ports(&["kick", "--device", "fos2"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("fos2"), "{}", stderr(&out));
}

/// `COMMAND… --conf FILE` with the simulator's ports.
fn conf_args(sim: &SimHandle, conf: &Path, command: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
    args.extend(["--conf".into(), conf.display().to_string()]);
    args.extend(["--udp-port".into(), sim.udp_addr().port().to_string()]);
    args.extend(["--http-port".into(), sim.http_addr().port().to_string()]);
    args
}
