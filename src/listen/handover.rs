//! Handing a request to the node that serves its device (PostgreSQL's leases, `store::pg::lease`).
//!
//! Nodes behind one load balancer share a database; each device is served by one of them at a time. A
//! front finds the device only once it has read the request, so the handover happens in two steps: before
//! anything is written, the front asks the ledger to serve the device here (`Ledger::serve_here`); when
//! another node holds it, the ledger [`offer`]s the request to that node and the front answers an error.
//! This layer, around the whole front, kept the request's bytes: it sends them to the holder's listener of
//! the same front and answers what the holder answered. A request is handed over once at most (the
//! holder answers a request handed to it itself, or says it no longer serves the device).
use crate::store::Lease;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::BytesMut;
use http_body_util::BodyExt;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The largest body handed over: its copy is kept while the front reads it, so a flood of large bodies
/// would double what they hold. A larger request (a sale of thousands of items) is answered by its front's
/// error instead, and is best routed by device at the load balancer.
pub const MAX_BODY: usize = 256 * 1024;

/// Marks a request handed over by another node (its value names that node's front).
pub const HANDED_OVER: &str = "x-kassa-handed-over";

tokio::task_local! {
    static OFFERED: RefCell<Option<Lease>>;
}

/// Offers the request being answered to the node holding `lease`, when this layer runs around it.
pub fn offer(lease: &Lease) {
    let _ = OFFERED.try_with(|offered| *offered.borrow_mut() = Some(lease.clone()));
}

/// Middleware of a front (`api`, `by`, `ua`): keeps a copy of the request's bytes (up to [`MAX_BODY`], with
/// a length) as its front reads them, and hands the request over when its front offers it ([`offer`]) after
/// reading it whole.
pub async fn hand_over(front: &'static str, request: Request, next: Next) -> Response {
    let length = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if request.headers().contains_key(HANDED_OVER) || length.is_none_or(|l| l > MAX_BODY) {
        return next.run(request).await;
    }
    // A tenant's front sees its path without the tenant's prefix; the holder is sent the address as asked.
    let uri =
        request.extensions().get::<axum::extract::OriginalUri>().map_or_else(|| request.uri().clone(), |o| o.0.clone());
    let (method, headers) = (request.method().clone(), request.headers().clone());
    // The front reads the body itself, with its own limits and its own answer to a body too large or too slow.
    let copy = Arc::new(Mutex::new(BytesMut::with_capacity(length.unwrap_or_default())));
    let request = {
        let copy = copy.clone();
        request.map(|body| {
            Body::new(body.map_frame(move |frame| {
                if let Some(data) = frame.data_ref() {
                    copy.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(data);
                }
                frame
            }))
        })
    };
    let (response, offered) = OFFERED
        .scope(RefCell::new(None), async {
            let response = next.run(request).await;
            (response, OFFERED.with(|o| o.borrow_mut().take()))
        })
        .await;
    let bytes = std::mem::take(&mut *copy.lock().unwrap_or_else(|p| p.into_inner())).freeze();
    if length != Some(bytes.len()) {
        return response;
    }
    let Some(lease) = offered else {
        return response;
    };
    let Some(base) = lease.url(front) else {
        tracing::warn!(device = lease.device, node = %lease.node, front, "the device's node has no such listener");
        return response;
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forwarded = client().request(method, format!("{base}{path}")).body(bytes);
    for (name, value) in &headers {
        if !hop_by_hop(name.as_str()) {
            forwarded = forwarded.header(name, value);
        }
    }
    forwarded = forwarded.header(HANDED_OVER, HeaderValue::from_static(front));
    match forwarded.send().await {
        Ok(answer) => {
            tracing::debug!(device = lease.device, node = %lease.node, "request handed over");
            let mut out = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if !hop_by_hop(name.as_str()) && name != header::CONTENT_LENGTH {
                    out = out.header(name, value);
                }
            }
            match answer.bytes().await {
                Ok(body) => out.body(Body::from(body)).unwrap_or(response),
                Err(e) => {
                    tracing::warn!(device = lease.device, node = %lease.node, error = %e, "the answer broke off");
                    response
                }
            }
        }
        Err(e) => {
            tracing::warn!(device = lease.device, node = %lease.node, error = %e, "cannot hand the request over");
            response
        }
    }
}

/// Headers that belong to one connection, not to the request.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "keep-alive" | "transfer-encoding" | "te" | "trailer" | "upgrade" | "proxy-connection"
    )
}

/// The client requests are handed over with: kept connections, and a request may wait as long as a sale may.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_default()
    })
}

/// `router` with the handover layer when its node shares its store with other nodes (`shared`).
pub fn around(router: axum::Router, shared: bool, front: &'static str) -> axum::Router {
    if !shared {
        return router;
    }
    router.layer(axum::middleware::from_fn(move |req, next| hand_over(front, req, next)))
}
