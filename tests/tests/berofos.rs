//! The berofos client against the simulated device, over loopback only.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use berofos::{
    scan, Berofos, BnfosConf, Error, Login, Mac, NetConf, PhyConf, RelayMode, Scenario, Setting,
    WatchdogState,
};
use telbox_tests::berofos_sim::{self, Relay, SimConfig, SimHandle};

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
const TIMEOUT: Duration = Duration::from_secs(2);

fn sim() -> SimHandle {
    berofos_sim::start(SimConfig::loopback()).expect("simulator starts")
}

fn sim_with_login(user: &str, password: &str) -> SimHandle {
    berofos_sim::start(SimConfig::loopback().with_login(user, password)).expect("simulator starts")
}

/// A client for the simulator, MAC unknown (it is found by a scan when needed).
fn client(sim: &SimHandle) -> Berofos {
    Berofos::new(LOCALHOST)
        .named("fos1")
        .with_udp_port(sim.udp_addr().port())
        .with_http_port(sim.http_addr().port())
        .with_timeout(TIMEOUT)
}

fn sim_mac(sim: &SimHandle) -> Mac {
    sim.mac().parse().expect("simulator MAC parses")
}

#[test]
fn directed_scan_finds_the_device() {
    let sim = sim();
    let found = scan(sim.udp_addr(), TIMEOUT).unwrap();
    assert_eq!(found.len(), 1);
    let info = &found[0];
    assert_eq!(info.mac, sim_mac(&sim));
    assert_eq!(info.address, LOCALHOST);
    assert_eq!(info.http_port, sim.http_addr().port());
    assert_eq!(info.firmware.to_string(), "1.53");
    assert!(info.is_berofos() && !info.flash_mode && info.dhcp && !info.http_auth);
    assert!(info.phy_state.link);
    assert_eq!(sim.snapshot().counters.scans, 1);
}

#[test]
fn reads_all_settings() {
    let sim = sim();
    let settings = client(&sim).settings().unwrap();
    assert_eq!(settings.relay_mode, Some(RelayMode::Slave));
    assert_eq!(settings.default_relay_mode, Some(RelayMode::Slave));
    assert_eq!(settings.scenario, Some(Scenario::Fallback));
    assert_eq!(settings.watchdog.state, Some(WatchdogState::Off));
    assert_eq!(settings.watchdog.enabled, Some(false));
    assert_eq!(settings.watchdog.enabled_by_default, Some(false));
    assert_eq!(settings.watchdog.interval_secs, Some(60));
    assert_eq!(settings.network.address, Some(LOCALHOST));
    assert_eq!(settings.network.hostname.as_deref(), Some("berofos"));
    assert_eq!(settings.network.dhcp, Some(true));
    assert_eq!(settings.http_port, Some(sim.http_addr().port()));
    assert_eq!(settings.password_protection, Some(false));
    assert_eq!(settings.layout_mismatch, None);
    assert!(settings.missing.is_empty(), "{:?}", settings.missing);
    assert!(settings.warnings().is_empty(), "{:?}", settings.warnings());
    assert_eq!(sim.snapshot().counters.http_requests, ["/config.txt"]);
    assert!(sim.snapshot().counters.authorization_schemes.is_empty());
}

#[test]
fn sets_one_setting_and_reads_it_back() {
    let sim = sim();
    let fos = client(&sim);
    fos.set_relay_mode(RelayMode::Master).unwrap();
    assert_eq!(sim.relay_mode(), Relay::AB);
    fos.set(&"modedef=1".parse().unwrap()).unwrap();
    fos.set(&Setting::WatchdogInterval(90)).unwrap();
    fos.set(&Setting::Scenario(Scenario::Bypass)).unwrap();
    let settings = fos.settings().unwrap();
    assert_eq!(settings.relay_mode, Some(RelayMode::Master));
    assert_eq!(settings.default_relay_mode, Some(RelayMode::Master));
    assert_eq!(settings.watchdog.interval_secs, Some(90));
    assert_eq!(settings.scenario, Some(Scenario::Bypass));
    let requests = sim.snapshot().counters.http_requests;
    assert_eq!(
        requests[..4],
        [
            "/?cmd=4&mode=1",
            "/?cmd=1&rm=1",
            "/?cmd=2&wintv=90",
            "/?cmd=1&sz=1"
        ]
    );
    fos.set_relay_mode(RelayMode::Slave).unwrap();
    assert_eq!(sim.relay_mode(), Relay::AD);
}

