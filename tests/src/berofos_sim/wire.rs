//! GBL4 datagrams as the device sees them, written from the protocol
//! description and independent of the client crate's codec.

/// `G`, `B`, `L`, version 4.
const MAGIC: &[u8; 4] = b"GBL\x04";

/// A request received on the UDP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: u8,
    pub payload: Vec<u8>,
}

/// Request codes the device answers.
pub mod code {
    pub const GET_NETCONF: u8 = 1;
    pub const SET_NETCONF: u8 = 2;
    pub const FLASH_PREP: u8 = 3;
    pub const FLASH_PAGE: u8 = 4;
    pub const RESET: u8 = 5;
    pub const PING: u8 = 9;
    pub const KICK_WDOG: u8 = 11;
}

/// Reads a datagram; `None` unless prefix, length and checksum are right.
pub fn parse(datagram: &[u8]) -> Option<Request> {
    if datagram.len() < 6 || !datagram.starts_with(MAGIC) {
        return None;
    }
    let mut sum = 0u8;
    for byte in datagram {
        sum ^= byte;
    }
    if sum != 0 {
        return None;
    }
    Some(Request {
        command: datagram[4],
        payload: datagram[5..datagram.len() - 1].to_vec(),
    })
}

/// Builds a reply datagram for `command`.
pub fn reply(command: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(command);
    out.extend_from_slice(payload);
    let mut sum = 0u8;
    for byte in &out {
        sum ^= byte;
    }
    out.push(sum);
    out
}

/// Reads a big-endian u16 at `at`.
pub fn be16(bytes: &[u8], at: usize) -> u16 {
    (u16::from(bytes[at]) << 8) | u16::from(bytes[at + 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_scan_request_parses() {
        let req = parse(&[0x47, 0x42, 0x4C, 0x04, 0x01, 0x4C]).unwrap();
        assert_eq!(req.command, code::GET_NETCONF);
        assert!(req.payload.is_empty());
        assert!(parse(&[0x47, 0x42, 0x4C, 0x04, 0x01, 0x4D]).is_none());
        assert_eq!(reply(1, &[]), [0x47, 0x42, 0x4C, 0x04, 0x01, 0x4C]);
    }
}
