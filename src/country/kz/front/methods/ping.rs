//! `Ping`: the core is alive. Needs no PIN.
use crate::country::kz::front::error::ok;
use axum::response::Response;

pub async fn ping() -> Response {
    ok("ok")
}
