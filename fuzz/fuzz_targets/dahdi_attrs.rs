//! One-value sysfs attributes and catalog keys: hex ids, alarm masks, span
//! types, driver names, PCI keys and USB ids. What parses prints back to
//! text that parses equal.
#![no_main]

use hwmgr::catalog::{hex16, Driver, PciKey, SpanType, UsbId};
use hwmgr::status::AlarmSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hex16(s);
    if let Some(alarms) = AlarmSet::parse_sysfs(s) {
        let _ = alarms.to_string();
        assert_eq!(
            AlarmSet::parse_sysfs(&format!("0x{:x}", alarms.bits())),
            Some(alarms)
        );
    }
    if let Ok(t) = s.parse::<SpanType>() {
        assert_eq!(t.to_string().parse::<SpanType>().ok(), Some(t));
    }
    if let Ok(d) = s.parse::<Driver>() {
        assert_eq!(d.to_string().parse::<Driver>().ok(), Some(d));
    }
    if let Ok(k) = s.parse::<PciKey>() {
        assert_eq!(k.to_string().parse::<PciKey>().ok(), Some(k));
    }
    if let Ok(u) = s.parse::<UsbId>() {
        assert_eq!(u.to_string().parse::<UsbId>().ok(), Some(u));
    }
});
