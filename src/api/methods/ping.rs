//! `Ping`: the core is alive. Needs no PIN.
use crate::api::error::ok;
use axum::response::Response;

pub async fn ping() -> Response {
    ok("ok")
}
