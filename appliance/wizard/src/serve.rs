//! The listeners: HTTPS with the box's certificate, and plain HTTP that
//! only sends the browser to HTTPS. Each request carries its connection's
//! local address, which tells the wizard where the browser reached the box.
//!
//! The wizard runs on a LAN nobody vouches for, so every connection is
//! bounded: how many one client address and all clients together may hold
//! ([`Conns`]), how long the TLS handshake and each request head may take
//! (an idle connection is closed after the same time), how long and how
//! large a request body may be, how long a whole answer may take, and how
//! long a connection lives before it is closed between two requests.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::app::Conn;
use crate::secrets::Identity;

/// The bounds of every connection and request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The TLS handshake, and each request head from the moment the server
    /// waits for it: a connection idle this long is closed.
    pub header: Duration,
    /// A whole request body, however it is dripped.
    pub body: Duration,
    /// A whole request: its body and the answer.
    pub request: Duration,
    /// The largest request body, bytes; a larger `Content-Length` is refused unread.
    pub body_max: usize,
    /// How long a connection is kept before it is closed between two requests.
    pub lifetime: Duration,
    /// Connections one client address may hold.
    pub conns_per_client: usize,
    /// Connections all clients together may hold (the unit's `LimitNOFILE`
    /// must leave room for them and the server's own files).
    pub conns_total: usize,
}

/// `Strict-Transport-Security` on every HTTPS answer. Browsers note it only
/// for a host name whose certificate they accepted without an error, so it
/// never locks anyone out of the self-signed page.
const HSTS: &str = "max-age=31536000";

/// The largest request head, bytes (hyper allows 400 KiB): 512 connections
/// must not hold 200 MiB of headers on a small box.
const HEAD_MAX: usize = 16 * 1024;

/// How long accepting pauses when the process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(250);

/// The longest a connection past its lifetime may take to finish its request.
const GRACE: Duration = Duration::from_secs(5);

pub fn tls_acceptor(id: &Identity) -> anyhow::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(id.certs.clone(), id.key.clone_key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The connections held, by client address.
pub struct Conns {
    per_client: usize,
    total: usize,
    table: std::sync::Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next: u64,
    count: usize,
    clients: HashMap<IpAddr, Vec<Slot>>,
}

struct Slot {
    id: u64,
    busy: Arc<AtomicBool>,
    close: Arc<Notify>,
}

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its client address holds `--conns-per-client` already.
    PerClient,
    /// All connections are taken, and by clients holding no more than this one.
    Full,
}

/// A connection's place in [`Conns`], given back when dropped.
pub struct Admitted {
    conns: Arc<Conns>,
    client: IpAddr,
    id: u64,
    /// Set while a request is being answered: such a connection is not closed to make room.
    busy: Arc<AtomicBool>,
    /// Notified when the connection must close to make room for another client.
    close: Arc<Notify>,
}

