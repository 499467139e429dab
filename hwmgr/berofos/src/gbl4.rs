//! The GBL4 datagram format of the device's UDP service (port 50123).
//!
//! A datagram is `"GBL" 0x04`, one command byte, the payload and one checksum
//! byte chosen so that the XOR of the whole datagram is zero. Integers are
//! big-endian; IPv4 addresses are four bytes in network order.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Serialize, Serializer};

use crate::device::Mac;

/// The four bytes every datagram starts with.
pub const PREFIX: [u8; 4] = *b"GBL\x04";
/// The device's UDP port.
pub const DEFAULT_PORT: u16 = 50123;
/// Bytes per firmware page.
pub const FLASH_PAGE_SIZE: usize = 512;
/// Hardware magic numbers of Berofos devices; other replies are ignored.
pub const BEROFOS_HW_MAGICS: [u16; 2] = [0x0050, 0x00BB];

/// The request kinds the device's UDP service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Read the network configuration (scan).
    GetNetconf = 1,
    /// Write the network configuration.
    SetNetconf = 2,
    /// Announce a firmware image.
    FlashPrep = 3,
    /// One 512-byte page of firmware.
    FlashPage = 4,
    /// Erase firmware and settings.
    Reset = 5,
    /// Are you there?
    Ping = 9,
    /// Restart the watchdog countdown.
    KickWatchdog = 11,
}

/// Builds a datagram: prefix, command, payload, checksum.
pub fn encode(command: Command, payload: &[u8]) -> Vec<u8> {
    let mut datagram = Vec::with_capacity(payload.len() + 6);
    datagram.extend_from_slice(&PREFIX);
    datagram.push(command as u8);
    datagram.extend_from_slice(payload);
    let checksum = datagram.iter().fold(0u8, |acc, b| acc ^ b);
    datagram.push(checksum);
    datagram
}

/// The payload of a reply to `command`, or `None` if the datagram is not one.
pub fn decode(datagram: &[u8], command: Command) -> Option<&[u8]> {
    let valid = datagram.len() >= 6
        && datagram[..4] == PREFIX
        && datagram[4] == command as u8
        && datagram.iter().fold(0u8, |acc, b| acc ^ b) == 0;
    valid.then(|| &datagram[5..datagram.len() - 1])
}

/// A firmware or bootloader version, `major.minor` (e.g. `1.53`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Ethernet link speeds the device may probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PhyConf {
    /// Probe 10 and 100 Mbit/s.
    Auto,
    /// 10 Mbit/s only.
    TenMbit,
    /// 100 Mbit/s only.
    HundredMbit,
}

impl PhyConf {
    fn bits(self) -> u8 {
        match self {
            PhyConf::Auto => 0x03,
            PhyConf::TenMbit => 0x01,
            PhyConf::HundredMbit => 0x02,
        }
    }

    fn from_bits(bits: u8) -> Self {
        match bits & 0x03 {
            0x01 => PhyConf::TenMbit,
            0x02 => PhyConf::HundredMbit,
            _ => PhyConf::Auto,
        }
    }
}

/// The state of the Ethernet link as the device sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhyState {
    pub link: bool,
    pub hundred_mbit: bool,
    pub full_duplex: bool,
}

/// One device's answer to a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub mac: Mac,
    pub hw_magic: u16,
    pub bootloader: Version,
    pub firmware: Version,
    /// True in flash mode (bootloader only), false when operational.
    pub flash_mode: bool,
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub phy_conf: PhyConf,
    pub phy_state: PhyState,
    pub dhcp: bool,
    pub http_auth: bool,
    pub ip_acl: bool,
    pub http_port: u16,
}

/// Length of a scan reply's payload.
pub const NETCONF_REPLY_LEN: usize = 30;

fn ipv4(bytes: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

fn mac(bytes: &[u8]) -> Mac {
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&bytes[..6]);
    Mac(mac)
}

impl DeviceInfo {
    /// Reads a scan reply's payload; `None` if it is too short.
    pub fn decode(p: &[u8]) -> Option<DeviceInfo> {
        if p.len() < NETCONF_REPLY_LEN {
            return None;
        }
        Some(DeviceInfo {
            mac: mac(p),
            hw_magic: u16::from_be_bytes([p[6], p[7]]),
            bootloader: Version {
                major: p[8],
                minor: p[9],
            },
            firmware: Version {
                major: p[10],
                minor: p[11],
            },
            flash_mode: p[12] != 0,
            address: ipv4(&p[13..17]),
            netmask: ipv4(&p[17..21]),
            gateway: ipv4(&p[21..25]),
            phy_conf: PhyConf::from_bits(p[25]),
            phy_state: PhyState {
                link: p[26] & 0x01 != 0,
                hundred_mbit: p[26] & 0x02 != 0,
                full_duplex: p[26] & 0x04 != 0,
            },
            dhcp: p[27] & 0x01 != 0,
            http_auth: p[27] & 0x02 != 0,
            ip_acl: p[27] & 0x04 != 0,
            http_port: u16::from_be_bytes([p[28], p[29]]),
        })
    }

