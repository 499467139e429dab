//! The firmware life cycle through the admin command and sysconfd on a
//! private bus: archives built here (the vendor's cannot be downloaded),
//! served from a local directory and from an HTTP server on the daemon's
//! loopback; what lands in /lib/firmware is compared byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use telbox_tests::bins::require_root;
use telbox_tests::bus::PrivateBus;
use telbox_tests::daemon::{text, Sysconfd, ONE_VOIP_LINK};
use telbox_tests::dahdi_fixture::Fixture;
use telbox_tests::firmware_bundle::{write_catalog, HttpServer, TestPackage};
use telbox_tests::netns::Netns;

/// A box: DAHDI cards under a scratch root, sysconfd in its own network
/// namespace, and an HTTP server on that namespace's loopback.
struct FwBox {
    dir: tempfile::TempDir,
    root: PathBuf,
    d: Sysconfd,
    http: HttpServer,
    _bus: PrivateBus,
    _netns: Netns,
}

impl FwBox {
    fn start(cards: &[&str]) -> FwBox {
        Self::start_with(cards, None)
    }

    /// With `policy` for the bus instead of the project's policy file.
    fn start_with(cards: &[&str], policy: Option<&str>) -> FwBox {
        require_root("firmware tests");
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.path().join("root");
        Fixture::parse(cards).unwrap().build(&root).unwrap();
        // What a box has in /lib/firmware before telbox installs anything.
        let fw = root.join("lib/firmware");
        fs::create_dir_all(fw.join("intel")).unwrap();
        fs::write(fw.join("regulatory.db"), b"regulatory database\n").unwrap();
        fs::write(fw.join("intel/ibt-17-16-1.sfi"), vec![7u8; 4096]).unwrap();
        let netns = Netns::create();
        netns.veth("eth0", "eth0-peer");
        netns.ip(&["link", "set", "eth0-peer", "up"]);
        let www = dir.path().join("www");
        fs::create_dir_all(&www).unwrap();
        let http = netns.enter(|| HttpServer::serve(&www));
        let bus = match policy {
            Some(p) => PrivateBus::start(p),
            None => PrivateBus::with_project_policy(),
        };
        let d = Sysconfd::start_in(&bus, &root, netns.name());
        FwBox {
            dir,
            root,
            d,
            http,
            _bus: bus,
            _netns: netns,
        }
    }

    fn www(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    /// A directory standing for a USB key.
    fn usb(&self) -> PathBuf {
        self.dir.path().join("usb")
    }

    fn cli(&self, args: &[&str]) -> Output {
        self.d.appliance(args)
    }

    /// Runs the CLI and asserts it succeeded.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "appliance {args:?} failed:\n{}\nsysconfd log:\n{}",
            text(&out),
            self.d.log_text()
        );
        text(&out)
    }

    /// Runs the CLI and asserts it failed; its output.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            !out.status.success(),
            "appliance {args:?} should fail:\n{}",
            text(&out)
        );
        text(&out)
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.cli(&all);
        assert!(out.status.success(), "{all:?}: {}", text(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{all:?}: {e}: {}", text(&out)))
    }

    /// Every file and directory under /lib/firmware, with content and mode.
    fn lib_firmware(&self) -> BTreeMap<String, (Vec<u8>, u32)> {
        let mut out = BTreeMap::new();
        walk(&self.root.join("lib/firmware"), "", &mut out);
        out
    }

    fn firmware_file(&self, name: &str) -> Option<Vec<u8>> {
        fs::read(self.root.join("lib/firmware").join(name)).ok()
    }

    fn records(&self) -> Vec<String> {
        let dir = self.root.join("var/lib/telbox/firmware/installed");
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|e| {
                e.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, (Vec<u8>, u32)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        let meta = e.metadata().unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            out.insert(format!("{name}/"), (Vec::new(), mode));
            walk(&e.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, (fs::read(e.path()).unwrap(), mode));
        }
    }
}

/// The TE435's FPGA firmware and its canceller's, as test packages (300 KB
/// files: large enough that writing one takes several reads).
fn te435_packages() -> (TestPackage, TestPackage) {
    (
        TestPackage::new("digium-te435", "13001e", &["dahdi-fw-te435.bin"], 300_000),
        TestPackage::new(
            "digium-oct6114-128",
            "1.05.01",
            &["dahdi-fw-oct6114-128.bin"],
            300_000,
        ),
    )
}

