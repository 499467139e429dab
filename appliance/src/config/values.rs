//! Typed values: once built, each holds only what the files it ends up in
//! accept. Every constructor says what was wrong and how to write it.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// Characters that could break out of a generated file's syntax.
const BREAKOUT: &[char] = &[
    '"', '\'', '`', '#', ';', '{', '}', '[', ']', '\\', '<', '>', '$', '|', '&', '=',
];

/// Rejects text that could break out of a generated file: control characters
/// (newline, NUL…), quotes, comment and statement separators, braces.
pub fn check_safe_text(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {:?}; it must be one line of plain text",
            c
        ));
    }
    if let Some(c) = s.chars().find(|c| BREAKOUT.contains(c)) {
        return Err(format!(
            "contains `{c}`, which generated files cannot hold safely; remove it"
        ));
    }
    Ok(())
}

/// Implements the string plumbing of a typed value: parse, display, serde
/// through `String`, and a schema entry with a human name for the docs.
macro_rules! string_value {
    ($ty:ident, $label:expr) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text_form())
            }
        }
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.to_string()
            }
        }
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($ty))
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                schemars::json_schema!({ "type": "string", "format": $label })
            }
            fn inline_schema() -> bool {
                true
            }
        }
    };
}

/// A host name: one DNS label (letters, digits, hyphens; 1–63; no leading or trailing hyphen).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hostname(String);

impl Hostname {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() || label.len() > 63 {
        return Err(format!(
            "`{}` must be 1 to 63 characters long",
            label.escape_debug()
        ));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "`{}` contains {c:?}; use only letters, digits and hyphens",
            label.escape_debug()
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!(
            "`{}` must not start or end with a hyphen",
            label.escape_debug()
        ));
    }
    Ok(())
}

impl FromStr for Hostname {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains('.') {
            return Err(format!(
                "host name `{}` contains a dot; put the domain part in `system.domain`",
                s.escape_debug()
            ));
        }
        check_label(s).map_err(|e| format!("invalid host name: {e}"))?;
        Ok(Hostname(s.to_owned()))
    }
}
string_value!(Hostname, "hostname");

/// A DNS domain name: dot-separated labels, at most 253 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DomainName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 253 {
            return Err(format!(
                "domain name `{}` must be 1 to 253 characters long",
                s.escape_debug()
            ));
        }
        for label in s.split('.') {
            check_label(label).map_err(|e| format!("invalid domain name: {e}"))?;
        }
        Ok(DomainName(s.to_ascii_lowercase()))
    }
}
string_value!(DomainName, "domain name");

/// A host to reach by name or IP address (NTP servers, Berofos devices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostAddr(String);

impl HostAddr {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for HostAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.parse::<std::net::IpAddr>().is_ok() {
            return Ok(HostAddr(s.to_owned()));
        }
        s.parse::<DomainName>().map(|d| HostAddr(d.0)).map_err(|_| {
            format!(
                "`{}` is neither an IP address nor a valid host name",
                s.escape_debug()
            )
        })
    }
}
string_value!(HostAddr, "host name or IP address");

/// An IPv4 address with its prefix length, as in `192.168.1.10/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Cidr {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Ipv4Cidr {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Self> {
        (prefix <= 32).then_some(Ipv4Cidr { addr, prefix })
    }

    fn text_form(&self) -> String {
        format!("{}/{}", self.addr, self.prefix)
    }

    pub fn netmask(&self) -> Ipv4Addr {
        let bits = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        };
        Ipv4Addr::from(bits)
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & u32::from(self.netmask()))
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) | !u32::from(self.netmask()))
    }

    /// This prefix with the host bits cleared.
    pub fn subnet(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            addr: self.network(),
            prefix: self.prefix,
        }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & u32::from(self.netmask()) == u32::from(self.network())
    }

    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.contains(other.network()) || other.contains(self.network())
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hint = "write it as an IPv4 address and prefix length, like 192.168.1.10/24";
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("`{}` has no prefix length; {hint}", s.escape_debug()))?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("`{}` is not an IPv4 address; {hint}", addr.escape_debug()))?;
        let prefix: u8 = prefix.parse().map_err(|_| {
            format!(
                "prefix length `{}` is not a number from 0 to 32",
                prefix.escape_debug()
            )
        })?;
        Ipv4Cidr::new(addr, prefix)
            .ok_or_else(|| format!("prefix length {prefix} is larger than 32"))
    }
}
string_value!(Ipv4Cidr, "IPv4 address/prefix");

/// A Linux network interface name: 1–15 characters, no `/`, `:`, spaces or quotes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InterfaceName(String);

