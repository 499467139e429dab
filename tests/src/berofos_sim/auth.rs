//! The web server's login check: Basic (RFC 7617) or Digest (RFC 7616 with
//! MD5 and qop=auth, the RFC 2617 form), written from the RFCs and
//! independent of the client's crates.
//!
//! Digest nonces are issued per challenge and remembered; an answer must
//! name a nonce this device issued, echo its opaque value, name the request
//! target it is sent with, count each use of a nonce upwards (no replay) and
//! carry the MD5 response the password gives. An answer that is right but
//! names a nonce the device forgot (too old, or never issued) gets a new
//! challenge with `stale=true`, as RFC 7616 §3.3 says.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};

/// How the web server asks for the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// `WWW-Authenticate: Basic realm="berofos"`.
    #[default]
    Basic,
    /// `WWW-Authenticate: Digest realm="berofos", qop="auth", algorithm=MD5, …`.
    Digest,
}

impl std::str::FromStr for Scheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "basic" => Ok(Scheme::Basic),
            "digest" => Ok(Scheme::Digest),
            _ => Err(format!("{s:?}: expected basic or digest")),
        }
    }
}

/// The realm the device names in its challenges.
pub const REALM: &str = "berofos";
/// How long an issued nonce is accepted.
const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// At most this many nonces are remembered; the oldest is forgotten first.
const MAX_NONCES: usize = 256;

/// What the check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// 401; `stale` when only the nonce was out of date.
    Denied {
        stale: bool,
    },
}

/// One issued nonce.
struct Nonce {
    issued: Instant,
    /// The highest `nc` accepted so far (0: none yet).
    last_count: u32,
}

/// The login check of one device.
pub struct Guard {
    scheme: Scheme,
    opaque: String,
    nonces: Mutex<HashMap<String, Nonce>>,
    issued: AtomicU64,
    seed: RandomState,
}

impl Guard {
    pub fn new(scheme: Scheme) -> Guard {
        let seed = RandomState::new();
        let opaque = md5_hex(&format!("opaque:{}", seed.hash_one(0u8)));
        Guard {
            scheme,
            opaque,
            nonces: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
            seed,
        }
    }

    /// The `WWW-Authenticate` value of a 401; a Digest one carries a fresh nonce.
    pub fn challenge(&self, stale: bool) -> String {
        match self.scheme {
            Scheme::Basic => format!("Basic realm=\"{REALM}\""),
            Scheme::Digest => {
                let nonce = self.issue();
                let stale = if stale { ", stale=true" } else { "" };
                format!(
                    "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\", opaque=\"{}\"{stale}",
                    self.opaque
                )
            }
        }
    }

    /// Checks the `Authorization` header of `GET target` against the login.
    pub fn check(
        &self,
        method: &str,
        target: &str,
        authorization: Option<&str>,
        user: &str,
        password: &str,
    ) -> Verdict {
        let denied = Verdict::Denied { stale: false };
        let Some(header) = authorization else {
            return denied;
        };
        let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header, ""));
        match self.scheme {
            Scheme::Basic if scheme.eq_ignore_ascii_case("basic") => {
                let pair = decode_base64(rest.trim());
                if pair.is_some_and(|pair| pair == format!("{user}:{password}")) {
                    Verdict::Allowed
                } else {
                    denied
                }
            }
            Scheme::Digest if scheme.eq_ignore_ascii_case("digest") => {
                self.check_digest(method, target, rest, user, password)
            }
            _ => denied,
        }
    }

    fn check_digest(
        &self,
        method: &str,
        target: &str,
        params: &str,
        user: &str,
        password: &str,
    ) -> Verdict {
        let denied = Verdict::Denied { stale: false };
        let Some(p) = parse_params(params) else {
            return denied;
        };
        let get = |k: &str| p.get(k).map(String::as_str);
        let (Some(nonce), Some(uri), Some(response), Some(cnonce), Some(nc)) = (
            get("nonce"),
            get("uri"),
            get("response"),
            get("cnonce"),
            get("nc"),
        ) else {
            return denied;
        };
        let algorithm_ok = get("algorithm").is_none_or(|a| a.eq_ignore_ascii_case("MD5"));
        let fields_ok = get("username") == Some(user)
            && get("realm") == Some(REALM)
            && get("qop") == Some("auth")
            && get("opaque") == Some(self.opaque.as_str())
            && uri == target
            && algorithm_ok;
        let Some(count) = parse_nc(nc) else {
            return denied;
        };
        if !fields_ok {
            return denied;
        }
        let ha1 = md5_hex(&format!("{user}:{REALM}:{password}"));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let expected = md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        if !response.eq_ignore_ascii_case(&expected) {
            return denied;
        }
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        nonces.retain(|_, n| now.duration_since(n.issued) < NONCE_LIFETIME);
        match nonces.get_mut(nonce) {
            None => Verdict::Denied { stale: true },
            Some(n) if count <= n.last_count => denied,
            Some(n) => {
                n.last_count = count;
                Verdict::Allowed
            }
        }
    }

    /// A new nonce, remembered until it ages out.
    fn issue(&self) -> String {
        let serial = self.issued.fetch_add(1, Ordering::Relaxed);
        let nonce = md5_hex(&format!("nonce:{serial}:{}", self.seed.hash_one(serial)));
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        if nonces.len() >= MAX_NONCES {
            let oldest = nonces
                .iter()
                .min_by_key(|(_, n)| n.issued)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                nonces.remove(&oldest);
            }
        }
        nonces.insert(
            nonce.clone(),
            Nonce {
                issued: Instant::now(),
                last_count: 0,
            },
        );
        nonce
    }

    /// Forgets every nonce issued so far, as a device does when they age out.
    #[cfg(test)]
    fn forget_nonces(&self) {
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// `nc`: exactly eight hex digits (RFC 7616 §3.4).
fn parse_nc(nc: &str) -> Option<u32> {
    if nc.len() != 8 {
        return None;
    }
    u32::from_str_radix(nc, 16).ok()
}

fn md5_hex(text: &str) -> String {
    format!("{:x}", Md5::digest(text.as_bytes()))
}

/// `key=value, key="quoted \"value\""…` into a map with lower-case keys;
/// `None` when the list is not well formed.
fn parse_params(text: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains([' ', ',', '"']) {
            return None;
        }
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end?..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.insert(key, value);
        let tail = tail.trim_start();
        rest = match tail.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if tail.is_empty() => tail,
            None => return None,
        };
    }
    Some(out)
}

