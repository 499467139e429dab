//! Kea's answers on its control socket.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysconfd::dhcp::parse_answer;

fuzz_target!(|data: &[u8]| {
    let _ = parse_answer(data);
});
