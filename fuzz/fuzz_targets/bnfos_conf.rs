//! `/etc/bnfos.conf`: a file that parses and renders reads back equal.
#![no_main]

use berofos::BnfosConf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(conf) = BnfosConf::parse(text, "bnfos.conf") else {
        return;
    };
    for device in &conf.devices {
        assert!(conf.device(&device.id).is_some());
    }
    if let Ok(rendered) = conf.render() {
        let back = BnfosConf::parse(&rendered, "bnfos.conf")
            .unwrap_or_else(|e| panic!("rendered file is refused: {e}\n{rendered}"));
        assert_eq!(back, conf, "{rendered}");
    }
});