#[test]
fn kick_reaches_the_device() {
    let sim = sim();
    let fos = client(&sim);
    fos.kick().unwrap();
    assert_eq!(sim.kicks_received(), 1);
    assert_eq!(
        sim.snapshot().counters.scans,
        1,
        "the MAC was found by a scan"
    );
    let fos = fos.with_mac(sim_mac(&sim));
    fos.kick().unwrap();
    fos.kick().unwrap();
    assert_eq!(sim.kicks_received(), 3);
    assert_eq!(
        sim.snapshot().counters.scans,
        1,
        "a known MAC needs no scan"
    );
}

#[test]
fn ping_answers_only_for_the_devices_own_mac() {
    let sim = sim();
    client(&sim).with_mac(sim_mac(&sim)).ping().unwrap();
    assert_eq!(sim.snapshot().counters.pings, 1);
    let other = Mac([0x00, 0x19, 0x32, 0xFF, 0xFF, 0xFF]);
    let short = Duration::from_millis(300);
    let err = client(&sim)
        .with_mac(other)
        .with_timeout(short)
        .ping()
        .unwrap_err();
    assert!(matches!(err, Error::NoReply { .. }), "{err}");
    assert_eq!(sim.snapshot().counters.pings, 1);
}

#[test]
fn netconf_rewrites_the_network_settings() {
    let sim = sim();
    let fos = client(&sim);
    let conf = NetConf {
        address: LOCALHOST,
        netmask: Ipv4Addr::new(255, 0, 0, 0),
        gateway: Ipv4Addr::new(127, 0, 0, 254),
        phy: PhyConf::HundredMbit,
        dhcp: false,
        http_auth: false,
        http_port: 8080,
    };
    fos.netconf(&conf).unwrap();
    let info = fos.info().unwrap();
    assert_eq!(info.netmask, conf.netmask);
    assert_eq!(info.gateway, conf.gateway);
    assert_eq!(info.phy_conf, PhyConf::HundredMbit);
    assert!(!info.dhcp);
    assert_eq!(info.http_port, 8080);
    let settings = fos.settings().unwrap();
    assert_eq!(settings.network.netmask, Some(conf.netmask));
    assert_eq!(settings.network.dhcp, Some(false));
    assert_eq!(sim.snapshot().counters.netconfs, 1);
}

#[test]
fn watchdog_falls_back_to_a_d_when_kicks_stop() {
    let sim = sim_with_login("admin", "foobar");
    let fos = client(&sim)
        .with_login(Login::new("admin", "foobar"))
        .with_mac(sim_mac(&sim));
    fos.set(&Setting::WatchdogInterval(1)).unwrap();
    fos.set_relay_mode(RelayMode::Master).unwrap();
    fos.set(&Setting::WatchdogEnabled(true)).unwrap();

    // Kicked in time, the watchdog holds for longer than one interval.
    for _ in 0..6 {
        thread::sleep(Duration::from_millis(250));
        fos.kick().unwrap();
    }
    let status = fos.status().unwrap();
    assert_eq!(status.watchdog.state, Some(WatchdogState::On));
    assert_eq!(status.relay_mode, Some(RelayMode::Master));
    assert_eq!(sim.relay_mode(), Relay::AB);

    // Kicks stop: within a little more than the interval it fails over.
    let stopped = Instant::now();
    while sim.watchdog_state() != berofos_sim::WatchdogState::Failure {
        assert!(stopped.elapsed() < Duration::from_secs(3), "no failover");
        thread::sleep(Duration::from_millis(20));
    }
    assert!(stopped.elapsed() >= Duration::from_millis(700));
    assert_eq!(sim.relay_mode(), Relay::AD);

    let status = fos.status().unwrap();
    assert!(status.watchdog_failed());
    assert_eq!(status.watchdog.state, Some(WatchdogState::Failure));
    assert_eq!(status.relay_mode, Some(RelayMode::Slave));
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["watchdog"]["state"], "failure");
    assert_eq!(json["relay_mode"], "slave");
    assert_eq!(json["relay_ports"], "A--D");
    assert!(!json.to_string().contains("foobar"));
}