    /// True for Berofos hardware (not, say, a beroNet power switch).
    pub fn is_berofos(&self) -> bool {
        BEROFOS_HW_MAGICS.contains(&self.hw_magic)
    }
}

/// Network settings written over UDP (`bnfos --netconf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConf {
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub phy: PhyConf,
    pub dhcp: bool,
    pub http_auth: bool,
    pub http_port: u16,
}

impl Default for NetConf {
    /// The `bnfos --netconf` defaults: DHCP on, no auth, port 80.
    fn default() -> Self {
        NetConf {
            address: Ipv4Addr::UNSPECIFIED,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            gateway: Ipv4Addr::UNSPECIFIED,
            phy: PhyConf::Auto,
            dhcp: true,
            http_auth: false,
            http_port: 80,
        }
    }
}

impl NetConf {
    /// The 22-byte request payload for the device `mac`.
    pub fn encode(&self, mac: Mac) -> Vec<u8> {
        let mut p = mac.octets().to_vec();
        p.extend_from_slice(&self.address.octets());
        p.extend_from_slice(&self.netmask.octets());
        p.extend_from_slice(&self.gateway.octets());
        p.push(self.phy.bits());
        p.push(u8::from(self.dhcp) | (u8::from(self.http_auth) << 1));
        p.extend_from_slice(&self.http_port.to_be_bytes());
        p
    }
}

/// Payloads of the small requests that only name the device.
pub fn mac_payload(command: Command, mac: Mac) -> Vec<u8> {
    let mut p = mac.octets().to_vec();
    match command {
        Command::Ping => p.extend_from_slice(&[0, 0]),
        Command::KickWatchdog => p.push(0),
        _ => {}
    }
    p
}

/// The `FLASH_PREP` payload: page count and XOR of the image.
pub fn flash_prep_payload(mac: Mac, image: &[u8]) -> Vec<u8> {
    let pages = image.len().div_ceil(FLASH_PAGE_SIZE) as u16;
    let crc = image.iter().fold(0u8, |acc, b| acc ^ b);
    let mut p = mac.octets().to_vec();
    p.extend_from_slice(&pages.to_be_bytes());
    p.push(crc);
    p
}

/// The `FLASH_PAGE` payload for page `index` (zero-padded to 512 bytes).
pub fn flash_page_payload(mac: Mac, index: u16, chunk: &[u8]) -> Vec<u8> {
    let mut p = mac.octets().to_vec();
    p.extend_from_slice(&index.to_be_bytes());
    p.extend_from_slice(chunk);
    p.resize(8 + FLASH_PAGE_SIZE, 0);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_request_matches_the_reference_bytes() {
        assert_eq!(
            encode(Command::GetNetconf, &[]),
            [0x47, 0x42, 0x4C, 0x04, 0x01, 0x4C]
        );
    }

    #[test]
    fn decode_checks_prefix_command_and_checksum() {
        let d = encode(Command::Ping, &[1, 2, 3]);
        assert_eq!(decode(&d, Command::Ping), Some(&[1u8, 2, 3][..]));
        assert_eq!(decode(&d, Command::KickWatchdog), None);
        let mut bad = d.clone();
        bad[6] ^= 0xFF;
        assert_eq!(decode(&bad, Command::Ping), None);
        assert_eq!(decode(&d[..5], Command::Ping), None);
    }

    #[test]
    fn netconf_payload_is_22_bytes() {
        let mac = Mac([0, 0x19, 0x32, 0, 0x12, 0x1D]);
        let p = NetConf::default().encode(mac);
        assert_eq!(p.len(), 22);
        assert_eq!(&p[18..], &[0x03, 0x01, 0, 80]);
    }

    #[test]
    fn flash_payloads() {
        let mac = Mac([1; 6]);
        let image = vec![0xAAu8; 513];
        assert_eq!(&flash_prep_payload(mac, &image)[6..], &[0, 2, 0xAA]);
        assert_eq!(flash_page_payload(mac, 1, &image[512..]).len(), 520);
    }
}
