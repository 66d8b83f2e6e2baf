//! Reads and writes whole frames on an async byte stream (a TCP socket, a SOCKS5 tunnel, a test pipe).
//!
//! Nothing above this module sees partial reads: it reads the header, validates SIZE against the
//! configured maximum before allocating, then reads exactly the rest.
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::frame::{Frame, FrameError, HEADER_LEN, Header};

/// Failure while moving a frame.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Reads one whole frame. A stream that ends early gives [`FrameError::Truncated`].
pub async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S, max_size: u32) -> Result<Frame, ConnectionError> {
    let mut head = [0u8; HEADER_LEN];
    read_full(stream, &mut head, HEADER_LEN).await?;
    let header = Header::parse(&head, max_size)?;
    // SIZE was bounded by max_size above, so this allocation is bounded too.
    let mut payload = vec![0u8; header.payload_len()];
    read_full(stream, &mut payload, header.size as usize).await?;
    Ok(Frame { header, payload })
}

/// Fills `buf`, mapping an early end of stream to `Truncated` (with `expected` the whole frame length).
async fn read_full<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    expected: usize,
) -> Result<(), ConnectionError> {
    let already = expected - buf.len();
    let mut got = 0;
    while got < buf.len() {
        let n = stream.read(&mut buf[got..]).await?;
        if n == 0 {
            return Err(FrameError::Truncated { got: already + got, expected }.into());
        }
        got += n;
    }
    Ok(())
}

/// Writes a whole frame and flushes it.
pub async fn write_frame<S: AsyncWrite + Unpin>(stream: &mut S, frame: &Frame) -> Result<(), ConnectionError> {
    stream.write_all(&frame.to_bytes()).await?;
    stream.flush().await?;
    Ok(())
}
