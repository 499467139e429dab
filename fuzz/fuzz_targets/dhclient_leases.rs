//! dhclient's lease file, read for `method = "dhcp"` links.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysconfd::network::parse_dhclient_leases;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let leases = parse_dhclient_leases(text);
    assert!(leases.len() <= text.matches('}').count());
    serde_json::to_string(&leases).expect("leases serialize");
});
