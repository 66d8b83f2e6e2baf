//! The HTTP listener: connections, their time limits and their number, so slow or idle clients cannot keep
//! a sale from being served.
//!
//! - A request's head must arrive within `header_timeout` (this also closes idle keep-alive connections), and
//!   its body within `body_timeout` (enforced by `extract::Params`, answered with code 2).
//! - At most `max_connections` are open. When a new one comes at the cap, the oldest connection that is not
//!   running a request (idle, or still sending its head or body) is closed to make room; only when every
//!   connection runs a request is the new one refused. A flood of slow clients thus pushes out itself, not
//!   the POS that is selling.
//! - hyper answers malformed requests itself (400, 414 URI too long, 431 headers too large) with an empty
//!   body; `JsonErrors` replaces such an answer by the same status with the JSON envelope.
use super::codes::ErrorCode;
use super::error::ApiError;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// The listener's limits (`max_connections`, `header_timeout_ms`, `body_timeout_ms` in the config file).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

/// One open connection.
pub(crate) struct Slot {
    id: u64,
    /// A request is running with its head and body read: the connection is not to be evicted.
    busy: AtomicBool,
    /// Answers the router made whose head hyper has not written yet (to tell them from hyper's own).
    heads: AtomicUsize,
    kill: Notify,
}

impl Slot {
    /// The request's body is in: from now on the connection does work and is kept.
    pub(crate) fn body_read(&self) {
        self.busy.store(true, Ordering::SeqCst);
    }
}

/// Put in every request's extensions: how long its body may take, and its connection.
#[derive(Clone)]
pub(crate) struct BodyDeadline {
    pub(crate) timeout: Duration,
    pub(crate) slot: Arc<Slot>,
}

#[derive(Default)]
struct Slots {
    open: Mutex<BTreeMap<u64, Arc<Slot>>>,
    next: AtomicU64,
}

impl Slots {
    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection, evicting the oldest idle or slow one at the cap; `None` when every
    /// open connection runs a request.
    fn admit(&self, max: usize) -> Option<Arc<Slot>> {
        let mut open = self.table();
        if open.len() >= max.max(1) {
            let victim = open.values().find(|s| !s.busy.load(Ordering::SeqCst)).map(|s| s.id)?;
            if let Some(slot) = open.remove(&victim) {
                slot.kill.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let slot = Arc::new(Slot { id, busy: AtomicBool::new(false), heads: AtomicUsize::new(0), kill: Notify::new() });
        open.insert(id, slot.clone());
        Some(slot)
    }

    fn remove(&self, id: u64) {
        self.table().remove(&id);
    }

    fn count(&self) -> usize {
        self.table().len()
    }
}

/// Serves `app` on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Slots::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: wait a little, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = slots.admit(limits.max_connections) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(refused, max = limits.max_connections, "connection cap reached: connection refused");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(app.clone(), stream, remote, slot, slots.clone(), limits, stop_rx.clone()));
    }
    let _ = stop_tx.send(true);
    // Requests in flight finish; idle connections close at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while slots.count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn connection(
    app: Router,
    stream: TcpStream,
    remote: SocketAddr,
    slot: Arc<Slot>,
    slots: Arc<Slots>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let service_slot = slot.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let mut router = app.clone();
        let slot = service_slot.clone();
        slot.busy.store(req.method() == hyper::Method::GET, Ordering::SeqCst);
        req.extensions_mut().insert(ConnectInfo(remote));
        req.extensions_mut().insert(BodyDeadline { timeout: limits.body_timeout, slot: slot.clone() });
        async move {
            let answer = tower_service::Service::call(&mut router, req).await;
            slot.heads.fetch_add(1, Ordering::SeqCst);
            slot.busy.store(false, Ordering::SeqCst);
            answer
        }
    });
    let io = TokioIo::new(JsonErrors {
        inner: stream,
        slot: slot.clone(),
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
    slots.remove(slot.id);
}

/// The connection's stream, with hyper's own empty error answers (400, 414, 431) replaced by the same status
/// carrying the JSON envelope.
struct JsonErrors {
    inner: TcpStream,
    slot: Arc<Slot>,
    /// The replacement answer, and how much of it is written.
    out: Vec<u8>,
    written: usize,
    /// The replacement is out: hyper closes the connection after an error, anything else it writes is dropped.
    done: bool,
    /// The last write was pending: hyper offers the same bytes again, already looked at.
    retrying: bool,
}

impl JsonErrors {
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

/// The answer that replaces hyper's empty error answer with this status line.
fn envelope_answer(status: &[u8]) -> Vec<u8> {
    let (line, detail) = match status {
        b"414" => ("414 URI Too Long", "слишком длинный URL"),
        b"431" => ("431 Request Header Fields Too Large", "слишком большие заголовки запроса"),
        b"408" => ("408 Request Timeout", "запрос не пришёл вовремя"),
        _ => ("400 Bad Request", "запрос — не корректный HTTP"),
    };
    let body = ApiError::new(ErrorCode::InvalidFields, detail).envelope_bytes();
    let mut out = format!(
        "HTTP/1.1 {line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend(body);
    out
}

impl AsyncRead for JsonErrors {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for JsonErrors {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.flush_out(cx))?;
        if this.done {
            return Poll::Ready(Ok(buf.len()));
        }
        if !this.retrying && this.is_hyper_error(buf) {
            this.out = envelope_answer(&buf[9..12]);
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