/// Standard base64 (padding optional); `None` on any other character.
fn decode_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().take_while(|&c| c != b'=') {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_basic_credentials() {
        assert_eq!(
            decode_base64("YWRtaW46Zm9vYmFy").as_deref(),
            Some("admin:foobar")
        );
        assert_eq!(decode_base64("Zm8=").as_deref(), Some("fo"));
        assert_eq!(decode_base64("Zg").as_deref(), Some("f"));
        assert_eq!(decode_base64("!!"), None);
    }

    #[test]
    fn md5_matches_rfc_1321() {
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn the_rfc_2617_example_response_checks_out() {
        // RFC 2617 §3.5: Mufasa / "Circle Of Life", GET /dir/index.html.
        let ha1 = md5_hex("Mufasa:testrealm@host.com:Circle Of Life");
        let ha2 = md5_hex("GET:/dir/index.html");
        let response = md5_hex(&format!(
            "{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}"
        ));
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }

    /// The answer a correct client gives to `challenge`, with our own hashing.
    fn answer(challenge: &str, user: &str, password: &str, uri: &str, nc: u32) -> String {
        let p = parse_params(challenge.strip_prefix("Digest ").unwrap()).unwrap();
        let (nonce, opaque) = (&p["nonce"], &p["opaque"]);
        let nc = format!("{nc:08x}");
        let ha1 = md5_hex(&format!("{user}:{REALM}:{password}"));
        let ha2 = md5_hex(&format!("GET:{uri}"));
        let response = md5_hex(&format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"));
        format!(
            "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             qop=auth, nc={nc}, cnonce=\"c0ffee\", response=\"{response}\", opaque=\"{opaque}\", algorithm=MD5"
        )
    }

    #[test]
    fn digest_accepts_the_right_answer_once_per_count() {
        let guard = Guard::new(Scheme::Digest);
        let challenge = guard.challenge(false);
        let ok = answer(&challenge, "admin", "pw", "/config.txt", 1);
        let check = |h: &str, uri: &str| guard.check("GET", uri, Some(h), "admin", "pw");
        assert_eq!(check(&ok, "/config.txt"), Verdict::Allowed);
        assert_eq!(
            check(&ok, "/config.txt"),
            Verdict::Denied { stale: false },
            "a replayed count is refused"
        );
        let next = answer(&challenge, "admin", "pw", "/config.txt", 2);
        assert_eq!(check(&next, "/config.txt"), Verdict::Allowed);
        let moved = answer(&challenge, "admin", "pw", "/config.txt", 3);
        assert_eq!(
            check(&moved, "/?cmd=4&mode=1"),
            Verdict::Denied { stale: false },
            "the answer names another target"
        );
        let wrong = answer(&challenge, "admin", "guess", "/config.txt", 4);
        assert_eq!(
            check(&wrong, "/config.txt"),
            Verdict::Denied { stale: false }
        );
        let basic = "Basic YWRtaW46cHc="; // admin:pw
        assert_eq!(
            check(basic, "/config.txt"),
            Verdict::Denied { stale: false }
        );
    }

    #[test]
    fn a_forgotten_nonce_is_stale() {
        let guard = Guard::new(Scheme::Digest);
        let challenge = guard.challenge(false);
        guard.forget_nonces();
        let late = answer(&challenge, "admin", "pw", "/", 1);
        assert_eq!(
            guard.check("GET", "/", Some(&late), "admin", "pw"),
            Verdict::Denied { stale: true }
        );
        assert!(guard.challenge(true).ends_with(", stale=true"));
    }

    #[test]
    fn params_take_quotes_and_escapes() {
        let p = parse_params(r#"a=1, b="x, \"y\"",c="""#).unwrap();
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "x, \"y\"");
        assert_eq!(p["c"], "");
        assert!(parse_params(r#"a="open"#).is_none());
    }
}
