//! A firmware catalog (`/etc/telbox/firmware-catalog.toml`): one that is
//! accepted names every package once, each file once, and only plain file
//! names, so no install can write outside /lib/firmware.
#![no_main]

use hwmgr::firmware::catalog::{is_firmware_file_name, Catalog};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(catalog) = Catalog::parse(text, "fuzz.toml") else {
        return;
    };
    for p in &catalog.packages {
        assert_eq!(catalog.get(&p.name), Some(p));
        assert!(is_firmware_file_name(&p.archive));
        for f in &p.files {
            assert!(is_firmware_file_name(f), "{f:?}");
            assert_eq!(catalog.providing(f).map(|q| &q.name), Some(&p.name));
        }
    }
});
