//! Generation of the DAHDI/Asterisk files from `[telephony]`: accepted by
//! the real `dahdi_cfg`, equal to the seed's hand-written examples, stable
//! when a card goes away, and free of sticky-option leaks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use appliance::config::telephony::{PortKind, Telephony};
use appliance::config::{self, Config};
use hwmgr::detect::{self, Inventory};
use hwmgr::firmware::{Catalog, FirmwarePresence};
use hwmgr::propose::{self, DetectedPort};
use hwmgr::render::{self, apply_steps, AsteriskCommand, DahdiStep, GeneratedFile};
use hwmgr::Root;
use telbox_tests::dahdi_fixture::{Fixture, Layout, Port};

/// The rest of an appliance.toml the telephony sections are added to.
const HEADER: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "10.0.0.2/24"
gateway = "10.0.0.1"
"#;

fn build(fixture: &Fixture) -> (tempfile::TempDir, Layout, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let layout = fixture.build(dir.path()).unwrap();
    let inventory = detect::scan(&Root::new(dir.path())).unwrap();
    (dir, layout, inventory)
}

/// A box with every firmware file its cards ask for in /lib/firmware.
fn installed(inventory: &Inventory) -> FirmwarePresence {
    let files = inventory.cards.iter().flat_map(|c| {
        let own = match &c.bus {
            detect::Bus::Pci(p) => p.entry.firmware.to_vec(),
            detect::Bus::Usb(_) => Vec::new(),
        };
        own.into_iter()
            .chain(c.echo_canceller().and_then(|ec| ec.firmware))
    });
    FirmwarePresence::new(files, &Catalog::builtin())
}

fn cards(specs: &[&str]) -> Fixture {
    Fixture::parse(specs).unwrap()
}

/// Loads HEADER + `telephony` TOML through the full validation.
fn load(telephony_toml: &str) -> Config {
    let text = format!("{HEADER}\n{telephony_toml}");
    config::load(&text, "test.toml").unwrap_or_else(|r| panic!("{r}\n{text}"))
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == Path::new(path))
        .unwrap_or_else(|| panic!("{path} not rendered"))
        .contents
}

/// Lines without comments, blanks or the spaces around `=`.
fn lines(text: &str, comment: char) -> Vec<String> {
    text.lines()
        .map(|l| l.split(comment).next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| format!("{}={}", k.trim(), v.trim()))
                .unwrap_or_else(|| l.to_owned())
        })
        .collect()
}

/// Asserts `want` (seed text) appears in `have` as consecutive lines.
fn assert_block(have: &str, want: &str, comment: char) {
    let have = lines(have, comment);
    let want = lines(want, comment);
    assert!(
        have.windows(want.len()).any(|w| w == want.as_slice()),
        "missing block\n{want:#?}\nin\n{have:#?}"
    );
}

/// The analog modules the fixture laid out, as a probe would find them.
fn ports_of(layout: &Layout) -> Vec<DetectedPort> {
    let mut found = Vec::new();
    for card in &layout.cards {
        for span in &card.spans {
            for (i, port) in span.ports.iter().enumerate() {
                let kind = match port {
                    Port::Fxs => PortKind::Fxs,
                    Port::Fxo => PortKind::Fxo,
                    Port::Empty => continue,
                };
                found.push(DetectedPort {
                    location: format!("pci:{}", card.pci_address),
                    position: i as u32 + 1,
                    kind,
                });
            }
        }
    }
    found
}

/// A proposal for the fixture, round-tripped through appliance.toml and
/// its validation.
fn proposed(layout: &Layout, inventory: &Inventory) -> Telephony {
    let telephony = propose::propose_with_ports(inventory, &ports_of(layout));
    let mut config = load("");
    config.telephony = telephony.clone();
    let reloaded = config::load(&config.to_toml(), "proposed.toml")
        .unwrap_or_else(|r| panic!("proposal does not validate:\n{r}"));
    assert_eq!(reloaded.telephony, telephony);
    telephony
}

fn can_run_dahdi_cfg() -> bool {
    telbox_tests::dahdi_cfg::can_run()
}

fn dahdi_cfg_test(text: &str) -> Result<String, String> {
    telbox_tests::dahdi_cfg::check(text)
}

