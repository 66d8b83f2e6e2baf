//! Listeners a country's front can use: an HTTP/1.1 listener for an axum router (a time limit on request
//! heads, a connection cap), and a TCP listener (the same cap) for messages framed as a 4-byte big-endian length followed
//! by the message (the iKassa framing).
//! Both stop accepting when `shutdown` completes. The Kazakh front keeps its own hardened listener
//! (`api::conn`), whose error bodies are its envelope.
use crate::ledger::BoxFuture;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Binds the listener `name` on `addr` and says where, as one line on standard output: `listening <name>
/// <address>`. With port 0 the system picks a free port and this line is the only way to learn it: tests and
/// scripts read it (logs go to standard error, so nothing else shares standard output while Kassa serves).
/// `setting` names the configuration key in the error.
pub async fn bind(name: &str, addr: &str, setting: &str) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} ({setting}): {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot read the address of {addr} ({setting}): {e}"))?;
    announce(name, local);
    Ok(listener)
}

/// Writes `listening <name> <address>` on standard output, flushed at once (a closed output is no failure).
pub fn announce(name: &str, addr: SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening {name} {addr}");
    let _ = out.flush();
}

/// A request body must arrive whole within this time, however it trickles in.
pub const BODY_TIME: Duration = Duration::from_secs(10);

/// Reads a request body whole, at most [`MAX_FRAME`] bytes within [`BODY_TIME`]: a client trickling it in
/// cannot hold one of the listener's connections for longer. The error is a text for the front's envelope.
pub async fn read_body(body: axum::body::Body) -> Result<axum::body::Bytes, String> {
    match tokio::time::timeout(BODY_TIME, axum::body::to_bytes(body, MAX_FRAME)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => Err(format!("the request body could not be read: {err}")),
        Err(_) => Err(format!("the request body did not arrive within {} s", BODY_TIME.as_secs())),
    }
}

/// Largest framed message accepted; a bigger length closes the connection.
pub const MAX_FRAME: usize = 1 << 20;
/// A frame must arrive whole within this time once its length arrived; an idle connection closes after
/// `IDLE` without a new frame.
const FRAME_TIME: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(300);

/// Open connections at most, per listener (HTTP or framed); further ones are closed at once until one ends.
const MAX_CONNECTIONS: usize = 256;
/// A request's head must arrive within this time (a slow or idle client cannot hold a connection).
const HEAD_TIME: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` until `shutdown`, at most [`MAX_CONNECTIONS`] open at once (one more is
/// closed at once, so a flood of stalled clients holds no more than that), and serves each on its own task.
async fn accept_capped<F>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    serve: impl Fn(TcpStream, SocketAddr) -> F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%remote, "connection cap reached: connection refused");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let served = serve(stream, remote);
        tokio::spawn(async move {
            served.await;
            drop(slot);
        });
    }
}

/// Serves `router` over HTTP/1.1 on `listener` until `shutdown`: a request head must arrive within 10 s,
/// and at most 256 connections are open; connections in flight finish their request.
pub async fn serve_http(
    router: Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    accept_capped(listener, shutdown, move |stream, remote| {
        let router = router.clone();
        async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut router = router.clone();
                async move { tower_service::Service::call(&mut router, req).await }
            });
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEAD_TIME);
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%remote, error = %e, "HTTP connection closed");
            }
        }
    })
    .await
}

/// What answers one framed message: its bytes in, the answer's bytes out.
pub type FrameHandler = Arc<dyn Fn(Vec<u8>) -> BoxFuture<'static, Vec<u8>> + Send + Sync>;

/// Serves framed messages on `listener` until `shutdown`: each frame gets one framed answer, in order; at
/// most 256 connections are open.
pub async fn serve_framed(
    listener: TcpListener,
    handler: FrameHandler,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    accept_capped(listener, shutdown, move |stream, remote| {
        let handler = handler.clone();
        async move {
            if let Err(e) = connection(stream, handler).await {
                tracing::debug!(%remote, error = %e, "framed connection closed");
            }
        }
    })
    .await
}

async fn connection(mut stream: TcpStream, handler: FrameHandler) -> std::io::Result<()> {
    loop {
        let mut len = [0u8; 4];
        match tokio::time::timeout(IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()),
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_FRAME {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("frame of {n} bytes")));
        }
        let mut body = vec![0u8; n];
        tokio::time::timeout(FRAME_TIME, stream.read_exact(&mut body))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "frame incomplete"))??;
        let answer = handler(body).await;
        let mut out = Vec::with_capacity(answer.len() + 4);
        out.extend_from_slice(&(answer.len() as u32).to_be_bytes());
        out.extend_from_slice(&answer);
        stream.write_all(&out).await?;
    }
}