fn written_sha256(report: &Value) -> Vec<(String, String)> {
    report["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["written"].as_array().cloned().unwrap_or_default())
        .map(|w| {
            (
                w["path"].as_str().unwrap().to_owned(),
                w["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_checksum_mismatch_is_refused_from_a_file_and_over_http_and_writes_nothing() {
    let b = FwBox::start(&["te435:e1"]);
    let (te435, _) = te435_packages();
    write_catalog(&b.root, &[&te435], &b.http.url());
    // Same name and version, other bytes: what a corrupted download or a
    // swapped file looks like.
    let mut tampered = te435.clone();
    tampered.bytes =
        TestPackage::new("digium-te435", "13001e", &["dahdi-fw-te435.bin"], 299_999).bytes;
    let on_usb = tampered.write_to(&b.usb());
    tampered.write_to(&b.www());
    let before = b.lib_firmware();

    for source in [
        on_usb.display().to_string(),
        format!("{}/{}", b.http.url(), te435.archive),
        "digium-te435".to_owned(),
        b.usb().display().to_string(),
    ] {
        let out = b.fails(&["firmware", "install", &source]);
        assert!(
            out.contains("does not match package digium-te435")
                && out.contains("nothing was installed"),
            "{source}: {out}"
        );
        assert_eq!(b.lib_firmware(), before, "{source}: /lib/firmware changed");
        assert!(b.records().is_empty(), "{source}: {:?}", b.records());
    }
    assert!(b.http.requests() >= 2, "the HTTP sources were not fetched");
    // Under a name the catalog does not know, its checksum matches no package either.
    let renamed = b.usb().join("firmware.tgz");
    fs::copy(&on_usb, &renamed).unwrap();
    let out = b.fails(&["firmware", "install", renamed.to_str().unwrap()]);
    assert!(out.contains("is not an archive the catalog knows"), "{out}");
    assert_eq!(b.lib_firmware(), before);
    let list = b.json(&["firmware", "list"]);
    assert!(list["packages"][0]["installed"].is_null(), "{list}");
}

#[test]
fn install_then_remove_leaves_lib_firmware_byte_for_byte_as_before() {
    let b = FwBox::start(&["te435:e1"]);
    let (te435, oct128) = te435_packages();
    write_catalog(&b.root, &[&te435, &oct128], &b.http.url());
    let on_usb = te435.write_to(&b.usb());
    oct128.write_to(&b.www());
    let before = b.lib_firmware();

    // From a local file, then over HTTP by the catalog's URL.
    let report: Value =
        serde_json::from_str(&b.ok(&["firmware", "install", on_usb.to_str().unwrap(), "--json"]))
            .unwrap();
    assert_eq!(
        written_sha256(&report),
        vec![(
            "/lib/firmware/dahdi-fw-te435.bin".to_owned(),
            telbox_tests::firmware_bundle::sha256_hex(&te435.files[0].1)
        )]
    );
    assert_eq!(
        report["changes"][0]["skipped"],
        serde_json::json!(["LICENSE.test"])
    );
    let human = b.ok(&["firmware", "install", "digium-oct6114-128"]);
    assert!(
        human.contains("digium-oct6114-128 1.05.01 installed")
            && human.contains("wrote   /lib/firmware/dahdi-fw-oct6114-128.bin"),
        "{human}"
    );
    assert_eq!(
        b.firmware_file("dahdi-fw-te435.bin").as_ref(),
        Some(&te435.files[0].1)
    );
    assert_eq!(
        b.firmware_file("dahdi-fw-oct6114-128.bin").as_ref(),
        Some(&oct128.files[0].1)
    );
    assert_eq!(
        b.firmware_file("LICENSE.test"),
        None,
        "only the package's firmware files are installed"
    );
    let mode = fs::metadata(b.root.join("lib/firmware/dahdi-fw-te435.bin"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);

    let list = b.json(&["firmware", "list"]);
    let installed: Vec<&str> = list["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["installed"].is_null())
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(installed, ["digium-te435", "digium-oct6114-128"]);
    assert_eq!(
        list["packages"][0]["installed"]["files"][0]["state"],
        "intact"
    );
    let table = b.ok(&["firmware", "list"]);
    assert!(
        table.lines().any(|l| l.starts_with("digium-te435")
            && l.contains("13001e")
            && l.contains("dahdi-fw-te435.bin")),
        "{table}"
    );

    // Installing the same again changes nothing, under any name: the
    // checksum tells which package an archive is.
    let renamed = b.dir.path().join("te435-firmware.tgz");
    fs::copy(&on_usb, &renamed).unwrap();
    let again = b.ok(&["firmware", "install", renamed.to_str().unwrap()]);
    assert!(
        again.contains("digium-te435 13001e installed")
            && again.contains("already holds this version"),
        "{again}"
    );

    for name in ["digium-te435", "digium-oct6114-128"] {
        let out = b.ok(&["firmware", "remove", name]);
        assert!(out.contains("removed /lib/firmware/dahdi-fw-"), "{out}");
        assert!(
            out.contains("is needed by the Wildcard TE435/235 at pci:0000:02:00.0"),
            "the card still needs it: {out}"
        );
    }
    assert_eq!(b.lib_firmware(), before);
    assert!(b.records().is_empty(), "{:?}", b.records());
    let gone = b.fails(&["firmware", "remove", "digium-te435"]);
    assert!(gone.contains("is not installed"), "{gone}");
}

#[test]
fn upgrade_replaces_exactly_the_old_packages_files() {
    let b = FwBox::start(&["te435:e1"]);
    let old = TestPackage::new(
        "digium-te435",
        "13001e",
        &["dahdi-fw-te435.bin", "dahdi-fw-te435-boot.bin"],
        150_000,
    );
    let new = TestPackage::new(
        "digium-te435",
        "14002a",
        &["dahdi-fw-te435.bin", "dahdi-fw-te435-dsp.bin"],
        150_000,
    );
    let (_, oct128) = te435_packages();
    write_catalog(&b.root, &[&old, &oct128], &b.http.url());
    old.write_to(&b.www());
    oct128.write_to(&b.www());
    b.ok(&["firmware", "install", "digium-te435"]);
    b.ok(&["firmware", "install", "digium-oct6114-128"]);
    let before = b.lib_firmware();
    assert!(before.contains_key("dahdi-fw-te435-boot.bin"));

    // The catalog moves on; the new archive is on a USB key.
    write_catalog(&b.root, &[&new, &oct128], &b.http.url());
    new.write_to(&b.usb());
    let list = b.ok(&["firmware", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("digium-te435") && l.contains("14002a") && l.contains("13001e")),
        "{list}"
    );
    let out = b.ok(&["firmware", "upgrade", b.usb().to_str().unwrap()]);
    assert!(
        out.contains("digium-te435 13001e -> 14002a upgraded"),
        "{out}"
    );

    let after = b.lib_firmware();
    let mut expected = before.clone();
    expected.remove("dahdi-fw-te435-boot.bin");
    expected.insert("dahdi-fw-te435.bin".into(), (new.files[0].1.clone(), 0o644));
    expected.insert(
        "dahdi-fw-te435-dsp.bin".into(),
        (new.files[1].1.clone(), 0o644),
    );
    assert_eq!(
        after, expected,
        "only the old package's files were to change"
    );
    let list = b.json(&["firmware", "list"]);
    let te435 = &list["packages"][0];
    assert_eq!(te435["installed"]["version"], "14002a");
    let paths: Vec<&str> = te435["installed"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/lib/firmware/dahdi-fw-te435.bin",
            "/lib/firmware/dahdi-fw-te435-dsp.bin"
        ]
    );
    let again = b.ok(&["firmware", "upgrade"]);
    assert!(again.contains("nothing to do"), "{again}");
}

#[test]
fn a_firmware_file_edited_by_hand_is_reported_not_deleted_or_overwritten() {
    let b = FwBox::start(&["te435:e1"]);
    let (te435, _) = te435_packages();
    write_catalog(&b.root, &[&te435], &b.http.url());
    te435.write_to(&b.www());
    b.ok(&["firmware", "install", "digium-te435"]);
    let path = b.root.join("lib/firmware/dahdi-fw-te435.bin");
    fs::write(&path, b"patched by hand\n").unwrap();

    let list = b.json(&["firmware", "list"]);
    assert_eq!(
        list["packages"][0]["installed"]["files"][0]["state"],
        "changed"
    );
    assert!(b.ok(&["firmware", "list"]).contains("13001e (1 changed)"));

    let out = b.fails(&["firmware", "remove", "digium-te435"]);
    assert!(
        out.contains("/lib/firmware/dahdi-fw-te435.bin was changed by hand")
            && out.contains("nothing was changed")
            && out.contains("--force"),
        "{out}"
    );
    assert_eq!(fs::read(&path).unwrap(), b"patched by hand\n");
    let out = b.fails(&["firmware", "install", "digium-te435"]);
    assert!(out.contains("was changed by hand"), "{out}");
    assert_eq!(fs::read(&path).unwrap(), b"patched by hand\n");

    // A file telbox never installed is not overwritten either.
    let oct = TestPackage::new(
        "digium-oct6114-128",
        "1.05.01",
        &["dahdi-fw-oct6114-128.bin"],
        1000,
    );
    write_catalog(&b.root, &[&te435, &oct], &b.http.url());
    oct.write_to(&b.www());
    fs::write(
        b.root.join("lib/firmware/dahdi-fw-oct6114-128.bin"),
        b"from elsewhere",
    )
    .unwrap();
    let out = b.fails(&["firmware", "install", "digium-oct6114-128"]);
    assert!(out.contains("was not installed by telbox"), "{out}");

    let out = b.cli(&["firmware", "remove", "digium-te435", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("warning: /lib/firmware/dahdi-fw-te435.bin was changed by hand since it was installed: removed (--force)"),
        "{}",
        text(&out)
    );
    assert!(!path.exists());
}

/// Waits until process `pid` is stopped (state `T`).
fn wait_stopped(pid: u32, log: impl Fn() -> String) {
    let start = Instant::now();
    loop {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if state == Some("T") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "sysconfd did not stop mid-extraction; log:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_install_killed_mid_extraction_leaves_no_partial_firmware_file() {
    let mut b = FwBox::start(&["te435:e1"]);
    let (te435, _) = te435_packages();
    write_catalog(&b.root, &[&te435], &b.http.url());
    let on_usb = te435.write_to(&b.usb());
    let before = b.lib_firmware();
    b.d.restart_with(&[(hwmgr::firmware::PAUSE_ENV, "extract")]);

    let cli =
        b.d.appliance_child(&["firmware", "install", on_usb.to_str().unwrap()]);
    wait_stopped(b.d.pid(), || b.d.log_text());
    // Mid-way: half the file is on disk, under a name the kernel never asks for.
    let parts: Vec<(String, u64)> = fs::read_dir(b.root.join("lib/firmware"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".dahdi-fw-te435.bin")
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert!(parts[0].1 > 0 && parts[0].1 < 300_000, "{parts:?}");
    b.d.kill();
    let out = cli.wait_with_output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));

    let dahdi_fw: Vec<String> = fs::read_dir(b.root.join("lib/firmware"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dahdi-fw-") && n.ends_with(".bin"))
        .collect();
    assert!(dahdi_fw.is_empty(), "partial firmware left: {dahdi_fw:?}");
    assert!(b.records().is_empty(), "{:?}", b.records());

    // The next start clears the temporary file; the install then works.
    b.d.restart_with(&[]);
    assert_eq!(b.lib_firmware(), before);
    b.ok(&["firmware", "install", on_usb.to_str().unwrap()]);
    assert_eq!(
        b.firmware_file("dahdi-fw-te435.bin").as_ref(),
        Some(&te435.files[0].1)
    );
}

fn needed_packages(report: &Value) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = report["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["package"].as_str().unwrap_or("?").to_owned(),
                n["required"].as_bool().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn needed_names_the_packages_of_the_te133_te435_and_tc400() {
    for (card, want) in [
        (
            "te133",
            vec![("digium-oct6114-032", true), ("digium-te133", true)],
        ),
        (
            "te435:e1",
            vec![("digium-oct6114-128", true), ("digium-te435", true)],
        ),
        ("tc400", vec![("digium-tc400m", true)]),
    ] {
        let b = FwBox::start(&[card]);
        let report = b.json(&["firmware", "needed"]);
        let want: Vec<(String, bool)> = want.iter().map(|(p, r)| (p.to_string(), *r)).collect();
        assert_eq!(needed_packages(&report), want, "{card}: {report}");
        let human = b.ok(&["firmware", "needed"]);
        for (package, _) in &want {
            assert!(
                human.contains(&format!("appliance firmware install {package}")),
                "{card}: {human}"
            );
        }
    }
}

#[test]
fn a_kernel_log_line_about_a_missing_oct6114_064_maps_to_its_package() {
    let b = FwBox::start(&["te420"]);
    let line = "wct4xxp 0000:02:00.0: VPM450: firmware dahdi-fw-oct6114-064.bin not available from userspace";
    // From a saved log the admin passes…
    let log = b.dir.path().join("dmesg.txt");
    fs::write(
        &log,
        format!("[   14.201337] {line}\n[   14.3] e1000e 0000:00:19.0 eth0: NIC Link is Up\n"),
    )
    .unwrap();
    let report = b.json(&["firmware", "needed", "--kernel-log", log.to_str().unwrap()]);
    let need = report["needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["file"] == "dahdi-fw-oct6114-064.bin")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(need["package"], "digium-oct6114-064");
    assert_eq!(need["required"], true);
    assert_eq!(need["reasons"][0]["from"], "kernel-log");
    assert_eq!(need["reasons"][0]["driver"], "wct4xxp");
    assert_eq!(need["reasons"][0]["line"], line);
    assert!(report["commands"]
        .as_array()
        .unwrap()
        .contains(&Value::from(
            "appliance firmware install digium-oct6114-064"
        )));
    // …and from the kernel log sysconfd reads itself.
    fs::create_dir_all(b.root.join("dev")).unwrap();
    fs::write(
        b.root.join("dev/kmsg"),
        format!("5,812,14201337,-;{line}\n SUBSYSTEM=pci\n"),
    )
    .unwrap();
    let human = b.ok(&["firmware", "needed"]);
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("dahdi-fw-oct6114-064.bin")
                && l.contains("digium-oct6114-064")
                && l.contains("kernel log")),
        "{human}"
    );
    assert!(
        human.contains("appliance firmware install digium-oct6114-064"),
        "{human}"
    );
    // The TE420's own canceller firmware is optional while the configuration does not ask for it.
    let optional = b.json(&["firmware", "needed"]);
    let oct128 = optional["needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["file"] == "dahdi-fw-oct6114-128.bin")
        .unwrap();
    assert_eq!(oct128["required"], false, "{optional}");
}

const TE435_HWEC: &str = r#"
[telephony]
echo_canceller = "hardware"

[[telephony.card]]
hardware_id = "1TE435F-0001234"
first_span = 1

[[telephony.span]]
span = 1
line = "e1"
first_channel = 1
role = "provider"
context = "from-extern"
"#;

#[test]
fn hardware_echo_cancellation_on_a_te435_needs_its_firmware_and_then_renders_it() {
    let b = FwBox::start(&["te435:e1"]);
    let (te435, oct128) = te435_packages();
    write_catalog(&b.root, &[&te435, &oct128], &b.http.url());
    te435.write_to(&b.www());
    oct128.write_to(&b.www());
    let config = b.dir.path().join("box.toml");
    fs::write(&config, format!("{ONE_VOIP_LINK}\n{TE435_HWEC}")).unwrap();
    let config = config.to_str().unwrap();

    let out = b.fails(&["config", "plan", config]);
    assert!(
        out.contains("dahdi-fw-oct6114-128.bin")
            && out.contains("install package digium-oct6114-128 first (`appliance firmware install digium-oct6114-128`)")
            && out.contains("appliance firmware install digium-te435"),
        "{out}"
    );
    b.fails(&["config", "apply", config]);
    assert!(!b.root.join("etc/dahdi/system.conf").exists());

    b.ok(&["firmware", "install", "digium-te435"]);
    let out = b.fails(&["config", "plan", config]);
    assert!(
        out.contains("digium-oct6114-128") && !out.contains("digium-te435"),
        "{out}"
    );
    b.ok(&["firmware", "install", "digium-oct6114-128"]);
    b.ok(&["config", "plan", config]);
    b.ok(&["config", "apply", config]);

    let chan_dahdi =
        fs::read_to_string(b.root.join("etc/asterisk/chan_dahdi-telbox.conf")).unwrap();
    assert!(
        chan_dahdi.lines().any(|l| l == "echocancel = yes"),
        "{chan_dahdi}"
    );
    assert!(
        chan_dahdi
            .lines()
            .any(|l| l.starts_with("echocancelwhenbridged = ")),
        "{chan_dahdi}"
    );
    let modprobe = fs::read_to_string(b.root.join("etc/modprobe.d/telbox-dahdi.conf")).unwrap();
    assert!(
        modprobe
            .lines()
            .any(|l| l == "options wcte43x default_linemode=e1 vpmsupport=1"),
        "{modprobe}"
    );
    let system = fs::read_to_string(b.root.join("etc/dahdi/system.conf")).unwrap();
    assert!(
        system.lines().any(|l| l == "echocanceller=hwec,1-15,17-31"),
        "{system}"
    );
    if telbox_tests::dahdi_cfg::can_run() {
        let out = telbox_tests::dahdi_cfg::check(&system)
            .unwrap_or_else(|e| panic!("dahdi_cfg rejects\n{system}\n{e}"));
        assert!(!out.contains("error"), "{out}");
    }

    // DTMF detection by the canceller: the TE435's driver has no such option.
    let dtmf = b.dir.path().join("dtmf.toml");
    fs::write(
        &dtmf,
        format!(
            "{ONE_VOIP_LINK}\n{}",
            TE435_HWEC.replace(
                "echo_canceller = \"hardware\"",
                "echo_canceller = \"hardware\"\nhwec_dtmf = true"
            )
        ),
    )
    .unwrap();
    let out = b.fails(&["config", "plan", dtmf.to_str().unwrap()]);
    assert!(out.contains("vpmdtmfsupport"), "{out}");
}

#[test]
fn a_tc400_in_g729_mode_loads_codec_dahdi_and_shows_its_capacity() {
    let b = FwBox::start(&["tc400"]);
    let tc400m = TestPackage::new("digium-tc400m", "MR6.12", &["dahdi-fw-tc400m.bin"], 200_000);
    write_catalog(&b.root, &[&tc400m], &b.http.url());
    tc400m.write_to(&b.www());
    let config = b.dir.path().join("box.toml");
    fs::write(
        &config,
        format!(
            "{ONE_VOIP_LINK}\n[telephony]\ntranscoder_mode = \"g729\"\n\n[[telephony.card]]\nlocation = \"pci:0000:02:00.0\"\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = b.fails(&["config", "plan", config]);
    assert!(
        out.contains("dahdi-fw-tc400m.bin")
            && out.contains("appliance firmware install digium-tc400m"),
        "{out}"
    );
    b.ok(&[
        "firmware",
        "install",
        &format!("{}/{}", b.http.url(), tc400m.archive),
    ]);
    b.ok(&["config", "apply", config]);

    let modprobe = fs::read_to_string(b.root.join("etc/modprobe.d/telbox-dahdi.conf")).unwrap();
    assert!(
        modprobe.lines().any(|l| l == "options wctc4xxp mode=g729"),
        "{modprobe}"
    );
    let modules = fs::read_to_string(b.root.join("etc/asterisk/modules-telbox.conf")).unwrap();
    assert!(
        modules.lines().any(|l| l == "load => codec_dahdi.so"),
        "{modules}"
    );
    let commands = fs::read_to_string(b.root.join("var/log/telbox/commands.log")).unwrap();
    assert!(
        commands
            .lines()
            .any(|l| l == "asterisk -rx module load codec_dahdi.so"),
        "{commands}"
    );
    let status = b.json(&["status"]);
    let t = &status["sections"]["telephony"]["transcoders"][0];
    assert_eq!(t["location"], "pci:0000:02:00.0", "{status}");
    assert_eq!(t["mode"], "g729");
    assert_eq!(t["channels"], 120);
    assert_eq!(t["firmware_installed"], true);
    let human = b.ok(&["status"]);
    assert!(
        human.contains("transcoder   pci:0000:02:00.0: 120 channels of G.729a (mode g729)"),
        "{human}"
    );
    let hw = b.ok(&["telephony", "hardware"]);
    assert!(
        hw.contains("120 channels of G.729a") && hw.contains("mode g729"),
        "{hw}"
    );
}

#[test]
fn only_admins_change_firmware_and_anyone_may_look() {
    let b = FwBox::start(&["tc400"]);
    let tc400m = TestPackage::new("digium-tc400m", "MR6.12", &["dahdi-fw-tc400m.bin"], 1000);
    write_catalog(&b.root, &[&tc400m], &b.http.url());
    tc400m.write_to(&b.www());
    for args in [&["firmware", "list"][..], &["firmware", "needed"]] {
        let out = b.d.appliance_as("nobody", args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let before = b.lib_firmware();
    for args in [
        &["firmware", "install", "digium-tc400m"][..],
        &["firmware", "remove", "digium-tc400m"],
        &["firmware", "upgrade"],
    ] {
        let out = b.d.appliance_as("nobody", args);
        assert!(!out.status.success(), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("AccessDenied"),
            "{args:?}: {}",
            text(&out)
        );
    }
    assert_eq!(b.lib_firmware(), before);
}

#[test]
fn sysconfd_refuses_non_admins_itself_when_the_bus_lets_them_through() {
    let b = FwBox::start_with(&["tc400"], Some(telbox_tests::bus::ALLOW_ALL_POLICY));
    let tc400m = TestPackage::new("digium-tc400m", "MR6.12", &["dahdi-fw-tc400m.bin"], 1000);
    write_catalog(&b.root, &[&tc400m], &b.http.url());
    let on_usb = tc400m.write_to(&b.usb());
    fs::set_permissions(b.usb(), fs::Permissions::from_mode(0o755)).unwrap();
    let before = b.lib_firmware();
    let out =
        b.d.appliance_as("nobody", &["firmware", "install", on_usb.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Install needs root or membership of the telbox-admin group"),
        "{}",
        text(&out)
    );
    assert_eq!(b.lib_firmware(), before);
    b.ok(&["firmware", "install", on_usb.to_str().unwrap()]);
    let out =
        b.d.appliance_as("nobody", &["firmware", "remove", "digium-tc400m"]);
    assert!(text(&out).contains("Remove needs root"), "{}", text(&out));
    assert!(b.firmware_file("dahdi-fw-tc400m.bin").is_some());
}

/// The renderer alone, given the firmware present: a TE420 with hardware
/// echo cancellation and DTMF detection by its VPM450M.
#[test]
fn dtmf_detection_by_the_te420s_canceller_renders_vpmdtmfsupport() {
    use hwmgr::firmware::{Catalog, FirmwarePresence};
    use hwmgr::render::{self, RenderError};
    let dir = tempfile::tempdir().unwrap();
    Fixture::te420().build(dir.path()).unwrap();
    let inventory = hwmgr::detect::scan(&hwmgr::Root::new(dir.path())).unwrap();
    let text = format!(
        "{ONE_VOIP_LINK}\n[telephony]\necho_canceller = \"hardware\"\nhwec_dtmf = true\n\n\
         [[telephony.card]]\nlocation = \"pci:0000:02:00.0\"\nfirst_span = 1\n\n\
         [[telephony.span]]\nspan = 1\nline = \"e1\"\nfirst_channel = 1\nrole = \"provider\"\ncontext = \"from-extern\"\n"
    );
    let config = appliance::config::load(&text, "te420.toml").unwrap_or_else(|r| panic!("{r}"));
    let catalog = Catalog::builtin();

    let none = FirmwarePresence::new(Vec::<String>::new(), &catalog);
    let Err(RenderError::MissingFirmware(missing)) =
        render::render(&config.telephony, &inventory, &none)
    else {
        panic!("rendered without the canceller's firmware");
    };
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].file, "dahdi-fw-oct6114-128.bin");
    assert_eq!(missing[0].package.as_deref(), Some("digium-oct6114-128"));

    let present = FirmwarePresence::new(["dahdi-fw-oct6114-128.bin"], &catalog);
    let files = render::render(&config.telephony, &inventory, &present).unwrap();
    let file = |path: &str| {
        files
            .iter()
            .find(|f| f.path == Path::new(path))
            .map(|f| f.contents.clone())
            .unwrap_or_else(|| panic!("{path} not rendered"))
    };
    let modprobe = file(render::MODPROBE_CONF);
    assert!(
        modprobe
            .lines()
            .any(|l| l == "options wct4xxp vpmsupport=1 vpmdtmfsupport=1"),
        "{modprobe}"
    );
    assert!(file(render::CHAN_DAHDI_TELBOX)
        .lines()
        .any(|l| l == "echocancel = yes"));
    assert!(file(render::MODULES_TELBOX)
        .lines()
        .any(|l| l == "noload => codec_dahdi.so"));
    let system = file(render::SYSTEM_CONF);
    assert!(
        system.lines().any(|l| l == "echocanceller=hwec,1-15,17-31"),
        "{system}"
    );
    if telbox_tests::dahdi_cfg::can_run() {
        telbox_tests::dahdi_cfg::check(&system)
            .unwrap_or_else(|e| panic!("dahdi_cfg rejects\n{system}\n{e}"));
    }
}
