//! A small HTTP/1.0 client: one `GET`, optional Basic authorization, one
//! overall deadline covering connect, send and the whole reply.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

use crate::device::Login;

/// The device's web server port.
pub const DEFAULT_PORT: u16 = 80;
/// Replies larger than this are refused (config.txt is about 1 KiB).
const MAX_REPLY: usize = 1 << 20;

/// A parsed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
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
    /// The bytes were not an HTTP reply.
    Malformed(String),
}

/// `GET path` from `addr`, all within `timeout`.
pub(crate) fn get(
    addr: SocketAddrV4,
    path: &str,
    login: Option<&Login>,
    timeout: Duration,
) -> Result<Response, Failure> {
    let deadline = Instant::now() + timeout;
    let mut stream =
        TcpStream::connect_timeout(&SocketAddr::V4(addr), timeout).map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::TimedOut,
            _ => Failure::Connect(e),
        })?;
    let request = request_text(addr, path, login);
    set_deadline(&stream, deadline)?;
    stream.write_all(request.as_bytes()).map_err(io_failure)?;
    let raw = read_until_close(&mut stream, deadline)?;
    parse_response(&raw)
}

fn request_text(addr: SocketAddrV4, path: &str, login: Option<&Login>) -> String {
    let mut text = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: telbox-berofos\r\nConnection: close\r\n"
    );
    if let Some(login) = login {
        text.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(login.expose().as_bytes())
        ));
    }
    text.push_str("\r\n");
    text
}

fn io_failure(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::TimedOut,
        _ => Failure::Io(e),
    }
}

/// Sets the socket's read and write timeouts to what is left before `deadline`.
fn set_deadline(stream: &TcpStream, deadline: Instant) -> Result<(), Failure> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Failure::TimedOut);
    }
    stream.set_read_timeout(Some(left)).map_err(Failure::Io)?;
    stream.set_write_timeout(Some(left)).map_err(Failure::Io)
}

fn read_until_close(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, Failure> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        set_deadline(stream, deadline)?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(e)),
        }
        if raw.len() > MAX_REPLY {
            return Err(Failure::Malformed(format!(
                "reply longer than {MAX_REPLY} bytes"
            )));
        }
    }
}

/// Splits status line, headers and body.
fn parse_response(raw: &[u8]) -> Result<Response, Failure> {
    let (head, body) = split_head(raw)
        .ok_or_else(|| Failure::Malformed("no end of headers in the reply".into()))?;
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let (status, reason) = parse_status_line(status_line)
        .ok_or_else(|| Failure::Malformed(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = match content_length(&headers) {
        Some(n) if n <= body.len() => &body[..n],
        _ => body,
    };
    Ok(Response {
        status,
        reason,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    })
}

fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(i) = raw.windows(len).position(|w| w == sep) {
            return Some((&raw[..i], &raw[i + len..]));
        }
    }
    None
}

fn parse_status_line(line: &str) -> Option<(u16, String)> {
    let mut parts = line.trim_end().splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    Some((status, parts.next().unwrap_or_default().to_string()))
}

fn content_length(headers: &[(String, String)]) -> Option<usize> {
    headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3F) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("admin:foobar", "YWRtaW46Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn parses_a_reply_with_length() {
        let raw = b"HTTP/1.0 401 Unauthorized\r\nContent-Length: 2\r\nX: y\r\n\r\nabEXTRA";
        let r = parse_response(raw).unwrap();
        assert_eq!(
            (r.status, r.reason.as_str(), r.body.as_str()),
            (401, "Unauthorized", "ab")
        );
        assert!(matches!(
            parse_response(b"garbage"),
            Err(Failure::Malformed(_))
        ));
    }

    #[test]
    fn request_carries_basic_auth() {
        let addr = "127.0.0.1:80".parse().unwrap();
        let text = request_text(addr, "/config.txt", Some(&Login::new("admin", "foobar")));
        assert!(text.starts_with("GET /config.txt HTTP/1.0\r\n"));
        assert!(text.contains("Authorization: Basic YWRtaW46Zm9vYmFy\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }
}
