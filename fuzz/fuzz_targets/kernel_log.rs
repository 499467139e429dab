//! Kernel log text (`dmesg`, `/dev/kmsg`, syslog, `journalctl -k`): every
//! firmware complaint read names a plain `dahdi-fw-*.bin` and quotes a line
//! of the text; every line left unread names a `dahdi-fw-` file.
#![no_main]

use hwmgr::firmware::kernlog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // sysconfd reads the kernel log lossily, as here.
    let text = String::from_utf8_lossy(data);
    let log = kernlog::parse(&text);
    for line in &log.lines {
        assert!(kernlog::is_dahdi_firmware(&line.file), "{line:?}");
        assert!(text.contains(line.line.as_str()), "{line:?}");
    }
    for unread in &log.unread {
        assert!(unread.contains("dahdi-fw-"), "{unread:?}");
    }
    assert!(log.lines.len() + log.unread.len() <= text.lines().count());
});
