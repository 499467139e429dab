//! Identity of a device: its MAC address and the HTTP login that guards it.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::error::Error;

/// A device MAC address, shown the way `bnfos` shows it: `00:19:32:00:12:1D`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// The six bytes, in wire order.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl FromStr for Mac {
    type Err = Error;

    /// Parses `XX:XX:XX:XX:XX:XX` (either case), as `bnfos -m` does.
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidValue {
            what: "MAC address",
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = s.split(':').collect();
        if s.len() != 17 || parts.len() != 6 {
            return Err(invalid("expected XX:XX:XX:XX:XX:XX"));
        }
        let mut mac = [0u8; 6];
        for (byte, part) in mac.iter_mut().zip(parts) {
            *byte = u8::from_str_radix(part, 16)
                .map_err(|_| invalid("each part must be two hex digits"))?;
        }
        Ok(Mac(mac))
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A password, kept out of every `Debug` and `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Password(password.into())
    }

    /// The clear text, for the wire and for `/etc/bnfos.conf` only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The `user:password` pair the device's web server asks for.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// User name (the Wazo documentation uses `admin`).
    pub user: String,
    /// The password; only [`Password::expose`] reveals it.
    pub password: Password,
}

impl Login {
    /// A login from its two parts.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Login {
            user: user.into(),
            password: Password::new(password),
        }
    }

    /// `user:password` in clear, as `bnfos -u` and `login =` take it.
    pub fn expose(&self) -> String {
        format!("{}:{}", self.user, self.password.expose())
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({}:***)", self.user)
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:***", self.user)
    }
}

impl FromStr for Login {
    type Err = Error;

    /// Parses `user:password`; the password may itself hold colons.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Login::new(user, password)),
            _ => Err(Error::InvalidValue {
                what: "login",
                value: "***".into(),
                reason: "expected user:password".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_round_trips_in_upper_case() {
        let mac: Mac = "00:19:32:00:12:1d".parse().unwrap();
        assert_eq!(mac.to_string(), "00:19:32:00:12:1D");
        assert!("00:19:32:00:12".parse::<Mac>().is_err());
        assert!("00:19:32:00:12:GG".parse::<Mac>().is_err());
    }

    #[test]
    fn login_hides_its_password() {
        let login: Login = "admin:s3cret:x".parse().unwrap();
        assert_eq!(login.password.expose(), "s3cret:x");
        assert!(!format!("{login:?} {login}").contains("s3cret"));
        let err = "s3cret".parse::<Login>().unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
