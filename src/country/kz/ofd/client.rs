//! The OFD client: one request per TCP connection, retried within the total transaction time.
//!
//! A retry after a dropped connection or a 254/255 answer resends the **identical** bytes (same
//! TOKEN and REQNUM), which is how the OFD recognises a duplicate (doc §3.2). The caller owns the
//! token and REQNUM counters: it must persist a rotated token ([`Reply::new_token`]) before sending
//! anything else, and increment REQNUM only for a new request.
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout_at};

use super::connection::{self, ConnectionError};
use super::frame::{self, Addr, DEFAULT_MAX_FRAME, Frame, FrameError, Header, VERSION_203};
use super::proto::{Request, Response};
use super::result::ResultClass;
use super::socks5::{self, Socks5Error, Socks5Proxy};

/// The protocol minimum for the total transaction time (DOC202 §5).
pub const MIN_TOTAL_TIME: Duration = Duration::from_secs(5);

/// Where and how to reach one OFD.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `host:port` of the OFD.
    pub addr: String,
    /// Header VERSION: 203 by default, 202 for an OFD still on 2.0.2.
    pub version: u16,
    /// Connect, write, read and every retry must fit in this time.
    pub total_time: Duration,
    /// Tests may set this to use a `total_time` below the 5 s protocol minimum.
    pub allow_short_total_time: bool,
    /// Pause between attempts inside the total time.
    pub retry_pause: Duration,
    /// Largest response SIZE accepted, so a bad header cannot make us allocate much.
    pub max_frame: u32,
    /// Optional SOCKS5 proxy.
    pub proxy: Option<Socks5Proxy>,
}

impl ClientConfig {
    /// Defaults: version 203, 5 s total time, 200 ms between attempts, 1 MiB frames, no proxy.
    pub fn new(addr: impl Into<String>) -> Self {
        ClientConfig {
            addr: addr.into(),
            version: VERSION_203,
            total_time: MIN_TOTAL_TIME,
            allow_short_total_time: false,
            retry_pause: Duration::from_millis(200),
            max_frame: DEFAULT_MAX_FRAME,
            proxy: None,
        }
    }

    /// The total time actually used: never below 5 s unless short times are allowed.
    pub fn effective_total_time(&self) -> Duration {
        if self.allow_short_total_time { self.total_time } else { self.total_time.max(MIN_TOTAL_TIME) }
    }
}

/// The REQNUM for the next **new** request. Skips 0 on wrap-around (65535 → 1) as DELPHI does,
/// since whether the OFD accepts 0 after a wrap is unspecified (doc §6).
pub fn next_reqnum(current: u16) -> u16 {
    match current.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// The device's identity and counters for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Device id issued by the OFD (header ID).
    pub id: u32,
    /// Current exchange token.
    pub token: u32,
    /// REQNUM of this request (a retry keeps it).
    pub reqnum: u16,
}

/// A response that matched the request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub header: Header,
    pub response: Response,
    pub class: ResultClass,
    /// Connections made, including the successful one.
    pub attempts: u32,
    sent_token: u32,
}

impl Reply {
    /// The new token when the OFD rotated it; the caller must store it durably before the next request.
    pub fn new_token(&self) -> Option<u32> {
        (self.header.token != self.sent_token).then_some(self.header.token)
    }
}

/// Why no usable response arrived.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The total transaction time ran out (no connection or no answer): go offline.
    #[error("no answer from the OFD within {total:?} after {attempts} attempt(s){}", last_error_suffix(.last_error))]
    Timeout { total: Duration, attempts: u32, last_error: Option<String> },
    /// The answer is not a valid frame or message.
    #[error("invalid OFD response: {0}")]
    InvalidResponse(FrameError),
    /// The answer is for another device, request number or command.
    #[error("OFD response {field} is {got}, expected {expected}")]
    Mismatch { field: &'static str, expected: u64, got: u64 },
    /// The response payload has no `result` field.
    #[error("OFD response carries no result")]
    MissingResult,
    /// The proxy refused us for a reason a retry will not fix.
    #[error("SOCKS5 proxy: {0}")]
    Proxy(Socks5Error),
    /// The request could not be framed.
    #[error("cannot encode request: {0}")]
    Encode(FrameError),
}

fn last_error_suffix(e: &Option<String>) -> String {
    e.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default()
}

impl ClientError {
    /// True when the document may be kept and resent later (the device goes offline).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ClientError::Timeout { .. })
    }
}

/// What one attempt ended with, before the retry decision.
enum AttemptError {
    /// Connection-level: worth another attempt.
    Transient(String),
    Fatal(ClientError),
}

/// A client for one OFD endpoint; cheap to clone, holds no connection.
#[derive(Clone, Debug)]
pub struct OfdClient {
    config: ClientConfig,
}

