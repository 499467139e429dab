//! Kea's memfile lease CSV: the live leases come out one per address, in
//! address order, none expired.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysconfd::dhcp::parse_kea_leases;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for now in [0, 1_700_000_000, u64::MAX] {
        if let Ok(leases) = parse_kea_leases(text, now) {
            assert!(leases.windows(2).all(|w| w[0].ip < w[1].ip), "{leases:?}");
            assert!(leases.iter().all(|l| l.expires > now), "{leases:?}");
            serde_json::to_string(&leases).expect("leases serialize");
        }
    }
});