fn fixtures() -> Vec<(&'static str, Fixture)> {
    vec![
        ("te420", Fixture::te420()),
        ("te435_e1", Fixture::te435_e1()),
        ("b410p", Fixture::b410p()),
        ("tdm2400", Fixture::tdm2400()),
        ("tc400", Fixture::tc400()),
        ("mixed", Fixture::mixed()),
    ]
}

#[test]
fn every_fixture_proposal_validates_renders_and_passes_dahdi_cfg() {
    let check = can_run_dahdi_cfg();
    for (name, fixture) in fixtures() {
        let (_dir, layout, inventory) = build(&fixture);
        let telephony = proposed(&layout, &inventory);
        let files = render::render(&telephony, &inventory, &installed(&inventory))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let system = file(&files, render::SYSTEM_CONF);
        let spans = layout.spans().len();
        assert_eq!(
            system.lines().filter(|l| l.starts_with("# Span ")).count(),
            spans,
            "{name}: one block per span\n{system}"
        );
        if check {
            let out = dahdi_cfg_test(system)
                .unwrap_or_else(|e| panic!("{name}: dahdi_cfg rejects\n{system}\n{e}"));
            assert!(!out.contains("error"), "{name}: {out}");
        }
    }
}

#[test]
fn dahdi_cfg_check_rejects_a_broken_file() {
    if !can_run_dahdi_cfg() {
        return;
    }
    let (_dir, layout, inventory) = build(&Fixture::te420());
    let files = render::render(
        &proposed(&layout, &inventory),
        &inventory,
        &installed(&inventory),
    )
    .unwrap();
    let good = file(&files, render::SYSTEM_CONF);
    assert!(dahdi_cfg_test(good).is_ok());
    // The same channel under two signallings, and a misspelt keyword.
    let broken = good.replacen("dchan=16", "dchan=15", 1) + "fxoks=200\nechocanceler=mg2,1\n";
    let err = dahdi_cfg_test(&broken).expect_err("dahdi_cfg must reject it");
    assert!(err.contains("already configured"), "{err}");
    assert!(err.contains("error(s) detected"), "{err}");
}

const FRENCH_BRI: &str = r#"
[[telephony.card]]
location = "pci:0000:02:00.0"
first_span = 1

[[telephony.span]]
span = 1
line = "bri"
first_channel = 1
role = "provider"
signalling = "bri_cpe"
timing = 1
context = "from-extern"
groups = [0, 11]
"#;

#[test]
fn the_seed_french_bri_span() {
    let (_dir, _, inventory) = build(&Fixture::b410p());
    let files = render::render(
        &load(FRENCH_BRI).telephony,
        &inventory,
        &installed(&inventory),
    )
    .unwrap();
    assert_block(
        file(&files, render::SYSTEM_CONF),
        "span=1,1,0,ccs,ami\n# termtype: te\nbchan=1-2\nhardhdlc=3\nechocanceller=mg2,1-2",
        '#',
    );
    let chans = file(&files, render::DAHDI_CHANNELS);
    for line in [
        "group = 0,11",
        "context = from-extern",
        "switchtype = euroisdn",
        "signalling = bri_cpe",
        "channel => 1-2",
    ] {
        assert!(chans.lines().any(|l| l == line), "{line}\n{chans}");
    }
    let assigned = lines(file(&files, render::ASSIGNED_SPANS), '#');
    assert_eq!(assigned, vec!["@PCI_Bus_02_Slot_01 1:1:1"]);
}

#[test]
fn the_seed_french_pri_without_crc4() {
    let tel = r#"
[[telephony.card]]
location = "pci:0000:02:00.0"
first_span = 1

[[telephony.span]]
span = 1
line = "e1"
first_channel = 1
role = "provider"
crc4 = false
context = "from-extern"
groups = [0, 11]
"#;
    let (_dir, _, inventory) = build(&cards(&["te205p"]));
    let files = render::render(&load(tel).telephony, &inventory, &installed(&inventory)).unwrap();
    let system = file(&files, render::SYSTEM_CONF);
    assert_block(
        system,
        "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\ndchan=16\nechocanceller=mg2,1-15,17-31",
        '#',
    );
    assert!(!system.contains("crc4"), "{system}");
    assert_block(
        file(&files, render::DAHDI_CHANNELS),
        "signalling = pri_cpe\nswitchtype = euroisdn\ncontext = from-extern\ngroup = 0,11",
        ';',
    );
}

