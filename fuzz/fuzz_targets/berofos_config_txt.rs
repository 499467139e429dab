//! The body of a Berofos `GET /config.txt`, and the status shown from it.
#![no_main]

use std::net::Ipv4Addr;

use berofos::{Settings, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The client reads the body lossily, as here.
    let body = String::from_utf8_lossy(data);
    if let Ok(settings) = Settings::parse(&body) {
        serde_json::to_string(&settings).expect("settings serialize");
        let status = Status::new(Some("fos1".into()), Ipv4Addr::LOCALHOST, &settings);
        let _ = (status.to_string(), status.watchdog_failed());
    }
});
