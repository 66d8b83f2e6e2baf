//! The Belarusian front's transport: the envelope `{type, address, reply_address?, headers, data}` over
//! HTTP (POST to any path of its own listener) and over 4-byte length-framed TCP, the same messages on
//! both. `ping` answers `pong`; a request answers `send` with its data or `error` with a code and a text.
use super::actions::{ByState, Request};
use super::errors::{self as e, ByError, Lang};
use crate::listen::{self, FrameHandler};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Answers one message (the bytes of its JSON).
pub async fn answer(state: &Arc<ByState>, bytes: &[u8]) -> Value {
    let default = Lang::parse(&state.config.lang);
    let msg: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(err) => {
            let (ru, be) = (format!("сообщение не JSON: {err}"), format!("паведамленне не JSON: {err}"));
            return ByError::ours(e::BAD_MESSAGE, ru, be).to_json(default);
        }
    };
    // The language of Kassa's own texts: the message's `lang` header, else the configured one.
    let lang = msg.pointer("/headers/lang").and_then(Value::as_str).map(Lang::parse).unwrap_or(default);
    // `replyAddress` is how the older iKassa API spells it.
    let reply_to = msg.get("reply_address").or_else(|| msg.get("replyAddress")).cloned().filter(|v| !v.is_null());
    let mut out = match envelope(&msg) {
        Err(err) => err.to_json(lang),
        Ok(None) => json!({"type": "pong"}),
        Ok(Some(req)) => {
            let what = format!("{} {}", req.address, req.action);
            match state.handle(req).await {
                Ok(data) => json!({"type": "send", "data": data}),
                Err(err) => {
                    tracing::info!(request = %what, code = err.code, "request refused");
                    err.to_json(lang)
                }
            }
        }
    };
    if let (Some(to), Some(obj)) = (reply_to, out.as_object_mut()) {
        obj.insert("address".into(), to);
    }
    out
}

/// The request in an envelope; `None` for a ping.
fn envelope(msg: &Value) -> Result<Option<Request>, ByError> {
    let bad = |ru: &str, be: &str| ByError::ours(e::BAD_MESSAGE, ru.to_string(), be.to_string());
    let kind = msg
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("у сообщения нет type", "у паведамлення няма type"))?;
    match kind {
        "ping" => return Ok(None),
        "send" => {}
        other => {
            return Err(bad(
                &format!("type «{other}»: ожидается send или ping"),
                &format!("type «{other}»: чакаецца send або ping"),
            ));
        }
    }
    let address = msg
        .get("address")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("у сообщения нет address", "у паведамлення няма address"))?;
    let mut headers = BTreeMap::new();
    match msg.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(bad(
                            &format!("заголовок «{k}» должен быть строкой"),
                            &format!("загаловак «{k}» павінен быць радком"),
                        ));
                    }
                };
                headers.insert(k.clone(), v);
            }
        }
        Some(_) => return Err(bad("headers должен быть объектом строк", "headers павінен быць аб'ектам радкоў")),
    }
    let action = headers.get("action").cloned().ok_or_else(|| bad("нет headers.action", "няма headers.action"))?;
    let data = msg.get("data").cloned().unwrap_or(Value::Null);
    Ok(Some(Request { address: address.to_string(), action, headers, data }))
}

async fn http_answer(State(state): State<Arc<ByState>>, body: axum::body::Body) -> Response {
    let out = match listen::read_body(body).await {
        Ok(bytes) => answer(&state, &bytes).await,
        Err(text) => ByError::ours(e::BAD_MESSAGE, format!("тело запроса: {text}"), format!("цела запыту: {text}"))
            .to_json(Lang::parse(&state.config.lang)),
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], out.to_string()).into_response()
}

async fn http_other(State(state): State<Arc<ByState>>) -> Response {
    let out = ByError::ours(
        e::BAD_MESSAGE,
        "отправьте сообщение в JSON методом POST",
        "адпраўце паведамленне ў JSON метадам POST",
    )
    .to_json(Lang::parse(&state.config.lang));
    (StatusCode::METHOD_NOT_ALLOWED, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], out.to_string())
        .into_response()
}

/// The HTTP router: POST to any path.
pub fn router(state: Arc<ByState>) -> Router {
    let post = axum::routing::post(http_answer).fallback(http_other);
    Router::new()
        .route("/", post.clone())
        .route("/{*path}", post)
        .layer(DefaultBodyLimit::max(listen::MAX_FRAME))
        .with_state(state)
}

/// Serves the HTTP listener until `shutdown`.
pub async fn serve_http(
    state: Arc<ByState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve_http(router(state), listener, shutdown).await
}

/// Serves the framed TCP listener until `shutdown`.
pub async fn serve_tcp(
    state: Arc<ByState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handler: FrameHandler = Arc::new(move |bytes: Vec<u8>| {
        let state = state.clone();
        Box::pin(async move { answer(&state, &bytes).await.to_string().into_bytes() })
    });
    listen::serve_framed(listener, handler, shutdown).await
}
