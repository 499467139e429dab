//! The listeners: HTTPS with the box's certificate, and plain HTTP that
//! only sends the browser to HTTPS. Each request carries its connection's
//! local address, which tells the wizard where the browser reached the box.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::app::Conn;
use crate::secrets::Identity;

/// Slowest TLS handshake or request head waited for.
const HANDSHAKE: Duration = Duration::from_secs(10);

pub fn tls_acceptor(id: &Identity) -> anyhow::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(id.certs.clone(), id.key.clone_key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn serve_conn<S>(io: S, conn: Conn, router: Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(conn);
        router.clone().oneshot(req)
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE)
        .serve_connection(TokioIo::new(io), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(peer = %conn.peer, error = %e, "connection ended");
    }
}

fn addrs(stream: &TcpStream) -> Option<Conn> {
    Some(Conn {
        local: stream.local_addr().ok()?,
        peer: stream.peer_addr().ok()?,
    })
}

/// Serves `router` over TLS on `listener` until the process ends.
pub async fn https(listener: TcpListener, acceptor: TlsAcceptor, router: Router) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(conn) = addrs(&stream) else { continue };
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => serve_conn(tls, conn, router).await,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %conn.peer, error = %e, "TLS handshake failed")
                }
                Err(_) => tracing::debug!(peer = %conn.peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Serves `router` in plain HTTP on `listener` until the process ends.
pub async fn http(listener: TcpListener, router: Router) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(conn) = addrs(&stream) else { continue };
        let router = router.clone();
        tokio::spawn(serve_conn(stream, conn, router));
    }
}

/// Binds `addr`, saying which address failed.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))
}
