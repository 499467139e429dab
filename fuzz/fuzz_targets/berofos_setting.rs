//! What `appliance berofos` takes from its command line and `bnfos.conf`:
//! `key=value` settings, MAC addresses, `user:password` logins and relay
//! modes. A setting prints back to text that parses equal.
#![no_main]

use berofos::{Login, Mac, RelayMode, Setting};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(setting) = s.parse::<Setting>() {
        let _ = (setting.keyword(), setting.request_path());
        if !matches!(setting, Setting::AdminPassword(_)) {
            let shown = setting.to_string();
            let back: Setting = shown
                .parse()
                .unwrap_or_else(|e| panic!("{s:?} parsed, its text {shown:?} does not: {e}"));
            assert_eq!(back, setting, "{s:?} shown as {shown:?}");
        }
    }
    if let Ok(mac) = s.parse::<Mac>() {
        assert_eq!(mac.to_string().parse::<Mac>().ok(), Some(mac));
    }
    if let Ok(login) = s.parse::<Login>() {
        assert!(login.expose().parse::<Login>().ok() == Some(login));
    }
    if let Ok(mode) = s.parse::<RelayMode>() {
        let _ = mode.to_string();
        assert_eq!(mode.ports().parse::<RelayMode>().ok(), Some(mode));
    }
});
