//! The status page (`/status`) for the people who run the shop: each KKM and printer at a glance, the
//! oldest unsent document and what to do. The page is static (`web/status/`, embedded); its data comes
//! from the extension method `GetStatus`, for administrators only, like the playground's.
use super::AppState;
use super::auth::Auth;
use super::codes::ErrorCode;
use super::error::{ApiError, ok};
use crate::country::kz::access::Role;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("../../../../web/status/index.html");
const SCRIPT: &str = include_str!("../../../../web/status/app.js");
const STYLE: &str = include_str!("../../../../web/status/app.css");

/// The page and its assets: static (the data needs the administrator PIN).
pub fn pages() -> axum::Router {
    use axum::routing::get;
    let file = |kind: &'static str, body: &'static str| {
        move || async move { ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], body).into_response() }
    };
    axum::Router::new()
        .route("/status", get(file("text/html; charset=utf-8", PAGE)))
        .route("/status/app.js", get(file("text/javascript; charset=utf-8", SCRIPT)))
        .route("/status/app.css", get(file("text/css; charset=utf-8", STYLE)))
}

/// `GetStatus`: the snapshot of `/ready` and `/metrics`, with the reasons it is not ready, for a person.
pub async fn get_status(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    if caller.role != Role::Administrator {
        return Err(ApiError::new(ErrorCode::KkmAccessDenied, "the status page is for administrators"));
    }
    let s = state.clone();
    let snapshot = tokio::task::spawn_blocking(move || super::health::snapshot(&s))
        .await
        .map_err(|e| ApiError::new(ErrorCode::MethodExecutionException, e.to_string()))?;
    let reasons = snapshot.not_ready();
    let now = state.core.now();
    Ok(ok(serde_json::json!({
        "now": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
        "version": env!("CARGO_PKG_VERSION"),
        "ready": reasons.is_empty(),
        "reasons": reasons,
        "snapshot": snapshot,
    })))
}
