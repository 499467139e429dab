//! The typed values of `appliance.toml` (host names, addresses, paths,
//! secrets…): whatever parses prints back to text that parses equal.
#![no_main]

use std::fmt::Display;
use std::str::FromStr;

use appliance::config::values::{
    check_safe_text, AbsPath, DomainName, HostAddr, Hostname, Ident, InterfaceName, Ipv4Cidr,
    MacAddr, SafeText, Secret,
};
use libfuzzer_sys::fuzz_target;

fn round_trip<T>(s: &str)
where
    T: FromStr<Err = String> + Display + PartialEq + std::fmt::Debug,
{
    if let Ok(v) = s.parse::<T>() {
        let shown = v.to_string();
        let back: T = shown
            .parse()
            .unwrap_or_else(|e| panic!("{s:?} parsed, its text {shown:?} does not: {e}"));
        assert_eq!(back, v, "{s:?} shown as {shown:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = check_safe_text(s);
    round_trip::<Hostname>(s);
    round_trip::<DomainName>(s);
    round_trip::<HostAddr>(s);
    round_trip::<Ipv4Cidr>(s);
    round_trip::<InterfaceName>(s);
    round_trip::<MacAddr>(s);
    round_trip::<AbsPath>(s);
    round_trip::<SafeText>(s);
    round_trip::<Ident>(s);
    if let Ok(secret) = s.parse::<Secret>() {
        assert_eq!(secret.expose(), s);
    }
});
