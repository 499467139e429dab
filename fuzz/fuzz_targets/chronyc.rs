//! `chronyc -c tracking` and `chronyc -c sources` output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysconfd::ntp::{parse_sources, parse_tracking};

fuzz_target!(|data: &[u8]| {
    // chronyc's output is read lossily, as here.
    let text = String::from_utf8_lossy(data);
    if let Ok(tracking) = parse_tracking(&text) {
        serde_json::to_string(&tracking).expect("tracking serializes");
    }
    if let Ok(sources) = parse_sources(&text) {
        assert!(sources.len() <= text.lines().count());
        serde_json::to_string(&sources).expect("sources serialize");
    }
});