impl InterfaceName {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for InterfaceName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 15 || s == "." || s == ".." {
            return Err(format!(
                "interface name `{}` must be 1 to 15 characters long",
                s.escape_debug()
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
        {
            return Err(format!(
                "interface name `{}` contains {c:?}; use letters, digits, `-`, `_`, `.`",
                s.escape_debug()
            ));
        }
        Ok(InterfaceName(s.to_owned()))
    }
}
string_value!(InterfaceName, "interface name");

/// A 48-bit Ethernet address, written `00:08:5d:12:34:56`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    fn text_form(&self) -> String {
        let b = self.0;
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{}` is not a MAC address; write six hex pairs like 00:08:5d:12:34:56",
                s.escape_debug()
            )
        };
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (o, p) in out.iter_mut().zip(parts) {
            if p.len() != 2 {
                return Err(bad());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        Ok(MacAddr(out))
    }
}
string_value!(MacAddr, "MAC address");

/// An absolute file path made of safe characters (letters, digits, `/._-+`), without `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AbsPath(String);

impl AbsPath {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AbsPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if !s.starts_with('/') || s.len() > 255 {
            return Err(format!(
                "`{}` must be an absolute path such as /etc/telbox/secrets/fos1",
                s.escape_debug()
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+')))
        {
            return Err(format!(
                "path `{}` contains {c:?}; use letters, digits and / . _ - +",
                s.escape_debug()
            ));
        }
        if s.split('/').any(|p| p == "..") {
            return Err(format!("path `{}` must not contain `..`", s.escape_debug()));
        }
        Ok(AbsPath(s.to_owned()))
    }
}
string_value!(AbsPath, "absolute path");

/// One line of plain text for a generated file (labels, caller names):
/// no control characters, quotes, `#`, `;`, braces or other break-out characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SafeText(String);

impl SafeText {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SafeText {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() > 80 {
            return Err("text is longer than 80 characters".to_owned());
        }
        check_safe_text(s).map_err(|e| format!("`{}` {e}", s.escape_debug()))?;
        Ok(SafeText(s.to_owned()))
    }
}
string_value!(SafeText, "plain text");

/// An identifier for generated files: an Asterisk context, a group or user
/// name. Letters, digits, `_`, `-`, `.`, `+`; 1–79 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ident(String);

impl Ident {
    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Ident {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 79 {
            return Err(format!(
                "`{}` must be 1 to 79 characters long",
                s.escape_debug()
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+')))
        {
            return Err(format!(
                "`{}` contains {c:?}; use letters, digits and _ - . +",
                s.escape_debug()
            ));
        }
        Ok(Ident(s.to_owned()))
    }
}
string_value!(Ident, "identifier");

/// A secret (password, key). Shown as `<redacted>` in debug output; the
/// config redacts it before it is logged, stored in history or returned.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Secret(String);

impl Secret {
    pub const REDACTED: &'static str = "<redacted>";

    fn text_form(&self) -> String {
        self.0.clone()
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn redacted() -> Self {
        Secret(Self::REDACTED.to_owned())
    }
    pub fn is_redacted(&self) -> bool {
        self.0 == Self::REDACTED
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 128 {
            return Err("a secret must be 1 to 128 characters long".to_owned());
        }
        if s.chars()
            .any(|c| c.is_control() || c == ':' || c.is_whitespace())
        {
            return Err("a secret must not contain spaces, `:` or control characters".to_owned());
        }
        Ok(Secret(s.to_owned()))
    }
}
string_value!(Secret, "secret");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_math() {
        let c: Ipv4Cidr = "192.168.1.10/24".parse().unwrap();
        assert_eq!(c.network(), Ipv4Addr::new(192, 168, 1, 0));
        assert_eq!(c.broadcast(), Ipv4Addr::new(192, 168, 1, 255));
        assert!(c.contains(Ipv4Addr::new(192, 168, 1, 254)));
        assert!(!c.contains(Ipv4Addr::new(192, 168, 2, 1)));
        assert!(c.overlaps(&"192.168.0.0/16".parse().unwrap()));
    }

    #[test]
    fn rejects_breakout_text() {
        for bad in ["a\nb", "a\"b", "a#b", "a;b", "a{b", "a\0b"] {
            assert!(bad.parse::<SafeText>().is_err(), "{bad:?} accepted");
        }
        assert!("box-1".parse::<Hostname>().is_ok());
        assert!("box\n".parse::<Hostname>().is_err());
        assert!("/etc/../shadow".parse::<AbsPath>().is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s: Secret = "hunter2".parse().unwrap();
        assert_eq!(format!("{s:?}"), "<redacted>");
    }
}
