//! Inputs the fuzz targets (`fuzz/`, `make fuzz`) once crashed on, kept in
//! `tests/fuzz-regressions/`: each parser now answers them with a value or
//! an error.

use std::path::Path;

use hwmgr::{detect, propose, status, Root};

/// The fuzz targets' reader of file trees, so a tree input is written here
/// exactly as the `dahdi_sysfs` target wrote it.
#[path = "../../fuzz/src/tree.rs"]
#[allow(dead_code)]
mod tree;

fn input(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `NLMSG_DONE` carrying `i32::MIN`: negating the code overflowed.
#[test]
fn a_link_dump_done_with_the_lowest_code_is_an_error() {
    let payload = input("netlink-done-lowest-code.bin");
    assert!(sysconfd::network::link_dump::done(&payload).is_err());
}

/// `NLMSG_ERROR` carrying `i32::MIN`: netlink-packet-core's `to_io` negates it.
#[test]
fn a_link_dump_error_with_the_lowest_code_is_an_error() {
    let payload = input("netlink-error-lowest-code.bin");
    let error = sysconfd::network::link_dump::kernel_error(&payload);
    assert_eq!(error.raw_os_error(), Some(i32::MAX));
}

/// What the `dahdi_sysfs` target does with a tree: detect, read the spans,
/// propose a `[telephony]` section.
fn detect_and_propose(name: &str) -> hwmgr::detect::Inventory {
    let data = input(name);
    let dir = tempfile::tempdir().unwrap();
    tree::write(dir.path(), &tree::entries(&data));
    let root = Root::new(dir.path());
    let inventory = detect::scan(&root).expect("the tree is readable");
    let spans = status::read_spans(&root).unwrap_or_default();
    let ports = propose::ports_from_status(&inventory, &spans);
    propose::propose_with_ports(&inventory, &ports);
    inventory
}

/// A span whose channels would run past `u32::MAX`.
#[test]
fn a_span_past_the_last_channel_number_has_no_channel_range() {
    let inventory = detect_and_propose("dahdi-basechan-last-number.txt");
    let spans = inventory.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].channel_range(), None);
}

/// A card claiming four billion spans: the proposal's numbers overflowed.
#[test]
fn a_card_claiming_more_spans_than_dahdi_numbers_is_proposed_bounded() {
    let inventory = detect_and_propose("dahdi-span-count-past-the-numbers.txt");
    let telephony = propose::propose(&inventory);
    assert_eq!(telephony.span.len(), 128);
}

/// A configured channel numbered below its span's first channel, and one
/// at `u32::MAX`: the port position underflowed and overflowed.
#[test]
fn a_channel_below_its_span_is_no_analog_port() {
    let data = input("dahdi-channel-below-its-span.txt");
    let dir = tempfile::tempdir().unwrap();
    tree::write(dir.path(), &tree::entries(&data));
    let root = Root::new(dir.path());
    let inventory = detect::scan(&root).unwrap();
    let spans = status::read_spans(&root).unwrap();
    assert_eq!(spans[0].channels.len(), 2);
    let ports = propose::ports_from_status(&inventory, &spans);
    assert_eq!(ports.len(), 1, "{ports:?}");
    assert_eq!(ports[0].position, u32::MAX - 8);
}

/// A bareudp link whose port attribute is five bytes: rtnetlink's decoder of
/// bareudp data panicked; only a VLAN's data is decoded now.
#[test]
fn a_link_with_misshapen_data_of_another_kind_decodes_with_its_kind() {
    use sysconfd::network::link_dump::{link, link_from};
    let payload = input("netlink-link-bareudp-short-port.bin");
    let message = link(&payload).expect("the link decodes");
    let attributes = format!("{:?}", message.attributes);
    assert!(attributes.contains("Kind(BareUdp)"), "{attributes}");
    assert_eq!(link_from(&message), None, "the link has no name");
}