#[test]
fn power_off_rests_on_a_d_and_power_on_applies_the_default() {
    let sim = sim();
    let fos = client(&sim).with_mac(sim_mac(&sim));
    fos.set(&Setting::DefaultRelayMode(RelayMode::Master))
        .unwrap();
    fos.set_relay_mode(RelayMode::Master).unwrap();
    sim.power_off();
    assert_eq!(sim.relay_mode(), Relay::AD);
    let short = fos.clone().with_timeout(Duration::from_millis(300));
    assert!(matches!(short.ping(), Err(Error::NoReply { .. })));
    sim.power_on();
    assert_eq!(sim.relay_mode(), Relay::AB);
    assert_eq!(fos.status().unwrap().relay_mode, Some(RelayMode::Master));
}

#[test]
fn wrong_password_is_a_clear_error() {
    let sim = sim_with_login("admin", "foobar");
    let wrong = client(&sim).with_login(Login::new("admin", "guess"));
    let err = wrong.set_relay_mode(RelayMode::Master).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::BadCredentials { .. }), "{message}");
    assert!(
        message.starts_with("bad credentials for fos1 (127.0.0.1)"),
        "{message}"
    );
    assert!(message.contains("mode=1"), "{message}");
    assert!(!message.contains("guess") && !message.contains("foobar"));
    assert!(!format!("{wrong:?}").contains("guess"));
    assert_eq!(sim.relay_mode(), Relay::AD, "nothing changed");

    let anonymous = client(&sim);
    assert!(matches!(
        anonymous.settings(),
        Err(Error::BadCredentials { .. })
    ));
    let right = client(&sim).with_login(Login::new("admin", "foobar"));
    assert_eq!(right.settings().unwrap().password_protection, Some(true));
    // As libcurl's any-auth: each request goes first without a login, and
    // the login answers the 401. Wrong: 2 refused; anonymous: 1; right: 1.
    assert_eq!(sim.snapshot().counters.unauthorized, 4);
    assert_eq!(
        sim.snapshot().counters.authorization_schemes,
        ["Basic", "Basic"]
    );
}

#[test]
fn basic_login_still_works() {
    let sim = sim_with_login("admin", "foobar");
    let fos = client(&sim).with_login(Login::new("admin", "foobar"));
    fos.set_relay_mode(RelayMode::Master).unwrap();
    assert_eq!(sim.relay_mode(), Relay::AB);
    let counters = sim.snapshot().counters;
    assert_eq!(counters.http_requests, ["/?cmd=4&mode=1"]);
    assert_eq!(counters.authorization_schemes, ["Basic"]);
    assert_eq!(counters.unauthorized, 1, "only the first, anonymous try");
}

#[test]
fn digest_login_works_with_the_right_password() {
    let sim = berofos_sim::start(SimConfig::loopback().with_digest_login("admin", "foobar"))
        .expect("simulator starts");
    let fos = client(&sim).with_login(Login::new("admin", "foobar"));
    let settings = fos.settings().unwrap();
    assert_eq!(settings.password_protection, Some(true));
    fos.set_relay_mode(RelayMode::Master).unwrap();
    fos.set(&"apwd=p&ss=1".parse().unwrap()).unwrap();
    assert_eq!(sim.relay_mode(), Relay::AB);
    let counters = sim.snapshot().counters;
    assert_eq!(
        counters.http_requests,
        ["/config.txt", "/?cmd=4&mode=1", "/?cmd=3&apwd=p%26ss%3D1"]
    );
    assert_eq!(
        counters.authorization_schemes,
        ["Digest", "Digest", "Digest"],
        "every request answered the Digest challenge; Basic never sent"
    );
    // The device's password is now the new one: the old login is refused.
    assert!(matches!(fos.settings(), Err(Error::BadCredentials { .. })));
    let new = client(&sim).with_login(Login::new("admin", "p&ss=1"));
    assert_eq!(new.status().unwrap().relay_mode, Some(RelayMode::Master));
}

