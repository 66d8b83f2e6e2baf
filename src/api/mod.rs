//! The HTTP API of the seed contract: one route per method at `/<MethodName>`, the JSON envelope, auth.
//!
//! Handlers only convert: JSON request → validated fiscal command → fiscal core → JSON answer. Only this
//! part knows axum and the wire shapes.
pub mod auth;
pub mod codes;
pub mod conn;
pub mod cors;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod methods;
pub mod metrics;
pub mod print;
pub mod status;

pub use codes::ErrorCode;
pub use error::ApiError;

use crate::fiscal::{Core, FiscalError};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub throttle: Arc<auth::Throttle>,
    pub printing: Arc<print::Printing>,
    /// Counters and the state gauges of `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(core: Arc<Core>, printing: Arc<print::Printing>) -> AppState {
        let throttle = Arc::new(auth::Throttle::new(&core.config().auth));
        AppState { core, throttle, printing, metrics: Arc::new(metrics::Metrics::new()) }
    }

    /// Runs a fiscal call off the async threads: it may wait for SQLite's fsync.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Core) -> Result<T, FiscalError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let core = self.core.clone();
        match tokio::task::spawn_blocking(move || f(&core)).await {
            Ok(result) => result.map_err(ApiError::from),
            Err(e) => Err(ApiError::new(ErrorCode::MethodExecutionException, format!("the call failed: {e}"))),
        }
    }
}

/// The router of the whole API: vendor-style paths are mapped onto the route table first, errors are
/// rendered in the caller's language under the status policy, and CORS answers browser POS apps.
pub fn app(state: AppState) -> Router {
    let config = state.core.config();
    let limit = config.max_body_bytes;
    let policy = config.http.status_policy;
    let cors = cors::layer(&config.cors);
    let methods =
        methods::routes().merge(metrics::routes()).layer(DefaultBodyLimit::max(limit)).with_state(state.clone());
    let app = Router::new()
        .route("/openapi.json", axum::routing::get(openapi))
        .merge(methods::playground::pages())
        .merge(status::pages())
        .fallback_service(methods)
        .layer(axum::middleware::from_fn(move |req, next| error::render_errors(policy, req, next)))
        .layer(axum::middleware::from_fn_with_state(state, metrics::observe))
        .layer(axum::middleware::map_request(vendor_path));
    match cors {
        Some(cors) => app.layer(cors),
        None => app,
    }
}

/// The OpenAPI 3.1 document of the whole API (`docs/openapi.json`, built in).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// Rewrites a vendor-style path (`/tradeoperation`, `/Ping/`) to the method's own path; other paths pass.
async fn vendor_path(mut request: axum::extract::Request) -> axum::extract::Request {
    if let Some(method) = methods::method_for_path(request.uri().path()) {
        let path = format!("/{method}");
        if request.uri().path() != path {
            let rewritten = match request.uri().query() {
                Some(query) => format!("{path}?{query}"),
                None => path,
            };
            if let Ok(uri) = rewritten.parse() {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}
