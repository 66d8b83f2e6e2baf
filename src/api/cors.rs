//! CORS for POS apps running in a browser: only the origins listed in `cors.allowed_origins` (none by
//! default), preflights answered, Chrome's Private Network Access allowed (a public page calling 127.0.0.1).
use crate::config::CorsConfig;
use axum::http::{HeaderName, HeaderValue, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The CORS layer for the configured origins; `None` when no origin is allowed.
pub fn layer(config: &CorsConfig) -> Option<CorsLayer> {
    if config.allowed_origins.is_empty() {
        return None;
    }
    let origin = if config.allowed_origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = config
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
            .collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
                axum::http::header::ACCEPT_LANGUAGE,
                HeaderName::from_static("idempotency-key"),
            ])
            .allow_private_network(true)
            .max_age(Duration::from_secs(600)),
    )
}