#[test]
fn digest_login_with_a_wrong_password_fails_clearly() {
    let sim = berofos_sim::start(SimConfig::loopback().with_digest_login("admin", "foobar"))
        .expect("simulator starts");
    let wrong = client(&sim).with_login(Login::new("admin", "guess"));
    let err = wrong.set_relay_mode(RelayMode::Master).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::BadCredentials { .. }), "{message}");
    assert!(
        message.starts_with("bad credentials for fos1 (127.0.0.1): set mode=1 was answered 401"),
        "{message}"
    );
    assert!(!message.contains("guess") && !message.contains("foobar"));
    assert_eq!(sim.relay_mode(), Relay::AD, "nothing changed");
    let other_user = client(&sim).with_login(Login::new("root", "foobar"));
    assert!(matches!(
        other_user.settings(),
        Err(Error::BadCredentials { .. })
    ));
    let counters = sim.snapshot().counters;
    assert!(counters.http_requests.is_empty(), "{counters:?}");
    assert_eq!(counters.authorization_schemes, ["Digest", "Digest"]);
    assert_eq!(counters.unauthorized, 4);
}

/// Keys a firmware may not send: the watchdog state and countdown, syslog and
/// the power-on outlets.
const PARTIAL: [&str; 7] = [
    "6_wstate",
    "0_wretv",
    "3_log",
    "3_loghost",
    "3_logport",
    "1_p0",
    "1_p1",
];

#[test]
fn a_partial_config_txt_reads_with_the_missing_settings_unknown() {
    let sim =
        berofos_sim::start(SimConfig::loopback().without_keys(&PARTIAL)).expect("simulator starts");
    let fos = client(&sim);
    fos.set_relay_mode(RelayMode::Master).unwrap();
    let settings = fos.settings().unwrap();
    assert_eq!(settings.relay_mode, Some(RelayMode::Master));
    assert_eq!(settings.watchdog.interval_secs, Some(60));
    assert_eq!(settings.watchdog.enabled, Some(false));
    assert_eq!(settings.watchdog.state, None);
    assert_eq!(settings.watchdog.remaining_secs, None);
    assert_eq!(settings.syslog, berofos::Syslog::default());
    assert_eq!(settings.power_default, [None, None]);
    assert_eq!(settings.power, [Some(false), Some(false)]);
    let mut missing = settings.missing.clone();
    missing.sort_unstable();
    let mut expected = PARTIAL.to_vec();
    expected.sort_unstable();
    assert_eq!(missing, expected);
    assert!(settings.warnings().is_empty(), "{:?}", settings.warnings());

    let status = fos.status().unwrap();
    assert!(!status.watchdog_failed());
    let text = status.to_string();
    assert!(text.contains("relay mode:    A--B (master)"), "{text}");
    assert!(
        text.contains("watchdog:      unknown, interval 60 s, off at power-on"),
        "{text}"
    );
    let json = serde_json::to_value(&status).unwrap();
    assert!(json["watchdog"]["state"].is_null(), "{json}");
    assert_eq!(json["watchdog"]["interval_secs"], 60);
}

#[test]
fn another_magic_reads_with_a_warning() {
    let sim =
        berofos_sim::start(SimConfig::loopback().with_magic("0.2")).expect("simulator starts");
    let fos = client(&sim);
    let settings = fos.settings().unwrap();
    assert_eq!(settings.layout_mismatch.as_deref(), Some("0.2"));
    assert_eq!(settings.relay_mode, Some(RelayMode::Slave));
    assert_eq!(settings.watchdog.state, Some(WatchdogState::Off));
    let status = fos.status().unwrap();
    assert_eq!(status.warnings.len(), 1, "{:?}", status.warnings);
    let warning = &status.warnings[0];
    assert!(
        warning.contains("bnfos_confmap_magic=0.2, not 0.1")
            && warning.contains("expect incorrect values"),
        "{warning}"
    );
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["warnings"][0], warning.as_str());
}

/// Asserts `elapsed` is at least `timeout` and not much more.
fn assert_bounded(elapsed: Duration, timeout: Duration) {
    assert!(elapsed >= timeout, "gave up early: {elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_millis(700),
        "hung: {elapsed:?}"
    );
}