impl Conns {
    pub fn new(per_client: usize, total: usize) -> Arc<Conns> {
        Arc::new(Conns {
            per_client: per_client.max(1),
            total: total.max(1),
            table: std::sync::Mutex::new(Table::default()),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections held now (by everyone, and by `client`).
    pub fn held(&self, client: IpAddr) -> (usize, usize) {
        let t = self.table();
        (t.count, t.clients.get(&client).map_or(0, Vec::len))
    }

    /// A place for a new connection from `client`. When all are taken, the
    /// client holding the most gives up its oldest idle connection, if it
    /// holds more than `client` would: whoever opens many connections loses
    /// them first, and a browser with a few always gets in.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Admitted, Refused> {
        let mut t = self.table();
        let mine = t.clients.get(&client).map_or(0, Vec::len);
        if mine >= self.per_client {
            return Err(Refused::PerClient);
        }
        if t.count >= self.total {
            let heaviest = t
                .clients
                .iter()
                .filter(|(_, slots)| slots.len() > mine + 1)
                .max_by_key(|(_, slots)| slots.len())
                .map(|(ip, _)| *ip)
                .ok_or(Refused::Full)?;
            let slots = t.clients.get_mut(&heaviest).ok_or(Refused::Full)?;
            let idle = slots
                .iter()
                .position(|s| !s.busy.load(Ordering::Acquire))
                .ok_or(Refused::Full)?;
            let evicted = slots.remove(idle);
            if slots.is_empty() {
                t.clients.remove(&heaviest);
            }
            t.count -= 1;
            evicted.close.notify_one();
            tracing::debug!(client = %heaviest, "an idle connection closed to make room");
        }
        t.next += 1;
        let id = t.next;
        let (busy, close) = (Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()));
        t.clients.entry(client).or_default().push(Slot {
            id,
            busy: busy.clone(),
            close: close.clone(),
        });
        t.count += 1;
        Ok(Admitted {
            conns: self.clone(),
            client,
            id,
            busy,
            close,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut t = self.conns.table();
        let Some(slots) = t.clients.get_mut(&self.client) else {
            return;
        };
        let Some(pos) = slots.iter().position(|s| s.id == self.id) else {
            return; // closed to make room: no longer counted
        };
        slots.remove(pos);
        if slots.is_empty() {
            t.clients.remove(&self.client);
        }
        t.count -= 1;
    }
}

/// Marks a connection busy while a request is answered.
struct Busy(Arc<AtomicBool>);

impl Busy {
    fn new(flag: &Arc<AtomicBool>) -> Busy {
        flag.store(true, Ordering::Release);
        Busy(flag.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A short plain-text answer after which the connection is closed.
fn closing(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [(header::CONNECTION, HeaderValue::from_static("close"))],
        message,
    )
        .into_response()
}

/// Reads the body (bounded in size and time), then lets `router` answer.
async fn answer(
    req: hyper::Request<Incoming>,
    conn: Conn,
    router: Router,
    limits: &Limits,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_max as u64) {
        return closing(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        );
    }
    let read = tokio::time::timeout(limits.body, Limited::new(body, limits.body_max).collect());
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return closing(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
        }
        Ok(Err(e)) => {
            tracing::debug!(peer = %conn.peer, error = %e, "reading a request body failed");
            return closing(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
        Err(_) => {
            tracing::debug!(peer = %conn.peer, "a request body came too slowly");
            return closing(
                StatusCode::REQUEST_TIMEOUT,
                "the request body came too slowly",
            );
        }
    };
    parts.extensions.insert(conn);
    let req = axum::http::Request::from_parts(parts, axum::body::Body::from(body));
    match router.oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

async fn serve_conn<S>(
    io: S,
    conn: Conn,
    router: Router,
    limits: Arc<Limits>,
    busy: Arc<AtomicBool>,
    https: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (header_timeout, lifetime) = (limits.header, limits.lifetime);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (router, limits, busy) = (router.clone(), limits.clone(), busy.clone());
        async move {
            let _busy = Busy::new(&busy);
            let mut res = tokio::time::timeout(limits.request, answer(req, conn, router, &limits))
                .await
                .unwrap_or_else(|_| {
                    tracing::warn!(peer = %conn.peer, "a request took too long; answered 503");
                    closing(StatusCode::SERVICE_UNAVAILABLE, "the answer took too long")
                });
            if https {
                res.headers_mut().insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(HSTS),
                );
            }
            Ok::<_, Infallible>(res)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The head timer runs from the moment hyper waits for a request, so a
    // connection idle between requests is closed after it too.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(HEAD_MAX);
    let served = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(served);
    let ended = tokio::select! {
        ended = served.as_mut() => ended,
        _ = tokio::time::sleep(lifetime) => {
            served.as_mut().graceful_shutdown();
            match tokio::time::timeout(GRACE, served.as_mut()).await {
                Ok(ended) => ended,
                Err(_) => return,
            }
        }
    };
    if let Err(e) = ended {
        tracing::debug!(peer = %conn.peer, error = %e, "connection ended");
    }
}

/// One accepted connection: its TLS handshake if any, then its requests,
/// until it ends or must make room for another client.
async fn connection(
    stream: TcpStream,
    conn: Conn,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Arc<Limits>,
    slot: Admitted,
) {
    let busy = slot.busy.clone();
    let work = async {
        match tls {
            Some(acceptor) => {
                match tokio::time::timeout(limits.header, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_conn(tls, conn, router, limits.clone(), busy, true).await,
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %conn.peer, error = %e, "TLS handshake failed")
                    }
                    Err(_) => tracing::debug!(peer = %conn.peer, "TLS handshake timed out"),
                }
            }
            None => serve_conn(stream, conn, router, limits.clone(), busy, false).await,
        }
    };
    tokio::select! {
        () = work => {}
        () = slot.close.notified() => {}
    }
    drop(slot);
}

fn addrs(stream: &TcpStream) -> Option<Conn> {
    Some(Conn {
        local: stream.local_addr().ok()?,
        peer: stream.peer_addr().ok()?,
    })
}

/// Says something at most once per ten seconds, so a flood fills no log.
struct Sparse(Option<Instant>);

impl Sparse {
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self
            .0
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(10))
        {
            return false;
        }
        self.0 = Some(now);
        true
    }
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until the process ends.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Arc<Limits>,
    conns: Arc<Conns>,
) {
    let (mut out_of_files, mut refusing) = (Sparse(None), Sparse(None));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                // Nothing can be accepted until a connection closes; waiting
                // briefly keeps the loop from spinning meanwhile.
                if out_of_files.due() {
                    tracing::warn!(error = %e, "out of file descriptors; accepting again shortly");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
            Err(e) => {
                // One connection's trouble (reset before it was accepted, say).
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let Some(conn) = addrs(&stream) else { continue };
        let client = conn.peer.ip().to_canonical();
        let slot = match conns.admit(client) {
            Ok(slot) => slot,
            Err(why) => {
                if refusing.due() {
                    let (all, theirs) = conns.held(client);
                    tracing::warn!(%client, ?why, all, theirs, "too many connections; closing new ones at once");
                }
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (tls, router, limits) = (tls.clone(), router.clone(), limits.clone());
        tokio::spawn(connection(stream, conn, tls, router, limits, slot));
    }
}

/// Binds `addr`, saying which address failed; for `0.0.0.0`, also the
/// IPv6 unspecified address on the same port when the box has IPv6, so the
/// IPv6 addresses the banner shows answer too.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<Vec<TcpListener>> {
    let v4 = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))?;
    let mut all = vec![v4];
    if addr.ip() == IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED) {
        let v6 = SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), addr.port());
        match bind_v6_only(v6) {
            Ok(l) => all.push(l),
            Err(e) => tracing::info!(%v6, error = %e, "not listening on IPv6"),
        }
    }
    Ok(all)
}

