//! Request bodies, read whole within their time and size limits, with the memory they hold bounded across
//! every connection of every front: a body up to [`FREE_BYTES`] is always read (the connection cap bounds
//! those), a larger one first takes its size from one shared budget of [`SHARED_BYTES`] and is refused at
//! once when the budget is spent. So hundreds of clients holding megabyte bodies cost a few megabytes, and
//! an ordinary request (a few KB) is never kept waiting by them.
use super::slots::Slot;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A body this small is read without a share of the budget.
pub const FREE_BYTES: usize = 8 * 1024;
/// What larger bodies may hold at once, all connections of all fronts together.
pub const SHARED_BYTES: usize = 16 << 20;

/// The budget larger bodies (and frames) share.
pub(crate) fn shared_budget() -> Arc<Semaphore> {
    static BUDGET: OnceLock<Arc<Semaphore>> = OnceLock::new();
    BUDGET.get_or_init(|| Arc::new(Semaphore::new(SHARED_BYTES))).clone()
}

/// The limits of one listener's bodies, put in every request's extensions by the HTTP listener.
#[derive(Clone)]
pub struct BodyRules {
    /// The whole body must arrive within this time, however it trickles in.
    pub timeout: Duration,
    /// The largest body accepted.
    pub max: usize,
    /// The request's connection: kept once its body is in.
    pub slot: Option<Arc<Slot>>,
}

impl Default for BodyRules {
    fn default() -> BodyRules {
        BodyRules { timeout: Duration::from_secs(10), max: super::MAX_FRAME, slot: None }
    }
}

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// It did not arrive whole within this time.
    Late(Duration),
    /// It is larger than this many bytes.
    TooLarge(usize),
    /// Large bodies of other requests hold the shared budget now.
    Busy,
    /// The connection failed while it was read.
    Broken(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Late(t) => write!(f, "the request body did not arrive within {} s", t.as_secs()),
            BodyError::TooLarge(max) => write!(f, "the request body is larger than {max} bytes"),
            BodyError::Busy => {
                write!(
                    f,
                    "the server is reading other large requests now ({} MiB at most); try again",
                    SHARED_BYTES >> 20
                )
            }
            BodyError::Broken(e) => write!(f, "the request body could not be read: {e}"),
        }
    }
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

/// A body read whole; its share of the budget is given back when it is dropped.
pub struct Held {
    bytes: Bytes,
    _share: Option<OwnedSemaphorePermit>,
}

impl std::ops::Deref for Held {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Takes `n` more bytes from the budget into `share`.
fn take(share: &mut Option<OwnedSemaphorePermit>, n: usize) -> Result<(), BodyError> {
    let n = u32::try_from(n).map_err(|_| BodyError::Busy)?;
    let more = shared_budget().try_acquire_many_owned(n).map_err(|_| BodyError::Busy)?;
    match share {
        Some(held) => held.merge(more),
        None => *share = Some(more),
    }
    Ok(())
}

/// Reads `body` whole under `rules`.
pub async fn read(body: Body, rules: &BodyRules) -> Result<Held, BodyError> {
    let declared = http_body::Body::size_hint(&body).exact().map(|n| n as usize);
    let mut share = None;
    if let Some(n) = declared {
        if n > rules.max {
            return Err(BodyError::TooLarge(rules.max));
        }
        if n > FREE_BYTES {
            take(&mut share, n - FREE_BYTES)?;
        }
    }
    let read = async {
        let mut body = body;
        let mut out = Vec::with_capacity(declared.unwrap_or(0).min(rules.max));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
            let Ok(data) = frame.into_data() else { continue };
            if out.len() + data.len() > rules.max {
                return Err(BodyError::TooLarge(rules.max));
            }
            let covered = FREE_BYTES + share.as_ref().map_or(0, |s| s.num_permits());
            if out.len() + data.len() > covered {
                take(&mut share, out.len() + data.len() - covered)?;
            }
            out.extend_from_slice(&data);
        }
        Ok(out)
    };
    let out = tokio::time::timeout(rules.timeout, read).await.map_err(|_| BodyError::Late(rules.timeout))??;
    if let Some(slot) = &rules.slot {
        slot.body_read();
    }
    Ok(Held { bytes: Bytes::from(out), _share: share })
}

impl<S: Send + Sync> FromRequest<S> for Held {
    type Rejection = BodyError;

    async fn from_request(req: Request, _state: &S) -> Result<Held, BodyError> {
        let rules = req.extensions().get::<BodyRules>().cloned().unwrap_or_default();
        read(req.into_body(), &rules).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn small_bodies_are_free_and_large_ones_share_the_budget() {
        let rules = BodyRules { max: 4 << 20, ..BodyRules::default() };
        let small = read(Body::from(vec![b'x'; 1000]), &rules).await.unwrap();
        assert_eq!(small.len(), 1000);
        // Hold most of the budget with large bodies; the next large one is refused, a small one is not.
        let mut held = Vec::new();
        while held.len() < SHARED_BYTES / (4 << 20) {
            held.push(read(Body::from(vec![b'x'; 4 << 20]), &rules).await.unwrap());
        }
        assert_eq!(read(Body::from(vec![b'x'; 1 << 20]), &rules).await.err(), Some(BodyError::Busy));
        assert!(read(Body::from(vec![b'x'; 100]), &rules).await.is_ok());
        held.clear();
        assert!(read(Body::from(vec![b'x'; 1 << 20]), &rules).await.is_ok(), "the budget came back");
        let too_big = read(Body::from(vec![b'x'; (4 << 20) + 1]), &rules).await.err();
        assert_eq!(too_big, Some(BodyError::TooLarge(4 << 20)));
    }
}
