//! Detection over fixture trees laid out like the real drivers', checked
//! against what was laid out, against dahdi-tools' own PCI table, and
//! against dahdi-tools' own readers of the same trees.

use std::path::Path;
use std::process::Command;

use hwmgr::catalog::{self, CardKind, Driver, LineMode, LineModeSelect, PciId, PciKey, SpanType};
use hwmgr::detect::{self, Inventory};
use hwmgr::status::{self, Alarm, SpanState};
use hwmgr::Root;
use telbox_tests::dahdi_fixture::{Fixture, SpanTypeAttr};

const PCI_PM: &str = "/usr/share/perl5/Dahdi/Hardware/PCI.pm";

fn scan(fixture: &Fixture) -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().expect("tempdir");
    fixture.build(dir.path()).expect("fixture");
    let inventory = detect::scan(&Root::new(dir.path())).expect("scan");
    (dir, inventory)
}

fn span_types(inv: &Inventory) -> Vec<SpanType> {
    inv.spans().iter().filter_map(|s| s.span_type).collect()
}

#[test]
fn te420_is_a_quad_e1_card_numbered_from_one() {
    let (_dir, inv) = scan(&Fixture::te420());
    assert_eq!(inv.cards.len(), 1, "the NIC must be ignored: {inv:#?}");
    let card = &inv.cards[0];
    assert_eq!(card.location(), "pci:0000:02:00.0");
    assert_eq!(card.driver(), Driver::Wct4xxp);
    assert_eq!(card.bound_driver(), Some("wct4xxp"));
    assert_eq!(card.description(), "Wildcard TE420 (5th Gen)");
    assert_eq!(card.span_count(), Some(4));
    assert_eq!(
        card.assignment_key().as_deref(),
        Some("@PCI_Express_Bus_02_Slot_01")
    );
    assert_eq!(
        card.echo_canceller().and_then(|e| e.firmware),
        Some("dahdi-fw-oct6114-128.bin")
    );
    assert_eq!(span_types(&inv), vec![SpanType::E1; 4]);
    let bases: Vec<_> = inv
        .spans()
        .iter()
        .map(|s| (s.number, s.basechan, s.channels))
        .collect();
    assert_eq!(
        bases,
        [
            (1, Some(1), 31),
            (2, Some(32), 31),
            (3, Some(63), 31),
            (4, Some(94), 31)
        ]
    );
    assert_eq!(inv.spans()[0].name, "TE4/0/1");
    assert!(inv.spans()[0].is_sync_master && inv.spans()[0].is_digital);
}

#[test]
fn te435_set_to_e1_reports_e1_and_its_serial() {
    for attr in [SpanTypeAttr::Prefixed, SpanTypeAttr::Plain] {
        let mut fixture = Fixture::te435_e1();
        fixture.spantype_attr = attr;
        let (_dir, inv) = scan(&fixture);
        let card = &inv.cards[0];
        assert_eq!(card.driver(), Driver::Wcte43x);
        let CardKind::Digital { line_mode, .. } = card.kind().unwrap() else {
            panic!("not digital")
        };
        assert_eq!(
            line_mode,
            LineModeSelect::ModuleOption {
                default: LineMode::T1
            }
        );
        let dev = card.dahdi.as_ref().unwrap();
        assert_eq!(
            dev.hardware_id.as_deref(),
            Some("1TE435F-0001234"),
            "{attr:?}"
        );
        assert_eq!(dev.span_types.len(), 4, "span types read from {attr:?}");
        assert!(dev.span_types.iter().all(|t| t.span_type == SpanType::E1));
        assert_eq!(card.assignment_key().as_deref(), Some("1TE435F-0001234"));
        assert_eq!(span_types(&inv), vec![SpanType::E1; 4]);
        assert!(card.echo_canceller().unwrap().required);
    }
}

#[test]
fn te435_left_alone_is_t1() {
    let (_dir, inv) = scan(&Fixture::parse(&["te435"]).unwrap());
    assert_eq!(span_types(&inv), vec![SpanType::T1; 4]);
    assert!(inv.spans().iter().all(|s| s.channels == 24));
}

#[test]
fn b410p_has_te_and_nt_bri_ports() {
    let (_dir, inv) = scan(&Fixture::b410p());
    let card = &inv.cards[0];
    assert_eq!(card.driver(), Driver::Wcb4xxp);
    assert_eq!(
        span_types(&inv),
        [
            SpanType::BriTe,
            SpanType::BriTe,
            SpanType::BriNt,
            SpanType::BriNt
        ]
    );
    assert!(inv.spans().iter().all(|s| s.channels == 3));
    assert_eq!(inv.spans()[3].channel_range(), Some(10..=12));
}

