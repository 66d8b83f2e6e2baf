//! The Belarusian front's transport: the envelope `{type, address, reply_address?, headers, data}` over
//! HTTP (POST to any path of its own listener) and over 4-byte length-framed TCP, the same messages on
//! both, on the shared listener kit (`listen`). `ping` answers `pong`; a request answers `send` with its
//! data or `error` with a code and a text. Every HTTP answer is HTTP 200 with the envelope, refusals of the
//! listener itself (a browser page, a foreign `Host`, a body too large or too late, a GET) included.
use super::actions::{ByState, Request};
use super::errors::{self as e, ByError, Lang};
use crate::listen::throttle::Client;
use crate::listen::{self, BodyError, FrameHandler, Held, Limits, Peer, WebRule};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Answers one message (the bytes of its JSON) from `client`.
pub async fn answer(state: &Arc<ByState>, client: &Client, bytes: &[u8]) -> Value {
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
            match state.handle(req, client).await {
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

fn reply(out: &Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], out.to_string()).into_response()
}

async fn http_answer(
    State(state): State<Arc<ByState>>,
    peer: Option<axum::Extension<Arc<Peer>>>,
    headers: HeaderMap,
    body: Result<Held, BodyError>,
) -> Response {
    let out = match body {
        Ok(bytes) => {
            let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
            let client = match &peer {
                Some(peer) => Client::of(peer, agent),
                None => Client::new(std::net::Ipv4Addr::LOCALHOST.into(), None, agent),
            };
            answer(&state, &client, &bytes).await
        }
        Err(why) => ByError::ours(e::BAD_MESSAGE, format!("тело запроса: {why}"), format!("цела запыту: {why}"))
            .to_json(Lang::parse(&state.config.lang)),
    };
    reply(&out)
}

async fn http_other(State(state): State<Arc<ByState>>) -> Response {
    let out = ByError::ours(
        e::BAD_MESSAGE,
        "отправьте сообщение в JSON методом POST",
        "адпраўце паведамленне ў JSON метадам POST",
    )
    .to_json(Lang::parse(&state.config.lang));
    reply(&out)
}

/// The answer to a path under `/t/<tenant>/` that names no tenant this node serves, or one it cannot serve.
pub fn no_tenant(why: String) -> Response {
    let (ru, be) = (format!("неизвестный адрес: {why}"), format!("невядомы адрас: {why}"));
    reply(&ByError::ours(e::BAD_MESSAGE, ru, be).to_json(Lang::Ru))
}

/// Refuses a request from a web page that may not call Kassa, or addressed to a foreign name.
async fn web_guard(
    rule: Arc<WebRule>,
    lang: Lang,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = request.extensions().get::<Arc<Peer>>().cloned();
    match rule.check(request.headers(), peer.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(forbidden) => {
            tracing::info!(refused = %forbidden, "request from a browser refused");
            let (ru, be) = (format!("запрос отклонён: {forbidden}"), format!("запыт адхілены: {forbidden}"));
            reply(&ByError::ours(e::FORBIDDEN, ru, be).to_json(lang))
        }
    }
}

/// The HTTP router: POST to any path; `web` decides which browser requests are taken.
pub fn router(state: Arc<ByState>, web: &crate::config::CorsConfig) -> Router {
    let post = axum::routing::post(http_answer).fallback(http_other);
    let rule = Arc::new(WebRule::new(web));
    let lang = Lang::parse(&state.config.lang);
    let shared = state.is_shared();
    let router = Router::new().route("/", post.clone()).route("/{*path}", post).with_state(state);
    let router = listen::handover::around(router, shared, "by")
        .layer(axum::middleware::from_fn(move |req, next| web_guard(rule.clone(), lang, req, next)));
    match listen::origin::cors_layer(web) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The envelope on hyper's own answers to malformed HTTP (HTTP 200, as every answer of this front).
fn error_page(status: &[u8]) -> Vec<u8> {
    let (_, why) = listen::http::status_line(status);
    let error = ByError::ours(e::BAD_MESSAGE, format!("не HTTP-запрос: {why}"), format!("не HTTP-запыт: {why}"));
    listen::http::json_answer("200 OK", error.to_json(Lang::Ru).to_string().as_bytes())
}

/// The error frame refusing a framed message the listener could not take.
fn frame_refusal(why: &str) -> Vec<u8> {
    let error = ByError::ours(e::BAD_MESSAGE, format!("кадр не принят: {why}"), format!("кадр не прыняты: {why}"));
    error.to_json(Lang::Ru).to_string().into_bytes()
}

/// Serves the HTTP listener until `shutdown`.
pub async fn serve_http(
    state: Arc<ByState>,
    tenants: Option<Arc<dyn listen::tenants::Fronts>>,
    listener: TcpListener,
    limits: Limits,
    web: &crate::config::CorsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Limits { max_body: listen::MAX_FRAME, ..limits };
    let router = listen::tenants::around(router(state, web), tenants);
    listen::http::serve(router, listener, limits, error_page, shutdown).await
}

/// Serves the framed TCP listener until `shutdown`.
pub async fn serve_tcp(
    state: Arc<ByState>,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handler: FrameHandler = Arc::new(move |peer: Arc<Peer>, bytes: Vec<u8>| {
        let state = state.clone();
        Box::pin(async move { answer(&state, &Client::of(&peer, None), &bytes).await.to_string().into_bytes() })
    });
    listen::framed::serve(listener, limits, handler, frame_refusal, shutdown).await
}