/// A listener on an IPv6 address only (the IPv4 one has its own).
fn bind_v6_only(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v6()?;
    nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::Ipv6V6Only, &true)?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_client_cannot_take_every_connection() {
        let conns = Conns::new(3, 5);
        let (a, b, c) = (ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"));
        let mut held: Vec<Admitted> = (0..3).map(|_| conns.admit(a).unwrap()).collect();
        assert_eq!(conns.admit(a).err(), Some(Refused::PerClient));
        held.push(conns.admit(b).unwrap());
        held.push(conns.admit(b).unwrap());
        assert_eq!(conns.held(a), (5, 3));
        // Full: a, holding the most, gives up an idle connection for c.
        let first = held.remove(0);
        let _c = conns.admit(c).unwrap();
        assert_eq!(conns.held(a), (5, 2));
        assert_eq!(conns.held(c), (5, 1));
        drop(first); // the evicted one ends: nothing counted twice
        assert_eq!(conns.held(a), (5, 2));
        // Now everyone holds two or fewer: b's third waits for a free place.
        assert_eq!(conns.admit(b).err(), Some(Refused::Full));
        drop(held);
        assert_eq!(conns.held(a).0, 1, "only c's connection is left");

        // A connection answering a request is not taken away.
        let conns = Conns::new(5, 3);
        let busy: Vec<Admitted> = (0..3).map(|_| conns.admit(a).unwrap()).collect();
        busy.iter()
            .for_each(|h| h.busy.store(true, Ordering::Release));
        assert_eq!(conns.admit(c).err(), Some(Refused::Full));
        busy[1].busy.store(false, Ordering::Release);
        let _c = conns.admit(c).unwrap();
        assert_eq!(conns.held(a), (3, 2));
    }
}
