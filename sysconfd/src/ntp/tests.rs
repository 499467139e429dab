//! chrony.conf rendering and chronyc parsing.

use std::path::Path;

use super::*;

const BASE: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "192.168.1.10/24"

[dhcp]
enabled = true
pool_start = "192.168.1.100"
pool_end = "192.168.1.199"

[[dhcp.subnet]]
name = "site2"
network = "10.20.0.0/24"
pool_start = "10.20.0.10"
pool_end = "10.20.0.200"
router = "10.20.0.1"

[ntp]
servers = ["192.168.1.1"]
pools = ["pool.ntp.org"]
"#;

fn rendered(text: &str) -> String {
    let cfg = appliance::config::load(text, "t.toml").unwrap();
    let spec = render(&cfg, &ChronyPaths::under(Path::new("/var/lib/telbox"))).unwrap();
    assert_eq!(spec.path, Path::new(CHRONY_CONF));
    spec.contents
}

#[test]
fn servers_pools_allow_and_local_stratum() {
    let text = rendered(BASE);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "server 192.168.1.1 iburst",
            "pool pool.ntp.org iburst",
            "allow 192.168.1.0/24",
            "allow 10.20.0.0/24",
            "local stratum 10",
            "makestep 1 3",
            "cmdport 0",
            "driftfile /var/lib/telbox/chrony/chrony.drift",
            "pidfile /var/lib/telbox/chrony/chronyd.pid",
            "bindcmdaddress /var/lib/telbox/chrony/chronyd.sock",
        ]
    );
}

#[test]
fn no_serving_and_no_fallback() {
    let text = rendered(&format!("{BASE}serve_voip = false\nlocal_stratum = 3\n"));
    assert!(!text.contains("allow"), "{text}");
    assert!(text.contains("local stratum 3\n"), "{text}");
}

#[test]
fn state_paths_with_spaces_are_refused() {
    let cfg = appliance::config::load(BASE, "t.toml").unwrap();
    let err = render(&cfg, &ChronyPaths::under(Path::new("/var/lib/my box"))).unwrap_err();
    assert!(matches!(err, NtpError::UnsafePath(_)), "{err}");
}

#[test]
fn chronyd_accepts_what_is_rendered_and_names_bad_lines() {
    check_contents(&rendered(BASE)).unwrap();
    let err = check_contents("server 10.0.0.1 iburst\nbogus directive\n").unwrap_err();
    assert!(
        matches!(&err, NtpError::Rejected(m) if m.contains("line 2")),
        "{err}"
    );
}

#[test]
fn tracking_and_sources_parse() {
    let t = parse_tracking(
        "C0A80101,192.168.1.1,3,1795457194.101226821,0.000001,-0.000002,0.000003,-12.5,0.001,0.02,0.004,0.0005,16.2,Normal\n",
    )
    .unwrap();
    assert_eq!(
        (t.stratum, t.synchronized, t.reference.as_str()),
        (3, true, "192.168.1.1")
    );
    let unsynced =
        parse_tracking("00000000,,0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.0,1.0,0.0,Not synchronised\n")
            .unwrap();
    assert!(!unsynced.synchronized);
    let s = parse_sources(
        "^,*,10.77.0.1,10,-4,377,0,-0.000001,-0.000001,0.000123\n^,?,10.255.255.9,0,6,0,4294967295,0.0,0.0,0.0\n",
    )
    .unwrap();
    assert_eq!((s[1].state, s[1].last_rx), (SourceState::Unusable, None));
    assert_eq!(s[0].last_rx, Some(0));
    assert_eq!(s[0].state, SourceState::Selected);
    assert_eq!(s[0].reach, 0o377);
    assert_eq!(s[0].poll, -4);
}
