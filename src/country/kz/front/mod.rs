//! The HTTP API of the seed contract: one route per method at `/<MethodName>`, the JSON envelope, auth.
//!
//! Handlers only convert: JSON request → validated fiscal command → fiscal core → JSON answer. Only this
//! part knows axum and the wire shapes.
pub mod auth;
pub mod codes;
pub mod conn;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod methods;
pub mod metrics;
pub mod print;
pub mod status;
pub mod tenants;

pub use codes::ErrorCode;
pub use error::ApiError;

use crate::config::Config;
use crate::country::kz::{Core, FiscalError};
use crate::listen::throttle::Throttle;
use crate::listen::{Forbidden, Peer, WebRule};
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub throttle: Arc<Throttle>,
    pub printing: Arc<print::Printing>,
    /// Counters and the state gauges of `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The front's sections of the configuration (body limit, status policy, CORS, listener limits).
    pub config: Arc<Config>,
    /// The other tenants this node serves, under `/t/<tenant>/` (the default tenant's front only).
    pub tenants: Option<Arc<dyn crate::listen::tenants::Fronts>>,
}

impl AppState {
    /// The front over the core, the receipt step and the configuration; `store` keeps the PIN throttle's
    /// known terminals.
    pub fn new(core: Arc<Core>, printing: Arc<print::Printing>, config: Arc<Config>, store: Arc<Store>) -> AppState {
        let throttle = Arc::new(Throttle::new("kz", &config.auth, core.terminal_key(), Some(store)));
        AppState { core, throttle, printing, metrics: Arc::new(metrics::Metrics::new()), config, tenants: None }
    }

    /// Runs a fiscal call off the async threads: it may wait for SQLite's fsync.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Core) -> Result<T, FiscalError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let core = self.core.clone();
        match tokio::task::spawn_blocking(move || f(&core)).await {
            Ok(result) => result.map_err(ApiError::from),
            Err(e) => {
                tracing::error!(error = %e, "a fiscal call failed");
                Err(ApiError::new(ErrorCode::MethodExecutionException, ""))
            }
        }
    }
}

/// The router of the whole API: vendor-style paths are mapped onto the route table first, errors are
/// rendered in the caller's language under the status policy, and CORS answers browser POS apps.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let limit = config.max_body_bytes;
    let policy = config.http.status_policy;
    let cors = crate::listen::origin::cors_layer(&config.cors);
    let web = Arc::new(WebRule::new(&config.cors));
    let methods =
        methods::routes().merge(metrics::routes()).layer(DefaultBodyLimit::max(limit)).with_state(state.clone());
    let shared = state.core.ledger().is_shared();
    let app = Router::new()
        .route("/openapi.json", axum::routing::get(openapi))
        .merge(methods::playground::pages())
        .merge(status::pages())
        .fallback_service(methods);
    let app = crate::listen::handover::around(app, shared, "api")
        .layer(axum::middleware::from_fn(move |req, next| web_guard(web.clone(), req, next)))
        .layer(axum::middleware::from_fn(move |req, next| error::render_errors(policy, req, next)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::observe))
        .layer(axum::middleware::map_request(vendor_path));
    let app = match cors {
        Some(cors) => app.layer(cors),
        None => app,
    };
    crate::listen::tenants::around(app, state.tenants)
}

/// Refuses (code 5) a request from a web page that may not call Kassa, or addressed to a name that is not
/// this listener's (`listen::origin`).
async fn web_guard(rule: Arc<WebRule>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let peer = request.extensions().get::<Arc<Peer>>().cloned();
    match rule.check(request.headers(), peer.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(forbidden) => {
            tracing::info!(refused = %forbidden, "request from a browser refused");
            let detail = match &forbidden {
                Forbidden::Origin(o) => crate::text!(
                    "запрос с веб-страницы {o}, которой нельзя обращаться к этой Kassa (cors.allowed_origins)",
                    "{o} веб-бетінен келген сұрау қабылданбайды (cors.allowed_origins)"
                ),
                Forbidden::Host(h) => crate::text!(
                    "запрос адресован {h}, а это не имя этой Kassa (cors.allowed_hosts)",
                    "сұрау {h} атына жіберілген, бұл осы Kassa-ның аты емес (cors.allowed_hosts)"
                ),
            };
            ApiError::new(ErrorCode::InvalidAccessCode, detail).into_response()
        }
    }
}

/// The OpenAPI 3.1 document of the whole API (`docs/openapi.json`, built in).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

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
