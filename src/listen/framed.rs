//! The TCP listener for messages framed as a 4-byte big-endian length followed by the message (the iKassa
//! framing): each frame gets one framed answer, in order. Its connections share the HTTP listener's rules
//! ([`super::slots`]): at the cap the oldest connection that is not running a message (silent, or still
//! sending a frame) makes room; a frame must arrive whole within the body time once its length arrived, and
//! a frame larger than [`super::body::FREE_BYTES`] takes its size from the shared body budget first.
use super::MAX_FRAME;
use super::body::FREE_BYTES;
use super::http::Limits;
use super::peer::Peer;
use super::slots::{self, Accepted};
use crate::ledger::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// What answers one framed message: its client and bytes in, the answer's bytes out.
pub type FrameHandler = Arc<dyn Fn(Arc<Peer>, Vec<u8>) -> BoxFuture<'static, Vec<u8>> + Send + Sync>;

/// The front's answer refusing a frame it could not take (the text says why); the connection goes on.
pub type FrameRefusal = fn(&str) -> Vec<u8>;

/// A connection closes after this long without a new frame (when no other client needs its slot sooner).
const IDLE: Duration = Duration::from_secs(300);

/// Serves framed messages on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    limits: Limits,
    handler: FrameHandler,
    refusal: FrameRefusal,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    slots::accept(listener, limits.max_connections, shutdown, move |accepted| {
        let handler = handler.clone();
        async move {
            let remote = accepted.remote;
            if let Err(e) = connection(accepted, limits, handler, refusal).await {
                tracing::debug!(%remote, error = %e, "framed connection closed");
            }
        }
    })
    .await
}

/// Writes one frame: its length, then its bytes, in one write.
async fn write_frame(stream: &mut TcpStream, answer: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(answer.len() + 4);
    out.extend_from_slice(&(answer.len() as u32).to_be_bytes());
    out.extend_from_slice(answer);
    stream.write_all(&out).await
}

/// The frame's bytes, or why it was not taken; `Err` when the connection must close.
enum Frame {
    /// The message, with its share of the body budget (held until it is answered).
    Read(Vec<u8>, Option<tokio::sync::OwnedSemaphorePermit>),
    Refused(String),
}

async fn read_frame(stream: &mut TcpStream, n: usize, time: Duration) -> std::io::Result<Frame> {
    let late = || std::io::Error::new(std::io::ErrorKind::TimedOut, "frame incomplete");
    let share = if n > FREE_BYTES { budget_share(n - FREE_BYTES) } else { Ok(None) };
    match share {
        Ok(share) => {
            let mut body = vec![0u8; n];
            tokio::time::timeout(time, stream.read_exact(&mut body)).await.map_err(|_| late())??;
            Ok(Frame::Read(body, share))
        }
        Err(why) => {
            // Read past the frame without keeping it, so the next one is found.
            let mut rest = (&mut *stream).take(n as u64);
            tokio::time::timeout(time, tokio::io::copy(&mut rest, &mut tokio::io::sink()))
                .await
                .map_err(|_| late())??;
            Ok(Frame::Refused(why))
        }
    }
}

/// `n` bytes of the shared body budget, held while the frame is read and answered.
fn budget_share(n: usize) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, String> {
    let budget: Arc<Semaphore> = super::body::shared_budget();
    let n = u32::try_from(n).map_err(|e| e.to_string())?;
    budget.try_acquire_many_owned(n).map(Some).map_err(|_| super::body::BodyError::Busy.to_string())
}

async fn connection(
    accepted: Accepted,
    limits: Limits,
    handler: FrameHandler,
    refusal: FrameRefusal,
) -> std::io::Result<()> {
    let Accepted { mut stream, remote, slot, mut stop } = accepted;
    let local = stream.local_addr().unwrap_or(remote);
    let peer = Arc::new(Peer::new(remote, local));
    loop {
        slot.set_busy(false);
        let mut len = [0u8; 4];
        tokio::select! {
            read = tokio::time::timeout(IDLE, stream.read_exact(&mut len)) => match read {
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(()),
            },
            _ = slot.kill.notified() => return Ok(()),
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_FRAME {
            // Not a frame of this protocol (or a hostile length): the connection closes, nothing is allocated.
            let text = format!("a frame of {n} bytes: at most {MAX_FRAME}");
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, text));
        }
        let frame = tokio::select! {
            frame = read_frame(&mut stream, n, limits.body_timeout) => frame?,
            _ = slot.kill.notified() => return Ok(()),
        };
        let answer = match frame {
            Frame::Read(body, _share) => {
                slot.set_busy(true);
                handler(peer.clone(), body).await
            }
            Frame::Refused(why) => refusal(&why),
        };
        slot.set_busy(false);
        tokio::select! {
            written = write_frame(&mut stream, &answer) => written?,
            _ = slot.kill.notified() => return Ok(()),
        }
    }
}
