//! The HTTP/1.1 server loop of the mocks and the stand, with its limits against slow and
//! greedy clients ([`HttpLimits`]): a connection must send a request's whole header within
//! the header-read timeout (else it is closed); a header larger than the header limit is
//! answered 431; past the cap of open connections a new one is answered 503
//! `too_many_connections` and closed at once. A body declared larger than the body limit is
//! refused with 413 from its `Content-Length` before it is read, and without `100 Continue`
//! (see [`super::http::JsonErrors`]).

use super::App;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Layer;

/// The server's limits. Defaults: a request's header within 10 s, at most 16 KiB of header,
/// at most 10,000 connections open at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// The time a client has to send a request's whole header (from its first byte, or from
    /// the connection's opening); then the connection is closed.
    pub header_timeout_ms: u64,
    /// The largest request header, in bytes (at least 8 KiB); a larger one is answered 431.
    pub header_max_bytes: usize,
    /// Connections open at once; a connection past it is answered 503 and closed.
    pub connections_max: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout_ms: 10_000,
            header_max_bytes: 16 * 1024,
            connections_max: 10_000,
        }
    }
}

/// The smallest read buffer hyper accepts.
const HEADER_MIN_BYTES: usize = 8 * 1024;

/// The answer to a connection past the cap, written at once and the connection closed.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 111\r\n\
\r\n\
{\"error\":{\"code\":\"too_many_connections\",\"message\":\"the server has too many open connections; try again later\"}}";

/// Serves `router` on `listener` over HTTP/1.1 with keep-alive and `TCP_NODELAY`, within the
/// default [`HttpLimits`], until `shutdown` fires (see [`serve_router_with`]).
pub async fn serve_router(
    listener: TcpListener,
    router: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_with(listener, router, HttpLimits::default(), shutdown).await
}

/// Serves `router` on `listener` over HTTP/1.1 with keep-alive and `TCP_NODELAY` within
/// `limits` until `shutdown` fires; then it stops accepting, closes idle connections, lets
/// requests in flight finish, and returns. Each request carries the client's address
/// ([`ConnectInfo`]). (hyper's own HTTP/1 connection, as a bare hyper server has it: no
/// protocol sniffing per connection, no per-connection shutdown future polled on every wake.)
pub async fn serve_router_with(
    listener: TcpListener,
    router: App,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let open = Arc::new(Semaphore::new(limits.connections_max.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms.max(1)))
        .max_buf_size(limits.header_max_bytes.max(HEADER_MIN_BYTES));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, a connection reset before it was accepted: the
                // listener itself is fine; wait a moment rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            // A fresh socket's send buffer takes the short answer without waiting.
            let _ = stream.try_write(TOO_MANY);
            tracing::debug!(%peer, "too many connections; one refused");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = axum::Extension(ConnectInfo(peer)).layer(router.clone());
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_one_well_formed_answer() {
        let text = std::str::from_utf8(TOO_MANY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let declared: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(declared, body.len());
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "too_many_connections");
    }
}
