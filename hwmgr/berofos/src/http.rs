//! HTTP to the device's web server: one `GET` through `ureq`, every attempt
//! within one overall deadline, and the login given the way `bnfos` gives it
//! with libcurl's any-auth: first without credentials, then, on a 401,
//! answering the challenge the server made (Digest when it offers Digest,
//! Basic otherwise).

use std::io;
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};

use crate::device::Login;

/// The device's web server port.
pub const DEFAULT_PORT: u16 = 80;
/// Replies larger than this are refused (config.txt is about 1 KiB).
const MAX_REPLY: u64 = 1 << 20;
/// What the requests call themselves.
const USER_AGENT: &str = "telbox-berofos";

/// A reply with its body read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub body: String,
}

/// Why a request got no usable reply.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The TCP connection could not be made.
    Connect(io::Error),
    /// The deadline passed before the reply was complete.
    TimedOut,
    /// The connection broke.
    Io(io::Error),
    /// The bytes were not an HTTP reply, or the challenge could not be answered.
    Malformed(String),
}

/// How a 401 asks for the login.
#[derive(Debug, Clone, PartialEq)]
enum Challenge {
    Digest(Box<digest_auth::WwwAuthenticateHeader>),
    Basic,
}

/// One reply before its body is read: what the login logic looks at.
struct Reply {
    response: ureq::http::Response<ureq::Body>,
    challenge: Option<Result<Challenge, String>>,
}

/// `GET path` from `addr`, all attempts within `timeout`.
pub(crate) fn get(
    addr: SocketAddrV4,
    path: &str,
    login: Option<&Login>,
    timeout: Duration,
) -> Result<Response, Failure> {
    let deadline = Instant::now() + timeout;
    let agent = agent();
    let url = format!("http://{addr}{path}");
    let mut reply = send(&agent, &url, None, deadline)?;
    let Some(login) = login else {
        return read(reply, deadline);
    };
    // A first answer to a Digest challenge, and one more if the server says
    // the nonce went stale; Basic is given once.
    for _ in 0..2 {
        if reply.response.status() != 401 {
            break;
        }
        let authorization = match reply.challenge.take() {
            Some(Err(detail)) => return Err(Failure::Malformed(detail)),
            Some(Ok(Challenge::Digest(mut prompt))) => digest(&mut prompt, login, path)?,
            Some(Ok(Challenge::Basic)) | None => basic(login),
        };
        let basic_sent = authorization.starts_with("Basic ");
        reply = send(&agent, &url, Some(&authorization), deadline)?;
        let stale = matches!(&reply.challenge, Some(Ok(Challenge::Digest(p))) if p.stale);
        if basic_sent || !stale {
            break;
        }
    }
    read(reply, deadline)
}

/// An agent for the device: no proxy (a Berofos sits on the local network,
/// whatever the environment says), no redirects, HTTP errors as replies.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(USER_AGENT)
        .build()
        .new_agent()
}

/// Sends one request with what is left of the deadline.
fn send(
    agent: &ureq::Agent,
    url: &str,
    authorization: Option<&str>,
    deadline: Instant,
) -> Result<Reply, Failure> {
    let left = time_left(deadline)?;
    let mut request = agent.get(url);
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    let response = request
        .config()
        .timeout_global(Some(left))
        .build()
        .call()
        .map_err(failure)?;
    let challenge = (response.status() == 401)
        .then(|| challenge(&response))
        .flatten();
    Ok(Reply {
        response,
        challenge,
    })
}

/// Reads the body of the final reply.
fn read(reply: Reply, deadline: Instant) -> Result<Response, Failure> {
    time_left(deadline)?;
    let mut response = reply.response;
    let status = response.status();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY)
        .read_to_vec()
        .map_err(failure)?;
    Ok(Response {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default().to_string(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn time_left(deadline: Instant) -> Result<Duration, Failure> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Failure::TimedOut)
    } else {
        Ok(left)
    }
}

/// The strongest scheme the 401 offers: Digest over Basic, as libcurl picks.
fn challenge(response: &ureq::http::Response<ureq::Body>) -> Option<Result<Challenge, String>> {
    let offers: Vec<&str> = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .collect();
    let scheme_is = |offer: &str, scheme: &str| {
        offer
            .get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    };
    if let Some(offer) = offers.iter().find(|o| scheme_is(o, "Digest")) {
        // The parser wants the scheme name spelt as the RFC spells it.
        let params = &offer["Digest".len()..];
        return Some(
            digest_auth::parse(&format!("Digest{params}"))
                .map(|p| Challenge::Digest(Box::new(p)))
                .map_err(|e| format!("cannot answer the Digest challenge: {e}")),
        );
    }
    offers
        .iter()
        .any(|o| scheme_is(o, "Basic"))
        .then_some(Ok(Challenge::Basic))
}

/// `Authorization: Digest …` for `GET path` (RFC 7616; MD5 and qop=auth on a Berofos).
fn digest(
    prompt: &mut digest_auth::WwwAuthenticateHeader,
    login: &Login,
    path: &str,
) -> Result<String, Failure> {
    let context = digest_auth::AuthContext::new(login.user.as_str(), login.password.expose(), path);
    prompt
        .respond(&context)
        .map(|answer| answer.to_header_string())
        .map_err(|e| Failure::Malformed(format!("cannot answer the Digest challenge: {e}")))
}

/// `Authorization: Basic …` (RFC 7617).
fn basic(login: &Login) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(login.expose());
    format!("Basic {encoded}")
}

