//! Inputs the fuzz targets (`fuzz/`, `make fuzz`) once crashed on, kept in
//! `tests/fuzz-regressions/`: each parser now answers them with a value or
//! an error.

use std::path::Path;

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