const FOUR_SPANS: &str = r#"
[[telephony.card]]
location = "pci:0000:02:00.0"
first_span = 1

[[telephony.span]]
span = 1
line = "e1"
first_channel = 1
role = "provider"
timing = 1
crc4 = false
context = "from-extern"
groups = [0, 11]

[[telephony.span]]
span = 2
line = "e1"
first_channel = 32
role = "provider"
timing = 2
crc4 = false
context = "from-extern"
groups = [0, 12]

[[telephony.span]]
span = 3
line = "e1"
first_channel = 63
role = "pbx"
timing = 0
crc4 = false
context = "from-pabx"
groups = [2, 13]
overlap_dial = "incoming"

[[telephony.span]]
span = 4
line = "e1"
first_channel = 94
role = "pbx"
crc4 = false
context = "from-pabx"
groups = [2, 14]
overlap_dial = "incoming"
"#;

#[test]
fn the_seed_four_span_provider_and_pbx_card() {
    let (_dir, _, inventory) = build(&Fixture::te420());
    let files = render::render(
        &load(FOUR_SPANS).telephony,
        &inventory,
        &installed(&inventory),
    )
    .unwrap();
    let system = file(&files, render::SYSTEM_CONF);
    // The seed's system.conf, span by span.
    for (span, timing, b, d) in [
        (1, 1, "1-15,17-31", 16),
        (2, 2, "32-46,48-62", 47),
        (3, 0, "63-77,79-93", 78),
        (4, 0, "94-108,110-124", 109),
    ] {
        assert_block(
            system,
            &format!(
                "span={span},{timing},0,ccs,hdb3\nbchan={b}\ndchan={d}\nechocanceller=mg2,{b}"
            ),
            '#',
        );
    }
    // The seed's dahdi-channels.conf, as sets of options per block.
    let chans = file(&files, render::DAHDI_CHANNELS);
    for (group, context, sig, overlap, chans_line) in [
        ("0,11", "from-extern", "pri_cpe", "no", "1-15,17-31"),
        ("0,12", "from-extern", "pri_cpe", "no", "32-46,48-62"),
        ("2,13", "from-pabx", "pri_net", "incoming", "63-77,79-93"),
        ("2,14", "from-pabx", "pri_net", "incoming", "94-108,110-124"),
    ] {
        let block = block_before(chans, &format!("channel => {chans_line}"));
        for want in [
            format!("group = {group}"),
            format!("context = {context}"),
            "switchtype = euroisdn".to_owned(),
            format!("signalling = {sig}"),
            format!("overlapdial = {overlap}"),
        ] {
            assert!(block.contains(&want), "{want} not in\n{block:#?}");
        }
    }
}

/// The option lines of the block that ends with `channel_line`.
fn block_before(text: &str, channel_line: &str) -> Vec<String> {
    let all: Vec<&str> = text.lines().collect();
    let end = all
        .iter()
        .position(|l| *l == channel_line)
        .unwrap_or_else(|| panic!("{channel_line} missing in\n{text}"));
    let start = all[..end].iter().rposition(|l| l.is_empty()).unwrap_or(0);
    all[start..end].iter().map(|l| l.to_string()).collect()
}

#[test]
fn the_seed_fxs_port() {
    let tel = r#"
[[telephony.card]]
location = "pci:0000:02:00.0"
first_span = 1

[[telephony.card]]
location = "pci:0000:03:00.0"
first_span = 2

[[telephony.span]]
span = 1
line = "e1"
first_channel = 1
role = "provider"
context = "from-extern"

[[telephony.port]]
channel = 32
kind = "fxs"
context = "default"
group = 5
callerid_name = "Channel 32"
callerid_number = "4032"
mailbox = "4032"
"#;
    let (_dir, _, inventory) = build(&cards(&["te205p", "tdm410p:fxs*4"]));
    let files = render::render(&load(tel).telephony, &inventory, &installed(&inventory)).unwrap();
    assert_block(
        file(&files, render::SYSTEM_CONF),
        "fxoks=32\nechocanceller=mg2,32",
        '#',
    );
    let block = block_before(file(&files, render::DAHDI_CHANNELS), "channel => 32");
    for want in [
        "signalling = fxo_ks",
        "callerid = \"Channel 32\" <4032>",
        "mailbox = 4032",
        "group = 5",
        "context = default",
    ] {
        assert!(block.iter().any(|l| l == want), "{want} not in {block:#?}");
    }
    let assigned = lines(file(&files, render::ASSIGNED_SPANS), '#');
    assert!(
        assigned.contains(&"@PCI_Bus_03_Slot_01 1:2:32".to_owned()),
        "{assigned:#?}"
    );
}