#[test]
fn silent_udp_device_fails_within_the_timeout() {
    let silent = UdpSocket::bind((LOCALHOST, 0)).unwrap();
    let timeout = Duration::from_millis(400);
    let fos = Berofos::new(LOCALHOST)
        .named("fos1")
        .with_udp_port(silent.local_addr().unwrap().port())
        .with_mac(Mac([0, 0x19, 0x32, 0, 0, 1]))
        .with_timeout(timeout);
    let start = Instant::now();
    let err = fos.kick().unwrap_err();
    assert_bounded(start.elapsed(), timeout);
    assert_eq!(
        err.to_string(),
        "fos1 (127.0.0.1) unreachable: no reply after 0.4 s to kick"
    );
    let start = Instant::now();
    let dest = SocketAddrV4::new(LOCALHOST, silent.local_addr().unwrap().port());
    assert!(matches!(scan(dest, timeout), Err(Error::NoReply { .. })));
    assert_bounded(start.elapsed(), timeout);
}

#[test]
fn silent_web_server_fails_within_the_timeout() {
    // Connections are accepted by the kernel but never answered.
    let silent = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let timeout = Duration::from_millis(400);
    let fos = Berofos::new(LOCALHOST)
        .named("fos1")
        .with_http_port(silent.local_addr().unwrap().port())
        .with_timeout(timeout);
    let start = Instant::now();
    let err = fos.settings().unwrap_err();
    assert_bounded(start.elapsed(), timeout);
    assert!(matches!(err, Error::NoReply { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("fos1 (127.0.0.1) unreachable: no reply after 0.4 s"),
        "{err}"
    );
}

#[test]
fn closed_web_port_fails_at_once() {
    let port = TcpListener::bind((LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fos = Berofos::new(LOCALHOST)
        .with_http_port(port)
        .with_timeout(TIMEOUT);
    let start = Instant::now();
    let err = fos.set_relay_mode(RelayMode::Slave).unwrap_err();
    assert!(start.elapsed() < TIMEOUT);
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1 unreachable"), "{err}");
}

/// `/etc/bnfos.conf` as `bnfos --scan -x` writes it for two devices, with the
/// login lines then filled in as the Wazo documentation says.
const TWO_DEVICES: &str = "
[fos1]
mac = 00:19:32:00:12:1D
host = 10.100.0.201
login = admin:foobar

[fos2]
mac = 00:11:22:33:44:55
host = 10.100.0.202
login = admin:barfoo
";

#[test]
fn bnfos_conf_from_scan_x_reads_and_writes_back_the_same() {
    let conf = BnfosConf::parse(TWO_DEVICES, "/etc/bnfos.conf").unwrap();
    assert_eq!(conf.devices.len(), 2);
    let fos1 = conf.device("fos1").unwrap();
    assert_eq!(fos1.mac.unwrap().to_string(), "00:19:32:00:12:1D");
    assert_eq!(fos1.host, Some(Ipv4Addr::new(10, 100, 0, 201)));
    let login = fos1.login.as_ref().unwrap();
    assert_eq!(
        (login.user.as_str(), login.password.expose()),
        ("admin", "foobar")
    );
    let fos2 = conf.device("fos2").unwrap();
    assert_eq!(fos2.mac.unwrap().to_string(), "00:11:22:33:44:55");
    assert_eq!(fos2.login.as_ref().unwrap().password.expose(), "barfoo");
    assert!(!format!("{conf:?}").contains("foobar"));

    assert_eq!(conf.render().unwrap(), TWO_DEVICES);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bnfos.conf");
    conf.save(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), TWO_DEVICES);
    assert_eq!(BnfosConf::load(&path).unwrap(), conf);

    let client = Berofos::from_conf(fos2).unwrap();
    assert_eq!(client.label().to_string(), "fos2 (10.100.0.202)");
}

#[test]
fn scan_results_become_a_bnfos_conf_that_drives_the_client() {
    let sim = sim_with_login("admin", "foobar");
    let found = scan(sim.udp_addr(), TIMEOUT).unwrap();
    let mut conf = BnfosConf::from_scan(&found);
    let written = conf.render().unwrap();
    let expected = format!(
        "\n[fos1]\nmac = {}\nhost = 127.0.0.1\n#login = <user>:<password>\n",
        sim.mac()
    );
    assert_eq!(written, expected);
    assert_eq!(BnfosConf::parse(&written, "bnfos.conf").unwrap(), conf);

    conf.devices[0].login = Some("admin:foobar".parse().unwrap());
    let reread = BnfosConf::parse(&conf.render().unwrap(), "bnfos.conf").unwrap();
    let fos1 = Berofos::from_conf(reread.device("fos1").unwrap())
        .unwrap()
        .with_udp_port(sim.udp_addr().port())
        .with_http_port(sim.http_addr().port())
        .with_timeout(TIMEOUT);
    fos1.set_relay_mode(RelayMode::Master).unwrap();
    fos1.kick().unwrap();
    assert_eq!(sim.relay_mode(), Relay::AB);
    assert_eq!(sim.kicks_received(), 1);
}

#[test]
fn flash_and_reset() {
    let sim = sim();
    let fos = client(&sim).with_mac(sim_mac(&sim));
    let image: Vec<u8> = (0..1300u32).map(|i| (i * 7) as u8).collect();
    fos.flash(&image).unwrap();
    assert_eq!(sim.snapshot().counters.flashed_images, 1);

    fos.set_relay_mode(RelayMode::Master).unwrap();
    fos.reset().unwrap();
    let snapshot = sim.snapshot();
    assert_eq!(snapshot.counters.resets, 1);
    assert_eq!(snapshot.relay, Relay::AD, "settings erased");
}

#[test]
fn the_binary_serves_and_publishes_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_berofos-sim"))
        .args(["--bind", "127.0.0.1", "--udp-port", "0", "--http-port", "0"])
        .args(["--login", "admin:foobar", "--mac", "00:19:32:00:12:1D"])
        .arg("--state-file")
        .arg(&state_file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port_after = |label: &str| -> u16 {
        let rest = &line[line.find(label).unwrap() + label.len()..];
        let addr: SocketAddrV4 = rest
            .split([',', '\n'])
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        addr.port()
    };
    let fos = Berofos::new(LOCALHOST)
        .with_udp_port(port_after("UDP "))
        .with_http_port(port_after("HTTP "))
        .with_login(Login::new("admin", "foobar"))
        .with_timeout(TIMEOUT);
    let outcome = (|| -> berofos::Result<()> {
        fos.set_relay_mode(RelayMode::Master)?;
        fos.kick()
    })();
    let read_state = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap_or_default())
            .unwrap_or_default()
    };
    let deadline = Instant::now() + TIMEOUT;
    while read_state()["counters"]["kicks"] != 1 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let state = read_state();
    child.kill().unwrap();
    child.wait().unwrap();
    outcome.unwrap();
    assert!(line.contains("mac 00:19:32:00:12:1D"), "{line}");
    assert_eq!(state["relay"], "A-B");
    assert_eq!(state["counters"]["kicks"], 1);
    assert_eq!(state["password_protection"], true);
}

/// Starts the `berofos-sim` binary with `args`; returns it and its web port.
fn spawn_sim(args: &[&str]) -> (std::process::Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berofos-sim"))
        .args(["--bind", "127.0.0.1", "--udp-port", "0", "--http-port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let rest = &line[line.find("HTTP ").expect("the banner names the port") + 5..];
    let addr: SocketAddrV4 = rest.trim().parse().unwrap();
    (child, addr.port())
}

#[test]
fn the_binary_takes_the_firmware_modes() {
    let (mut child, port) = spawn_sim(&[
        "--login",
        "admin:foobar",
        "--auth",
        "digest",
        "--omit-key",
        "6_wstate",
        "--omit-key",
        "2_wintv",
        "--magic",
        "0.2",
    ]);
    let fos = |password: &str| {
        Berofos::new(LOCALHOST)
            .with_http_port(port)
            .with_login(Login::new("admin", password))
            .with_timeout(TIMEOUT)
    };
    let right = fos("foobar").settings();
    let wrong = fos("guess").settings();
    child.kill().unwrap();
    child.wait().unwrap();
    let settings = right.unwrap();
    assert_eq!(settings.layout_mismatch.as_deref(), Some("0.2"));
    assert_eq!(settings.watchdog.state, None);
    assert_eq!(settings.watchdog.interval_secs, None);
    assert_eq!(settings.relay_mode, Some(RelayMode::Slave));
    assert!(
        matches!(wrong, Err(Error::BadCredentials { .. })),
        "{wrong:?}"
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_berofos-sim"))
        .args(["--auth", "ntlm"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected basic or digest"));
}
