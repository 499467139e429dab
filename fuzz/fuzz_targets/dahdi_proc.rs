//! `/proc/dahdi/<span>` as the kernel writes it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The file name's number: the one the header claims, and another.
    let claimed = text
        .strip_prefix("Span ")
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1u32);
    for number in [claimed, claimed.wrapping_add(1)] {
        if let Ok(span) = hwmgr::status::parse_proc_span(number, text) {
            assert_eq!(span.number, number);
            serde_json::to_string(&span).expect("a span serializes");
        }
    }
});
