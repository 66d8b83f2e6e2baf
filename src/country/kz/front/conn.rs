//! The Kazakh API on the shared HTTP listener (`listen::http`: head and body time-outs, the connection cap
//! that sheds idle and slow clients first), with hyper's own 400/414/431/408 answers carrying the JSON
//! envelope (code 2) under their own status.
use super::codes::ErrorCode;
use super::error::ApiError;
use crate::listen::http;

pub use crate::listen::http::Limits;

/// The answer that replaces hyper's empty error answer with this status.
pub fn envelope_answer(status: &[u8]) -> Vec<u8> {
    let (line, _) = http::status_line(status);
    let detail = match status {
        b"414" => "слишком длинный URL",
        b"431" => "слишком большие заголовки запроса",
        b"408" => "запрос не пришёл вовремя",
        _ => "запрос — не корректный HTTP",
    };
    http::json_answer(line, &ApiError::new(ErrorCode::InvalidFields, detail).envelope_bytes())
}

/// Serves `app` on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    http::serve(app, listener, limits, envelope_answer, shutdown).await
}
