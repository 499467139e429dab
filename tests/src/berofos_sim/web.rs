//! The device's web server: HTTP/1.0, a Basic or Digest login when password
//! protection is on, `GET /config.txt` and `GET /?cmd=N&…`.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::auth::Verdict;
use super::form;
use super::Shared;

/// Requests larger than this are cut off.
const MAX_REQUEST: usize = 8192;

/// Accepts connections until the simulator stops.
pub fn serve(listener: TcpListener, shared: Arc<Shared>) {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                thread::spawn(move || handle(stream, &shared));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A request line and the one header the device cares about.
struct Request {
    method: String,
    target: String,
    authorization: Option<String>,
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    if !shared.state().powered {
        // No power, no answer: the client waits until it gives up.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = stream.read(&mut [0u8; 1]);
        return;
    }
    let (status, extra, body) = respond(&request, shared);
    let reply = format!(
        "HTTP/1.0 {status}\r\nServer: berofos-sim\r\nContent-Type: text/plain\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") && !raw.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 || raw.len() > MAX_REQUEST {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw);
    let mut lines = text.lines();
    let mut parts = lines.next()?.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    Some(Request {
        method,
        target,
        authorization,
    })
}

/// Status line text, extra header lines and body.
fn respond(request: &Request, shared: &Shared) -> (&'static str, String, String) {
    if request.method != "GET" {
        return ("405 Method Not Allowed", String::new(), String::new());
    }
    let mut device = shared.state();
    if let Some(header) = &request.authorization {
        let scheme = header.split_whitespace().next().unwrap_or_default();
        device
            .counters
            .authorization_schemes
            .push(scheme.to_string());
    }
    if device.password_protection {
        let verdict = shared.guard.check(
            &request.method,
            &request.target,
            request.authorization.as_deref(),
            &device.user,
            &device.password,
        );
        if let Verdict::Denied { stale } = verdict {
            device.counters.unauthorized += 1;
            let challenge = format!("WWW-Authenticate: {}\r\n", shared.guard.challenge(stale));
            return ("401 Unauthorized", challenge, "Unauthorized\n".into());
        }
    }
    device.counters.http_requests.push(request.target.clone());
    let now = Instant::now();
    device.tick(now);
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    match (path, query) {
        ("/config.txt", _) => (
            "200 OK",
            String::new(),
            form::config_txt(&device, &shared.layout, now),
        ),
        ("/", "") => ("200 OK", String::new(), "berofos simulator\n".into()),
        ("/", query) => match form::apply(&mut device, &decode_query(query), now) {
            Ok(()) => ("200 OK", String::new(), "OK\n".into()),
            Err(reason) => ("400 Bad Request", String::new(), format!("{reason}\n")),
        },
        _ => ("404 Not Found", String::new(), "Not Found\n".into()),
    }
}

/// Splits `a=b&c=d` and undoes percent-encoding (and `+` for space).
fn decode_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_unescaped() {
        let q = decode_query("cmd=3&apwd=p%26ss%3D1&dn=a+b");
        assert_eq!(q[1], ("apwd".to_string(), "p&ss=1".to_string()));
        assert_eq!(q[2].1, "a b");
    }
}
