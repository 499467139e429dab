//! Berofos GBL4 UDP replies: framing for every command, the scan reply's
//! payload, and the `bnfos.conf` written from a scan, which reads back with
//! the same MAC and address.
#![no_main]

use berofos::gbl4::{self, Command};
use berofos::{BnfosConf, DeviceInfo};
use libfuzzer_sys::fuzz_target;

const COMMANDS: [Command; 7] = [
    Command::GetNetconf,
    Command::SetNetconf,
    Command::FlashPrep,
    Command::FlashPage,
    Command::Reset,
    Command::Ping,
    Command::KickWatchdog,
];

fuzz_target!(|data: &[u8]| {
    for command in COMMANDS {
        if let Some(payload) = gbl4::decode(data, command) {
            assert_eq!(gbl4::encode(command, payload), data);
        }
    }
    // The payload of a valid datagram, and the bytes as a payload.
    let payloads = [gbl4::decode(data, Command::GetNetconf), Some(data)];
    for info in payloads
        .into_iter()
        .flatten()
        .filter_map(DeviceInfo::decode)
    {
        let _ = (info.is_berofos(), info.firmware.to_string());
        serde_json::to_string(&info).expect("a scan reply serializes");
        let conf = BnfosConf::from_scan(std::slice::from_ref(&info));
        let text = conf.render().expect("a scan always renders");
        let back = BnfosConf::parse(&text, "bnfos.conf").expect("a rendered scan parses");
        assert_eq!(back, conf, "{text}");
    }
});
