//! The one error type of the crate: every message names the device, what was
//! asked and what came back. Passwords never appear in it.

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// A device as named in messages: `fos1 (10.0.0.5)`, or just `10.0.0.5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLabel {
    /// The `[fosN]` section name, when the device came from `/etc/bnfos.conf`.
    pub name: Option<String>,
    /// The device's IPv4 address (255.255.255.255 for a broadcast request).
    pub address: Ipv4Addr,
}

impl fmt::Display for DeviceLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

/// Seconds with one decimal, the way waits are reported: `2.0 s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} s", self.0.as_secs_f64())
    }
}

/// Everything that can go wrong talking to a Berofos or reading its files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The device answered 401 to an HTTP request.
    #[error("bad credentials for {device}: {request} was answered 401 Unauthorized")]
    BadCredentials {
        device: DeviceLabel,
        request: String,
    },

    /// Nothing came back before the timeout.
    #[error("{device} unreachable: no reply after {waited} to {request}")]
    NoReply {
        device: DeviceLabel,
        request: String,
        waited: Seconds,
    },

    /// The TCP connection to the web server could not be made.
    #[error("{device} unreachable: cannot connect to HTTP port {port} for {request}: {source}")]
    Connect {
        device: DeviceLabel,
        port: u16,
        request: String,
        source: std::io::Error,
    },

    /// Any other socket failure while a request was under way.
    #[error("{device}: {request} failed: {source}")]
    Io {
        device: DeviceLabel,
        request: String,
        source: std::io::Error,
    },

    /// The web server answered with a status other than 2xx or 401.
    #[error("{device} refused {request}: HTTP {status} {reason}")]
    HttpStatus {
        device: DeviceLabel,
        request: String,
        status: u16,
        reason: String,
    },

    /// The reply could not be understood.
    #[error("{device} answered {request} with a malformed reply: {detail}")]
    Malformed {
        device: DeviceLabel,
        request: String,
        detail: String,
    },

    /// A UDP request was answered with a non-zero error code.
    #[error("{device} rejected {request}: error code {code}")]
    Rejected {
        device: DeviceLabel,
        request: String,
        code: u8,
    },

    /// The request needs the device's MAC address and none is known.
    #[error("{device}: {request} needs the device's MAC address; give one or scan first")]
    MacUnknown {
        device: DeviceLabel,
        request: String,
    },

    /// A value given for a setting is not one the device accepts.
    #[error("invalid value for {key}: {reason}")]
    InvalidSetting { key: String, reason: String },

    /// A textual value (MAC, login, relay mode…) could not be parsed.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidValue {
        what: &'static str,
        value: String,
        reason: String,
    },

    /// `/etc/bnfos.conf` has a line the `bnfos` tool would reject.
    #[error("{path}:{line}: {reason}")]
    ConfSyntax {
        path: String,
        line: usize,
        reason: String,
    },

    /// A device name was asked for that `/etc/bnfos.conf` does not hold.
    #[error("no configuration for device {name} found in {path}")]
    ConfDeviceMissing { name: String, path: String },

    /// `/etc/bnfos.conf` could not be read or written.
    #[error("{path}: {source}")]
    ConfIo {
        path: String,
        source: std::io::Error,
    },
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn fos1() -> DeviceLabel {
        DeviceLabel {
            name: Some("fos1".into()),
            address: Ipv4Addr::new(10, 0, 0, 5),
        }
    }

    #[test]
    fn bad_credentials_names_the_device() {
        let e = Error::BadCredentials {
            device: fos1(),
            request: "GET /config.txt".into(),
        };
        assert!(e
            .to_string()
            .starts_with("bad credentials for fos1 (10.0.0.5)"));
    }

    #[test]
    fn no_reply_says_how_long_it_waited() {
        let e = Error::NoReply {
            device: fos1(),
            request: "kick".into(),
            waited: Seconds(Duration::from_secs(2)),
        };
        assert_eq!(
            e.to_string(),
            "fos1 (10.0.0.5) unreachable: no reply after 2.0 s to kick"
        );
    }
}