/// What a transport error means for the device.
fn failure(error: ureq::Error) -> Failure {
    match error {
        ureq::Error::Timeout(_) => Failure::TimedOut,
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::TimedOut,
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable => Failure::Connect(e),
            _ => Failure::Io(e),
        },
        ureq::Error::ConnectionFailed => Failure::Connect(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection failed",
        )),
        ureq::Error::BodyExceedsLimit(limit) => {
            Failure::Malformed(format!("reply longer than {limit} bytes"))
        }
        other => Failure::Malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};
    use std::thread;

    /// A one-shot server: answers each connection with the next reply and
    /// hands back the request heads it read.
    fn serve(replies: Vec<&'static str>) -> (SocketAddrV4, thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = match listener.local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            _ => unreachable!(),
        };
        let server = thread::spawn(move || {
            let mut heads = Vec::new();
            for reply in replies {
                let (mut stream, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).unwrap();
                    assert!(n > 0, "request cut short");
                    head.extend_from_slice(&buf[..n]);
                }
                heads.push(String::from_utf8_lossy(&head).into_owned());
                stream.write_all(reply.as_bytes()).unwrap();
            }
            heads
        });
        (addr, server)
    }

    const TIMEOUT: Duration = Duration::from_secs(2);

    #[test]
    fn reads_a_body_that_ends_with_the_connection() {
        // HTTP/1.0 with no Content-Length: the body is all bytes until close.
        let (addr, server) = serve(vec!["HTTP/1.0 200 OK\r\n\r\nbnfos_confmap_magic=0.1\n"]);
        let reply = get(addr, "/config.txt", None, TIMEOUT).unwrap();
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "bnfos_confmap_magic=0.1\n")
        );
        let heads = server.join().unwrap();
        assert!(
            heads[0].starts_with("GET /config.txt HTTP/1.1\r\n"),
            "{heads:?}"
        );
        assert!(heads[0].contains("user-agent: telbox-berofos"), "{heads:?}");
        assert!(!heads[0].to_ascii_lowercase().contains("authorization"));
    }

    #[test]
    fn a_basic_challenge_is_answered_with_basic() {
        let (addr, server) = serve(vec![
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ]);
        let login = Login::new("admin", "foobar");
        let reply = get(addr, "/", Some(&login), TIMEOUT).unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
        let heads = server.join().unwrap();
        assert!(!heads[0].to_ascii_lowercase().contains("authorization"));
        assert!(
            heads[1].contains("authorization: Basic YWRtaW46Zm9vYmFy\r\n"),
            "{heads:?}"
        );
    }

    #[test]
    fn a_digest_challenge_is_answered_with_digest() {
        let (addr, server) = serve(vec![
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"berofos\"\r\n\
             WWW-Authenticate: Digest realm=\"berofos\", qop=\"auth\", nonce=\"abc123\", algorithm=MD5\r\n\
             Content-Length: 0\r\n\r\n",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ]);
        let login = Login::new("admin", "foobar");
        let reply = get(addr, "/?cmd=4&mode=1", Some(&login), TIMEOUT).unwrap();
        assert_eq!(reply.status, 200);
        let heads = server.join().unwrap();
        let auth = heads[1]
            .lines()
            .find_map(|l| l.strip_prefix("authorization: "))
            .expect("an Authorization header");
        assert!(auth.starts_with("Digest "), "{auth}");
        for part in [
            "username=\"admin\"",
            "realm=\"berofos\"",
            "nonce=\"abc123\"",
            "uri=\"/?cmd=4&mode=1\"",
            "qop=auth",
            "nc=00000001",
        ] {
            assert!(auth.contains(part), "{part} missing in {auth}");
        }
        assert!(!auth.contains("foobar"), "{auth}");
    }

    #[test]
    fn a_stale_nonce_is_answered_once_more() {
        let (addr, server) = serve(vec![
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"b\", qop=\"auth\", nonce=\"old\"\r\n\
             Content-Length: 0\r\n\r\n",
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"b\", qop=\"auth\", nonce=\"new\", stale=true\r\n\
             Content-Length: 0\r\n\r\n",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ]);
        let login = Login::new("admin", "foobar");
        let reply = get(addr, "/", Some(&login), TIMEOUT).unwrap();
        assert_eq!(reply.status, 200);
        let heads = server.join().unwrap();
        assert!(heads[1].contains("nonce=\"old\""), "{heads:?}");
        assert!(heads[2].contains("nonce=\"new\""), "{heads:?}");
    }

    #[test]
    fn a_refused_digest_answer_is_the_reply() {
        let challenge = "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"b\", qop=\"auth\", nonce=\"n\"\r\n\
             Content-Length: 0\r\n\r\n";
        let (addr, server) = serve(vec![challenge, challenge]);
        let login = Login::new("admin", "guess");
        let reply = get(addr, "/", Some(&login), TIMEOUT).unwrap();
        assert_eq!(reply.status, 401);
        assert_eq!(server.join().unwrap().len(), 2, "no third try");
    }

    #[test]
    fn without_a_login_a_401_is_the_reply() {
        let (addr, server) = serve(vec![
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
        ]);
        let reply = get(addr, "/config.txt", None, TIMEOUT).unwrap();
        assert_eq!((reply.status, reply.reason.as_str()), (401, "Unauthorized"));
        assert_eq!(server.join().unwrap().len(), 1);
    }

    #[test]
    fn an_unanswerable_digest_challenge_is_malformed() {
        let (addr, _server) = serve(vec![
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Digest nonce=\"n\"\r\nContent-Length: 0\r\n\r\n",
        ]);
        let login = Login::new("admin", "foobar");
        let err = get(addr, "/", Some(&login), TIMEOUT).unwrap_err();
        assert!(
            matches!(&err, Failure::Malformed(d) if d.contains("Digest")),
            "{err:?}"
        );
    }
}