#[test]
fn tdm2400_is_one_analog_span_with_empty_slots_reserved() {
    let dir = tempfile::tempdir().unwrap();
    Fixture::tdm2400().build(dir.path()).unwrap();
    let root = Root::new(dir.path());
    let inv = detect::scan(&root).unwrap();
    assert_eq!(inv.cards[0].driver(), Driver::Wctdm24xxp);
    assert_eq!(span_types(&inv), [SpanType::AnalogMixed]);
    assert_eq!(inv.spans()[0].channels, 24);
    let status = status::read_span(&root, 1).unwrap();
    assert_eq!(status.channels.len(), 24);
    assert_eq!(status.channels.iter().filter(|c| c.reserved).count(), 12);
    assert_eq!(status.channels[0].name, "WCTDM/0/0");
    assert_eq!(status.state, SpanState::Unconfigured);
}

#[test]
fn tc400_is_a_transcoder_without_spans() {
    let (_dir, inv) = scan(&Fixture::tc400());
    let card = &inv.cards[0];
    assert_eq!(card.driver(), Driver::Wctc4xxp);
    assert_eq!(card.kind(), Some(CardKind::Transcoder));
    assert!(card.dahdi.is_none());
    assert_eq!(card.span_count(), Some(0));
    let Some(hwmgr::detect::Bus::Pci(pci)) = Some(&card.bus) else {
        panic!()
    };
    assert_eq!(pci.entry.firmware, ["dahdi-fw-tc400m.bin"]);
    assert!(inv.spans().is_empty());
}

#[test]
fn mixed_box_numbers_spans_in_card_order() {
    let (_dir, inv) = scan(&Fixture::mixed());
    let drivers: Vec<_> = inv.cards.iter().map(|c| c.driver()).collect();
    assert_eq!(
        drivers,
        [
            Driver::Wct4xxp,
            Driver::Wcb4xxp,
            Driver::Wctdm24xxp,
            Driver::Wctc4xxp
        ]
    );
    let numbers: Vec<u32> = inv.spans().iter().map(|s| s.number).collect();
    assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    assert_eq!(inv.spans()[4].basechan, Some(125));
    assert_eq!(inv.spans()[8].basechan, Some(137));
    assert_eq!(inv.drivers().len(), 4);
    assert!(inv.other_devices.is_empty());
    assert_eq!(inv.auto_assign_spans, Some(false));
    assert!(inv.find("pci:0000:03:00.0").is_some());
}

#[test]
fn fixed_assignment_survives_removing_a_card() {
    let both = Fixture::parse(&["te420:bus=2,at=1:1", "b410p:bus=3,at=5:125"]).unwrap();
    let one = Fixture::parse(&["b410p:bus=3,at=5:125"]).unwrap();
    let (_a, with) = scan(&both);
    let (_b, without) = scan(&one);
    let bri = |inv: &Inventory| -> Vec<(u32, Option<u32>)> {
        inv.spans()
            .iter()
            .filter(|s| s.name.starts_with("B4"))
            .map(|s| (s.number, s.basechan))
            .collect()
    };
    assert_eq!(bri(&with), bri(&without));
    assert_eq!(bri(&without)[0], (5, Some(125)));
}

#[test]
fn unassigned_spans_show_types_but_no_numbers() {
    let (dir, inv) = scan(&Fixture::parse(&["te435:unassigned"]).unwrap());
    assert!(inv.spans().is_empty());
    assert_eq!(inv.cards[0].span_types().len(), 4);
    assert!(status::read_spans(&Root::new(dir.path()))
        .unwrap()
        .is_empty());
}

#[test]
fn unbound_card_is_found_without_a_dahdi_device() {
    let (_dir, inv) = scan(&Fixture::parse(&["b410p:unbound"]).unwrap());
    assert_eq!(inv.cards[0].bound_driver(), None);
    assert!(inv.cards[0].dahdi.is_none());
}

#[test]
fn alarms_reach_the_span_status() {
    let dir = tempfile::tempdir().unwrap();
    Fixture::parse(&["te420:red"])
        .unwrap()
        .build(dir.path())
        .unwrap();
    let spans = status::read_spans(&Root::new(dir.path())).unwrap();
    assert_eq!(spans.len(), 4);
    assert!(spans
        .iter()
        .all(|s| s.state == SpanState::Alarm && s.alarms.contains(Alarm::Red)));
    assert!(spans[0].master);
    assert_eq!(spans[0].span_type, Some(SpanType::E1));
}

/// Keys and drivers of `%pci_ids` in dahdi-tools' PCI.pm (commented-out
/// rows skipped).
fn pci_pm_entries(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('\'') && l.contains("DRIVER"))
        .map(|l| {
            let key = l.split('\'').nth(1).unwrap().to_owned();
            let driver = l
                .split("DRIVER => '")
                .nth(1)
                .unwrap()
                .split('\'')
                .next()
                .unwrap()
                .to_owned();
            let desc = l
                .split("DESCRIPTION => '")
                .nth(1)
                .unwrap()
                .split('\'')
                .next()
                .unwrap()
                .to_owned();
            (key, driver, desc)
        })
        .collect()
}