impl OfdClient {
    pub fn new(config: ClientConfig) -> Self {
        OfdClient { config }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends `request` and waits for the matching response, retrying the identical frame on
    /// connection failures and on 254/255 until the total time runs out.
    ///
    /// When time runs out after a 254/255, that answer comes back as `Ok` with
    /// [`ResultClass::Unavailable`] (its `attempts` counts the answered attempts); with no answer at
    /// all the result is [`ClientError::Timeout`]. Both mean: keep the document, go offline.
    pub async fn exchange(&self, creds: Credentials, request: &Request) -> Result<Reply, ClientError> {
        let addr = Addr { version: self.config.version, id: creds.id, token: creds.token, reqnum: creds.reqnum };
        let bytes = Frame::request(addr, request).map_err(ClientError::Encode)?.to_bytes();
        let total = self.config.effective_total_time();
        let deadline = Instant::now() + total;
        let mut attempts = 0u32;
        let mut last_error = None;
        // The latest 254/255 answer: if time runs out after it, that answer is the outcome.
        let mut last_busy: Option<Reply> = None;
        loop {
            attempts += 1;
            let outcome = match timeout_at(deadline, self.attempt(&bytes)).await {
                Ok(r) => r,
                Err(_) => {
                    return match last_busy {
                        Some(reply) => Ok(reply),
                        None => Err(ClientError::Timeout { total, attempts, last_error }),
                    };
                }
            };
            match outcome {
                Ok(frame) => {
                    let reply = self.check_reply(creds, request, frame, attempts)?;
                    if !reply.class.is_retryable() || !self.has_time_for_retry(deadline) {
                        return Ok(reply);
                    }
                    tracing::debug!(code = ?reply.class, attempts, "OFD busy, resending");
                    last_busy = Some(reply);
                }
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Transient(e)) => {
                    tracing::debug!(error = %e, attempts, "OFD exchange failed, resending");
                    last_error = Some(e);
                    if !self.has_time_for_retry(deadline) {
                        return match last_busy {
                            Some(reply) => Ok(reply),
                            None => Err(ClientError::Timeout { total, attempts, last_error }),
                        };
                    }
                }
            }
            sleep(self.config.retry_pause).await;
        }
    }

    fn has_time_for_retry(&self, deadline: Instant) -> bool {
        Instant::now() + self.config.retry_pause < deadline
    }

    /// One connection: connect (maybe via SOCKS5), write the frame, read one frame.
    async fn attempt(&self, bytes: &[u8]) -> Result<Frame, AttemptError> {
        use tokio::io::AsyncWriteExt;
        let transient = |e: &dyn std::fmt::Display| AttemptError::Transient(e.to_string());
        let mut stream = match &self.config.proxy {
            None => TcpStream::connect(&self.config.addr).await.map_err(|e| transient(&e))?,
            Some(proxy) => match socks5::connect(proxy, &self.config.addr).await {
                Ok(s) => s,
                Err(Socks5Error::Io(e)) => return Err(transient(&e)),
                Err(e) => return Err(AttemptError::Fatal(ClientError::Proxy(e))),
            },
        };
        // Nagle would hold back the small frame waiting for an ACK that never speeds anything up here.
        stream.set_nodelay(true).map_err(|e| transient(&e))?;
        stream.write_all(bytes).await.map_err(|e| transient(&e))?;
        stream.flush().await.map_err(|e| transient(&e))?;
        match connection::read_frame(&mut stream, self.config.max_frame).await {
            Ok(f) => Ok(f),
            Err(ConnectionError::Io(e)) => Err(transient(&e)),
            Err(ConnectionError::Frame(e @ FrameError::Truncated { .. })) => Err(transient(&e)),
            Err(ConnectionError::Frame(e)) => Err(AttemptError::Fatal(ClientError::InvalidResponse(e))),
        }
    }

    fn check_reply(
        &self,
        creds: Credentials,
        request: &Request,
        frame: Frame,
        attempts: u32,
    ) -> Result<Reply, ClientError> {
        let h = frame.header;
        if h.id != creds.id {
            return Err(mismatch("ID", creds.id, h.id));
        }
        if h.reqnum != creds.reqnum {
            return Err(mismatch("REQNUM", creds.reqnum, h.reqnum));
        }
        let response = frame.decode_response().map_err(ClientError::InvalidResponse)?;
        if !frame::has_field(&frame.payload, 2) {
            return Err(ClientError::MissingResult);
        }
        if response.command != request.command {
            return Err(mismatch("command", request.command, response.command));
        }
        let class = ResultClass::of(&response);
        Ok(Reply { header: h, response, class, attempts, sent_token: creds.token })
    }
}

fn mismatch(field: &'static str, expected: impl Into<i64>, got: impl Into<i64>) -> ClientError {
    // Both sides are u16/u32/i32 wire values; i64 holds them all, u64 shows them as sent.
    ClientError::Mismatch { field, expected: expected.into() as u64, got: got.into() as u64 }
}
