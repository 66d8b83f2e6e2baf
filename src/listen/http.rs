//! The HTTP/1.1 listener every front serves its router on: connections, their time limits and their number,
//! so slow or idle clients cannot keep a sale from being served.
//!
//! - A request's head must arrive within `header_timeout` (this also closes idle keep-alive connections), and
//!   its body within `body_timeout` ([`BodyRules`] in the request's extensions, read by [`super::body`]).
//! - At most `max_connections` are open; at the cap the oldest connection not running a request makes room
//!   ([`super::slots`]).
//! - hyper answers malformed requests itself (400, 414 URI too long, 431 headers too large, 408) with an
//!   empty body; the front's [`ErrorPage`] replaces such an answer by one in its own envelope.
//!
//! Every request carries `ConnectInfo<SocketAddr>` (the client), `Arc<Peer>` and `BodyRules`.
use super::body::BodyRules;
use super::peer::Peer;
use super::slots::{self, Accepted, Slot};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A listener's limits (`max_connections`, `header_timeout_ms`, `body_timeout_ms` in the config file; the
/// largest body is the front's).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_body: usize,
}

/// The whole answer (status line, headers, body) that replaces hyper's own empty error answer, given its
/// three-digit status (`b"400"`, `b"414"`, `b"431"`, `b"408"`).
pub type ErrorPage = fn(&[u8]) -> Vec<u8>;

/// A status line and a short English reason for hyper's own error statuses.
pub fn status_line(status: &[u8]) -> (&'static str, &'static str) {
    match status {
        b"414" => ("414 URI Too Long", "the URL is too long"),
        b"431" => ("431 Request Header Fields Too Large", "the request headers are too large"),
        b"408" => ("408 Request Timeout", "the request did not arrive in time"),
        _ => ("400 Bad Request", "the request is not valid HTTP"),
    }
}

/// An answer with `status_line`, a JSON `body`, and the connection closed after it.
pub fn json_answer(status_line: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serves `app` on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    limits: Limits,
    error_page: ErrorPage,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    slots::accept(listener, limits.max_connections, shutdown, move |accepted| {
        connection(app.clone(), accepted, limits, error_page)
    })
    .await
}

async fn connection(app: Router, accepted: Accepted, limits: Limits, error_page: ErrorPage) {
    let Accepted { stream, remote, slot, mut stop } = accepted;
    let local = stream.local_addr().unwrap_or(remote);
    let peer = Arc::new(Peer::new(remote, local));
    let service_slot = slot.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let mut router = app.clone();
        let slot = service_slot.clone();
        slot.set_busy(req.method() == hyper::Method::GET);
        req.extensions_mut().insert(ConnectInfo(remote));
        req.extensions_mut().insert(peer.clone());
        req.extensions_mut().insert(BodyRules {
            timeout: limits.body_timeout,
            max: limits.max_body,
            slot: Some(slot.clone()),
        });
        async move {
            let answer = tower_service::Service::call(&mut router, req).await;
            slot.heads.fetch_add(1, Ordering::SeqCst);
            slot.set_busy(false);
            answer
        }
    });
    let io = TokioIo::new(OwnErrors {
        inner: stream,
        slot: slot.clone(),
        error_page,
        out: Vec::new(),
        written: 0,
        done: false,
        retrying: false,
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = slot.kill.notified() => {}
        _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = slot.kill.notified() => {}
            }
        }
    }
}

/// The connection's stream, with hyper's own empty error answers (400, 414, 431, 408) replaced by the
/// front's [`ErrorPage`].
struct OwnErrors {
    inner: TcpStream,
    slot: Arc<Slot>,
    error_page: ErrorPage,
    /// The replacement answer, and how much of it is written.
    out: Vec<u8>,
    written: usize,
    /// The replacement is out: hyper closes the connection after an error, anything else it writes is dropped.
    done: bool,
    /// The last write was pending: hyper offers the same bytes again, already looked at.
    retrying: bool,
}

impl OwnErrors {
    fn flush_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Whether `buf` starts an answer hyper made on its own (no router answer is waiting for its head).
    fn is_hyper_error(&self, buf: &[u8]) -> bool {
        if buf.len() < 12 || !buf.starts_with(b"HTTP/1.") || buf[9] == b'1' {
            return false;
        }
        let ours = self.slot.heads.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        !ours && matches!(buf[9], b'4' | b'5')
    }
}

impl AsyncRead for OwnErrors {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for OwnErrors {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.flush_out(cx))?;
        if this.done {
            return Poll::Ready(Ok(buf.len()));
        }
        if !this.retrying && this.is_hyper_error(buf) {
            this.out = (this.error_page)(&buf[9..12]);
            this.written = 0;
            this.done = true;
            // Written now or by the next poll; hyper's bytes count as taken either way.
            let _ = this.flush_out(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.retrying = written.is_pending();
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.flush_out(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.flush_out(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