#[test]
fn every_dahdi_tools_pci_entry_resolves_to_the_same_driver() {
    let Ok(text) = std::fs::read_to_string(PCI_PM) else {
        eprintln!(
            "\n!!!!!!!! SKIPPED: {PCI_PM} is absent; run `make deps` (package dahdi) !!!!!!!!\n"
        );
        return;
    };
    let entries = pci_pm_entries(&text);
    assert!(
        entries.len() > 100,
        "parsed only {} rows of {PCI_PM}",
        entries.len()
    );
    for (key, driver, desc) in &entries {
        let key: PciKey = key.parse().unwrap();
        // A device whose unspecified ids match nothing more specific.
        let id = PciId::new(
            key.vendor,
            key.device,
            key.subvendor.unwrap_or(0xfffe),
            key.subdevice.unwrap_or(0xfffe),
        );
        let entry =
            catalog::lookup_pci(id).unwrap_or_else(|| panic!("{key} ({desc}) not in the catalog"));
        assert_eq!(entry.driver.name(), driver, "{key}");
        assert_eq!(entry.key, key, "{key} matched a different row");
        assert_eq!(entry.description, desc, "{key}");
    }
    assert_eq!(
        entries.len(),
        catalog::PCI_TABLE.len(),
        "the catalog has rows PCI.pm lacks"
    );
}

fn have(tool: &str) -> bool {
    Path::new("/usr/sbin").join(tool).exists()
}

fn dahdi_tool(root: &Path, tool: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(Path::new("/usr/sbin").join(tool));
    let bin = root.join("fixture-bin");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.args(args)
        .env("DAHDI_VIRT_TOP", root)
        .env("PATH", path)
        .env("DAHDI_CFG", bin.join("dahdi_cfg"));
    cmd
}

#[test]
fn dahdi_hardware_lists_the_same_cards() {
    if !have("dahdi_hardware") {
        eprintln!("SKIPPED: dahdi_hardware not installed");
        return;
    }
    let (dir, inv) = scan(&Fixture::parse(&["mixed", "te435:e1"]).unwrap());
    let out = dahdi_tool(dir.path(), "dahdi_hardware", &[])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(squash)
        .collect();
    let ours: Vec<String> = inv
        .cards
        .iter()
        .map(|c| {
            squash(&format!(
                "{} {}+ {} {}",
                c.location(),
                c.driver(),
                c.id(),
                c.description()
            ))
        })
        .collect();
    assert_eq!(theirs, ours);
}

fn squash(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn dahdi_genconf_reads_the_fixture_like_we_do() {
    if !have("dahdi_genconf") {
        eprintln!("SKIPPED: dahdi_genconf not installed");
        return;
    }
    let (dir, inv) = scan(&Fixture::mixed());
    let conf = dir.path().join("system.conf");
    let out = dahdi_tool(dir.path(), "dahdi_genconf", &["system"])
        .env("DAHDI_CONF_FILE", &conf)
        .env("GENCONF_PARAMETERS", dir.path().join("none"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&conf).unwrap();
    for span in inv.spans() {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("span={},", span.number)));
        match span.span_type.unwrap() {
            SpanType::E1 => assert!(line.unwrap().ends_with(",ccs,hdb3,crc4"), "{line:?}"),
            SpanType::BriTe => assert!(!line
                .unwrap()
                .starts_with(&format!("span={},0,", span.number))),
            SpanType::BriNt => {
                assert_eq!(line.unwrap(), format!("span={},0,0,ccs,ami", span.number))
            }
            _ => assert!(line.is_none()),
        }
    }
    assert_eq!(
        text.lines().filter(|l| l.starts_with("fxoks=")).count(),
        8,
        "FXS ports"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("fxsks=")).count(),
        4,
        "FXO ports"
    );
}

#[test]
fn every_dahdi_tools_usb_entry_resolves_to_the_same_driver() {
    const USB_PM: &str = "/usr/share/perl5/Dahdi/Hardware/USB.pm";
    let Ok(text) = std::fs::read_to_string(USB_PM) else {
        eprintln!(
            "\n!!!!!!!! SKIPPED: {USB_PM} is absent; run `make deps` (package dahdi) !!!!!!!!\n"
        );
        return;
    };
    let entries = pci_pm_entries(&text);
    assert!(
        entries.len() >= 18,
        "parsed only {} rows of {USB_PM}",
        entries.len()
    );
    for (key, driver, desc) in &entries {
        let entry =
            catalog::lookup_usb(key.parse().unwrap()).unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(
            (entry.driver.name(), entry.description),
            (driver.as_str(), desc.as_str())
        );
    }
    assert_eq!(entries.len(), catalog::USB_TABLE.len());
}
