//! The HTTP API of the seed contract: one route per method at `/<MethodName>`, the JSON envelope, auth.
//!
//! Handlers only convert: JSON request → validated fiscal command → fiscal core → JSON answer. Only this
//! part knows axum and the wire shapes.
pub mod auth;
pub mod codes;
pub mod conn;
pub mod error;
pub mod extract;
pub mod json;
pub(crate) mod methods;
pub mod print;

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
}

impl AppState {
    pub fn new(core: Arc<Core>, printing: Arc<print::Printing>) -> AppState {
        let throttle = Arc::new(auth::Throttle::new(&core.config().auth));
        AppState { core, throttle, printing }
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

/// The router of the whole API.
pub fn app(state: AppState) -> Router {
    let limit = state.core.config().max_body_bytes;
    methods::routes().layer(DefaultBodyLimit::max(limit)).with_state(state)
}