/// Blocks of a generated file keyed by their `Span N:` comment; lines
/// without comments.
fn blocks(text: &str, comment: char) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for chunk in text.split("\n\n") {
        let Some(head) = chunk
            .lines()
            .find(|l| l.starts_with(&format!("{comment} Span ")))
        else {
            continue;
        };
        let key = head.split(':').next().unwrap_or(head).to_owned() + &port_suffix(head);
        out.insert(key, lines(chunk, comment));
    }
    out
}

fn port_suffix(head: &str) -> String {
    head.rsplit_once(", port ")
        .map(|(_, p)| format!(" port {p}"))
        .unwrap_or_default()
}

#[test]
fn removing_a_card_changes_no_other_number() {
    let specs = [
        "te420:bus=2",
        "b410p:te,te,nt,nt,bus=3",
        "tdm2400:fxs*8,fxo*4,bus=4",
        "tc400:bus=5",
    ];
    let (_full_dir, layout, full_inv) = build(&cards(&specs));
    let telephony = proposed(&layout, &full_inv);
    let full = render::render(&telephony, &full_inv, &installed(&full_inv)).unwrap();
    for removed in 0..3 {
        let rest: Vec<&str> = (0..specs.len())
            .filter(|i| *i != removed)
            .map(|i| specs[i])
            .collect();
        let (_dir, _, inv) = build(&cards(&rest));
        let reduced = render::render(&telephony, &inv, &installed(&inv)).unwrap();
        let gone_spans: BTreeSet<u16> = match removed {
            0 => (1..=4).collect(),
            1 => (5..=8).collect(),
            _ => BTreeSet::from([9]),
        };
        let gone = |key: &str| {
            key.split_whitespace()
                .nth(2)
                .and_then(|n| n.parse::<u16>().ok())
                .is_some_and(|n| gone_spans.contains(&n))
        };
        for (path, comment) in [(render::SYSTEM_CONF, '#'), (render::DAHDI_CHANNELS, ';')] {
            let mut expected = blocks(file(&full, path), comment);
            expected.retain(|k, _| !gone(k));
            assert!(!expected.is_empty());
            assert_eq!(
                blocks(file(&reduced, path), comment),
                expected,
                "{path} without card {removed}"
            );
        }
        let kept_assignments: Vec<String> = lines(file(&full, render::ASSIGNED_SPANS), '#')
            .into_iter()
            .filter(|l| !l.contains(&format!("Bus_{:02}_", removed + 2)))
            .collect();
        assert_eq!(
            lines(file(&reduced, render::ASSIGNED_SPANS), '#'),
            kept_assignments
        );
        assert!(
            file(&reduced, render::SYSTEM_CONF).contains("# Configured but not in the box"),
            "the missing card is named"
        );
    }
}

