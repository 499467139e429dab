//! The known phone vendors (`data/phone-vendors.toml`): MAC prefixes and
//! vendor-class identifier prefixes, and the Kea client-class tests built
//! from them.

use std::fmt;
use std::str::FromStr;

use appliance::config::values::MacAddr;
use serde::Deserialize;

use super::KeaError;

/// The vendor list shipped with sysconfd.
const PHONE_VENDORS: &str = include_str!("../../data/phone-vendors.toml");

/// The first three bytes of a MAC address, written `00:08:5d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oui(pub [u8; 3]);

impl Oui {
    /// Whether `mac` starts with this prefix.
    pub fn matches(&self, mac: &MacAddr) -> bool {
        mac.0[..3] == self.0
    }

    /// The prefix as a Kea hex literal, such as `0x00085d`.
    fn kea_literal(&self) -> String {
        format!("0x{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }
}

impl FromStr for Oui {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not an OUI; write three hex pairs like 00:08:5d");
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.len() != 2) {
            return Err(bad());
        }
        let mut out = [0u8; 3];
        for (o, p) in out.iter_mut().zip(parts) {
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        Ok(Oui(out))
    }
}

impl fmt::Display for Oui {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}:{:02x}", self.0[0], self.0[1], self.0[2])
    }
}

/// A prefix of the vendor-class identifier (DHCP option 60) a phone sends:
/// printable ASCII without quotes or backslashes, so it fits a Kea string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorClassPrefix(String);

impl VendorClassPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for VendorClassPrefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| (' '..='~').contains(&c) && c != '\'' && c != '\\');
        if ok {
            Ok(VendorClassPrefix(s.to_owned()))
        } else {
            Err(format!(
                "vendor class `{}` must be 1–64 printable ASCII characters without quotes or backslashes",
                s.escape_debug()
            ))
        }
    }
}

/// One phone vendor: how its phones are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneVendor {
    /// Short lowercase name, such as `aastra`.
    pub name: String,
    pub ouis: Vec<Oui>,
    pub vendor_classes: Vec<VendorClassPrefix>,
}

impl PhoneVendor {
    /// The Kea client class phones of this vendor fall into.
    pub fn class_name(&self) -> String {
        format!("telbox-phone-{}", self.name)
    }

    /// The Kea expression matching this vendor's phones by MAC prefix or vendor class.
    pub fn kea_test(&self) -> String {
        let by_mac = self
            .ouis
            .iter()
            .map(|o| format!("substring(pkt4.mac,0,3) == {}", o.kea_literal()));
        let by_class = self.vendor_classes.iter().map(|v| {
            format!(
                "substring(option[60].hex,0,{}) == '{}'",
                v.as_str().len(),
                v.as_str()
            )
        });
        by_mac.chain(by_class).collect::<Vec<_>>().join(" or ")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VendorFile {
    vendor: Vec<VendorEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VendorEntry {
    name: String,
    #[serde(default)]
    ouis: Vec<String>,
    #[serde(default)]
    vendor_classes: Vec<String>,
}

impl VendorEntry {
    fn build(self) -> Result<PhoneVendor, String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(format!(
                "vendor name `{}` must be lowercase letters, digits, `-`",
                self.name
            ));
        }
        if self.ouis.is_empty() && self.vendor_classes.is_empty() {
            return Err(format!(
                "vendor `{}` has neither OUIs nor vendor classes",
                self.name
            ));
        }
        let ouis = self
            .ouis
            .iter()
            .map(|o| o.parse())
            .collect::<Result<_, _>>()?;
        let vendor_classes = self
            .vendor_classes
            .iter()
            .map(|v| v.parse())
            .collect::<Result<_, _>>()?;
        Ok(PhoneVendor {
            name: self.name,
            ouis,
            vendor_classes,
        })
    }
}

/// Parses a vendor list in the format of `data/phone-vendors.toml`.
pub fn parse_vendors(text: &str) -> Result<Vec<PhoneVendor>, KeaError> {
    let file: VendorFile = toml::from_str(text).map_err(|e| KeaError::VendorList(e.to_string()))?;
    let vendors: Vec<PhoneVendor> = file
        .vendor
        .into_iter()
        .map(VendorEntry::build)
        .collect::<Result<_, _>>()
        .map_err(KeaError::VendorList)?;
    for (i, v) in vendors.iter().enumerate() {
        if vendors[..i].iter().any(|o| o.name == v.name) {
            return Err(KeaError::VendorList(format!(
                "vendor `{}` is listed twice",
                v.name
            )));
        }
    }
    Ok(vendors)
}

/// The vendor list shipped with sysconfd.
pub fn phone_vendors() -> Vec<PhoneVendor> {
    parse_vendors(PHONE_VENDORS)
        .expect("the shipped phone vendor list is valid (checked by a test)")
}

/// The vendor whose OUI `mac` carries, if any.
pub fn vendor_of<'a>(vendors: &'a [PhoneVendor], mac: &MacAddr) -> Option<&'a PhoneVendor> {
    vendors
        .iter()
        .find(|v| v.ouis.iter().any(|o| o.matches(mac)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_list_parses_and_knows_aastra_and_snom() {
        let vendors = parse_vendors(PHONE_VENDORS).unwrap();
        let aastra = vendors.iter().find(|v| v.name == "aastra").unwrap();
        assert!(aastra.ouis.contains(&"00:08:5d".parse().unwrap()));
        let snom = vendors.iter().find(|v| v.name == "snom").unwrap();
        assert_eq!(snom.vendor_classes[0].as_str(), "snom");
    }

    #[test]
    fn kea_test_matches_mac_prefix_and_vendor_class() {
        let v = parse_vendors(
            "[[vendor]]\nname = \"aastra\"\nouis = [\"00:08:5D\"]\nvendor_classes = [\"AastraIPPhone\"]\n",
        )
        .unwrap();
        assert_eq!(
            v[0].kea_test(),
            "substring(pkt4.mac,0,3) == 0x00085d or substring(option[60].hex,0,13) == 'AastraIPPhone'"
        );
    }

    #[test]
    fn quotes_in_vendor_classes_are_refused() {
        let err =
            parse_vendors("[[vendor]]\nname = \"x\"\nvendor_classes = [\"a'b\"]\n").unwrap_err();
        assert!(err.to_string().contains("quotes"), "{err}");
    }

    #[test]
    fn vendor_of_finds_by_oui() {
        let vendors = phone_vendors();
        let mac: MacAddr = "00:08:5d:12:34:56".parse().unwrap();
        assert_eq!(vendor_of(&vendors, &mac).unwrap().name, "aastra");
        let pc: MacAddr = "02:11:22:33:44:55".parse().unwrap();
        assert!(vendor_of(&vendors, &pc).is_none());
    }
}
