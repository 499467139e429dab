//! The payloads of a link dump's netlink messages: `RTM_NEWLINK` (one link),
//! `NLMSG_DONE` and `NLMSG_ERROR`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysconfd::network::link_dump::{done, kernel_error, link, link_from};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = link(data) {
        if let Some(l) = link_from(&message) {
            assert!(!l.name.is_empty());
        }
    }
    let _ = done(data);
    let _ = kernel_error(data);
});