#[test]
fn no_sticky_option_leaks_between_blocks() {
    let (_dir, layout, inventory) = build(&Fixture::mixed());
    let mut telephony = proposed(&layout, &inventory);
    // Give neighbouring blocks different, unusual values.
    telephony.span[0].overlap_dial = appliance::config::telephony::OverlapDial::Incoming;
    telephony.span[4].bri_persistence =
        Some(appliance::config::telephony::BriPersistence::LeaveDown);
    telephony.span[5].groups.clear();
    let files = render::render(&telephony, &inventory, &installed(&inventory)).unwrap();
    let text = file(&files, render::DAHDI_CHANNELS);
    const ANALOG: &[&str] = &["signalling", "context", "group", "callerid", "mailbox"];
    const ISDN: &[&str] = &[
        "signalling",
        "context",
        "group",
        "callerid",
        "mailbox",
        "switchtype",
        "overlapdial",
        "layer1_presence",
        "layer2_persistence",
    ];
    let mut set_here: BTreeMap<String, String> = BTreeMap::new();
    let mut used_anywhere = BTreeSet::new();
    let mut channel_lines = 0;
    for line in lines(text, ';') {
        if let Some(chans) = line.strip_prefix("channel=>") {
            let sig = set_here.get("signalling").cloned().unwrap_or_default();
            let needed = if sig.starts_with("pri_") || sig.starts_with("bri_") {
                ISDN
            } else {
                ANALOG
            };
            for key in needed {
                assert!(
                    set_here.contains_key(*key),
                    "channels {chans}: `{key}` inherited from an earlier block"
                );
            }
            channel_lines += 1;
            set_here.clear();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        used_anywhere.insert(key.to_owned());
        set_here.insert(key.to_owned(), value.to_owned());
    }
    assert!(set_here.is_empty(), "options after the last channel line");
    assert_eq!(channel_lines, 8 + 12, "8 BRI/PRI spans and 12 analog ports");
    let known: BTreeSet<String> = ISDN.iter().map(|s| s.to_string()).collect();
    assert!(
        used_anywhere.is_subset(&known),
        "unchecked options {used_anywhere:?}"
    );
}

#[test]
fn apply_steps_follow_what_changed() {
    let (_dir, layout, inventory) = build(&Fixture::mixed());
    let telephony = proposed(&layout, &inventory);
    let files = render::render(&telephony, &inventory, &installed(&inventory)).unwrap();
    assert_eq!(
        apply_steps(&files, &files, &inventory),
        Vec::<DahdiStep>::new()
    );
    let first = apply_steps(&[], &files, &inventory);
    let pos = |s: &DahdiStep| first.iter().position(|x| x == s).unwrap();
    assert!(pos(&DahdiStep::SetSpanTypes) < pos(&DahdiStep::AssignSpans));
    assert!(pos(&DahdiStep::AssignSpans) < pos(&DahdiStep::ConfigureChannels));
    // The mixed box's TC400 is configured: Asterisk takes the transcoder
    // once the channels are back.
    let restart = DahdiStep::Asterisk(AsteriskCommand::DahdiRestart);
    let codec = DahdiStep::Asterisk(AsteriskCommand::LoadCodecDahdi);
    assert!(pos(&DahdiStep::ConfigureChannels) < pos(&restart));
    assert_eq!(first.last(), Some(&codec));
    assert_eq!(pos(&restart) + 1, pos(&codec));
    let mut changed = telephony.clone();
    changed.bri_persistent_layer1 = Some(false);
    let next = render::render(&changed, &inventory, &installed(&inventory)).unwrap();
    let steps = apply_steps(&files, &next, &inventory);
    assert_eq!(
        steps.first(),
        Some(&DahdiStep::Asterisk(AsteriskCommand::UnloadChanDahdi))
    );
    assert!(steps.contains(&DahdiStep::ReloadModule("wcb4xxp".into())));
    assert_eq!(
        steps.last(),
        Some(&DahdiStep::Asterisk(AsteriskCommand::LoadChanDahdi))
    );
    assert!(file(&next, render::MODPROBE_CONF).contains("options wcb4xxp persistentlayer1=0"));
    assert_eq!(
        steps[1].to_string(),
        "modprobe -r wcb4xxp && modprobe wcb4xxp"
    );
}

#[test]
fn module_options_reach_only_drivers_that_accept_them() {
    let tel = r#"
[telephony]
sync_cable = true
bri_persistent_layer1 = false
transcoder_mode = "g729"

[telephony.analog]
opermode = "FRANCE"
fastringer = true
boostringer = true

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
    let (_dir, _, inventory) = build(&cards(&["te435:t1", "tdm410p:fxs*2,fxo*2", "tc400"]));
    let files = render::render(&load(tel).telephony, &inventory, &installed(&inventory)).unwrap();
    let modprobe = lines(file(&files, render::MODPROBE_CONF), '#');
    let want = [
        "options wctdm24xxp opermode=FRANCE fastringer=1 boostringer=1 timingcable=1",
        "options wcte43x default_linemode=e1 timingcable=1",
        "options wctc4xxp mode=g729",
    ];
    let have: BTreeSet<&str> = modprobe.iter().map(String::as_str).collect();
    assert_eq!(have, BTreeSet::from(want), "{modprobe:#?}");
    assert!(
        !modprobe.iter().any(|l| l.contains("persistentlayer1")),
        "no BRI card"
    );
    assert_eq!(
        lines(file(&files, render::SPAN_TYPES), '#'),
        vec!["1TE435F-0001234 1:E1"]
    );
}
