//! The Ukrainian front's HTTP routes, on their own listener (the shared kit, `listen`): the Device Manager's
//! `POST /dm/execute`, `/dm/execute-pkg` (one envelope or a batch of at most `ua.max_batch`, printed on the
//! default printer, answered one envelope at a time as each is done), `/dm/execute-prn?dev_id=` (printed on
//! the named printer), `GET /dm/api/v1/sys_info`, the printed-form settings
//! (`GET`/`POST /vchasno-kasa/api/v1/settings`), and the cloud-style `POST /api/v3/fiscal/execute` with the
//! raw token in `Authorization`. Every answer is HTTP 200 with the envelope, refusals of the listener itself
//! (a browser page, a foreign `Host`, a body too large or too late, a GET on a POST route) included.
//!
//! With `ua.token` set, every route that acts needs the token (`UaState::check_token`); the two GETs a POS
//! reads at start (`sys_info`, the settings) answer without it: they change nothing and tell nothing secret
//! (the Delphi client reads the settings without a token).
use super::errors::{self as e, UaError};
use super::tasks::{PrintTo, UaState};
use crate::listen::{self, BodyError, Held, Limits, Peer, WebRule};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn reply(v: &Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], v.to_string()).into_response()
}

/// An envelope for a body that is no JSON at all (HTTP 200, as every answer).
fn unreadable(err: &serde_json::Error) -> Value {
    refused(UaError::new(e::BAD_REQUEST, format!("Запит не є JSON: {err}")))
}

/// The envelope of a request refused before its JSON was read (`ver` 6, the version Kassa speaks: a
/// client binds it to a number).
fn refused(e: UaError) -> Value {
    json!({"task": null, "type": 1, "ver": 6, "source": null, "device": null, "tag": null,
        "res": e.res, "res_action": 0, "errortxt": e.text, "warnings": [], "error_extra": null, "info": {}})
}

/// The envelope refusing a body the listener did not read.
fn unread(why: BodyError) -> Value {
    let text = match &why {
        BodyError::Late(t) => format!("Тіло запиту не надійшло вчасно ({} с)", t.as_secs()),
        BodyError::TooLarge(max) => format!("Тіло запиту більше за {max} байтів"),
        BodyError::Busy => "Сервер зайнятий іншими великими запитами; повторіть".to_string(),
        BodyError::Broken(_) => "Тіло запиту не прочитано".to_string(),
    };
    refused(UaError::new(e::BAD_REQUEST, format!("{text}: {why}")))
}

/// The token presented outside the envelope: `Authorization`, raw or after `Bearer`.
fn header_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    Some(token.to_string())
}

async fn one(state: &Arc<UaState>, body: Result<Held, BodyError>, token: Option<&str>, print: PrintTo) -> Value {
    let body = match body {
        Ok(body) => body,
        Err(why) => return unread(why),
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(env) => state.execute(&env, token, print).await,
        Err(err) => unreadable(&err),
    }
}

async fn execute(State(state): State<Arc<UaState>>, headers: HeaderMap, body: Result<Held, BodyError>) -> Response {
    reply(&one(&state, body, header_token(&headers).as_deref(), PrintTo::Nowhere).await)
}

/// The number of envelopes a JSON array holds, counted without building them; past `max` it stops.
struct Count(usize);

const PAST_THE_LIMIT: &str = "past the limit";

impl<'de> Visitor<'de> for Count {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of envelopes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
            if n > self.0 {
                return Err(de::Error::custom(PAST_THE_LIMIT));
            }
        }
        Ok(n)
    }
}

/// A batch (a JSON array of envelopes, answered in order by an array) or one envelope; printed. A batch
/// larger than `ua.max_batch` is refused whole before anything is made; a batch's answer goes out one
/// envelope at a time as each is done, so it never sits whole in memory.
async fn execute_pkg(State(state): State<Arc<UaState>>, headers: HeaderMap, body: Result<Held, BodyError>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(why) => return reply(&unread(why)),
    };
    let token = header_token(&headers);
    let is_batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if !is_batch {
        return match serde_json::from_slice::<Value>(&body) {
            Ok(env) => reply(&state.execute(&env, token.as_deref(), PrintTo::Default).await),
            Err(err) => reply(&unreadable(&err)),
        };
    }
    let max = state.config.max_batch;
    let counted = de::Deserializer::deserialize_seq(&mut serde_json::Deserializer::from_slice(&body), Count(max));
    let list: Vec<Value> = match counted.and_then(|_| serde_json::from_slice(&body)) {
        Ok(list) => list,
        Err(err) if err.to_string().starts_with(PAST_THE_LIMIT) => {
            let text = format!("Пакет завеликий: не більше {max} завдань в одному запиті (ua.max_batch)");
            return reply(&refused(UaError::new(e::BAD_REQUEST, text)));
        }
        Err(err) => return reply(&unreadable(&err)),
    };
    drop(body);
    // A batch is refused whole when one of its envelopes lacks the token, before anything is made.
    if let Some(err) = list.iter().find_map(|env| state.check_token(env, token.as_deref()).err()) {
        return reply(&refused(err));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        let mut first = true;
        for env in &list {
            let answer = state.execute(env, token.as_deref(), PrintTo::Default).await;
            let mut chunk = Vec::from(if first { &b"["[..] } else { &b","[..] });
            first = false;
            chunk.extend(answer.to_string().into_bytes());
            if tx.send(Bytes::from(chunk)).await.is_err() {
                // The client left: the rest of the batch is not made.
                tracing::info!("batch cut short: the client left");
                return;
            }
        }
        let _ = tx.send(Bytes::from_static(if first { b"[]" } else { b"]" })).await;
    });
    let mut answer = axum::body::Body::new(Streamed(rx)).into_response();
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json; charset=utf-8"));
    answer
}

/// A response body fed chunk by chunk from a channel.
struct Streamed(mpsc::Receiver<Bytes>);

impl http_body::Body for Streamed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|c| Ok(http_body::Frame::data(c))))
    }
}

async fn execute_prn(
    State(state): State<Arc<UaState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Held, BodyError>,
) -> Response {
    let print = match q.get("dev_id").filter(|d| !d.is_empty()) {
        Some(name) => PrintTo::Named(name.clone()),
        None => PrintTo::Default,
    };
    reply(&one(&state, body, header_token(&headers).as_deref(), print).await)
}

/// The cloud path: the token is the whole `Authorization` header (no `Bearer`).
async fn cloud_execute(
    State(state): State<Arc<UaState>>,
    headers: HeaderMap,
    body: Result<Held, BodyError>,
) -> Response {
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_string();
    reply(&one(&state, body, Some(&token), PrintTo::Nowhere).await)
}

async fn sys_info(State(state): State<Arc<UaState>>) -> Response {
    reply(&state.sys_info())
}

async fn settings_get(State(state): State<Arc<UaState>>) -> Response {
    let mut v = state.settings_json();
    v["res"] = json!(0);
    v["errortxt"] = json!("");
    reply(&v)
}

async fn settings_post(
    State(state): State<Arc<UaState>>,
    headers: HeaderMap,
    body: Result<Held, BodyError>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(why) => return reply(&unread(why)),
    };
    let result = serde_json::from_slice::<Value>(&body)
        .map_err(|err| UaError::new(e::BAD_REQUEST, format!("Запит не є JSON: {err}")))
        .and_then(|mut v| {
            state.check_token(&v, header_token(&headers).as_deref())?;
            if let Some(m) = v.as_object_mut() {
                m.remove("token");
            }
            state.set_settings(&v)
        });
    match result {
        Ok((mut v, warnings)) => {
            v["res"] = json!(0);
            v["errortxt"] = json!("");
            v["warnings"] = Value::Array(warnings);
            reply(&v)
        }
        Err(err) => reply(&json!({"res": err.res, "errortxt": err.text, "warnings": []})),
    }
}

/// The answer to a path under `/t/<tenant>/` that names no tenant this node serves, or one it cannot serve.
pub fn no_tenant(why: String) -> Response {
    reply(&json!({"res": e::UNKNOWN_TASK, "errortxt": format!("Невідома адреса запиту: {why}"), "info": {}}))
}

async fn not_found() -> Response {
    reply(&json!({"res": e::UNKNOWN_TASK, "errortxt": "Невідома адреса запиту", "info": {}}))
}

/// A GET (or another method) on a route that takes POST.
async fn wrong_method() -> Response {
    reply(&refused(UaError::new(e::BAD_REQUEST, "Цю адресу викликають методом POST з JSON у тілі")))
}

/// Another method on a route that takes GET (and POST, the settings).
async fn wrong_verb() -> Response {
    reply(&refused(UaError::new(e::BAD_REQUEST, "Цей метод HTTP тут не приймається: GET (налаштування також POST)")))
}

/// Refuses a request from a web page that may not call Kassa, or addressed to a foreign name.
async fn web_guard(rule: Arc<WebRule>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let peer = request.extensions().get::<Arc<Peer>>().cloned();
    match rule.check(request.headers(), peer.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(forbidden) => {
            tracing::info!(refused = %forbidden, "request from a browser refused");
            reply(&refused(UaError::new(e::FORBIDDEN, format!("Запит відхилено: {forbidden}"))))
        }
    }
}

/// The router of the Ukrainian front; `web` decides which browser requests are taken.
pub fn router(state: Arc<UaState>, web: &crate::config::CorsConfig) -> Router {
    let rule = Arc::new(WebRule::new(web));
    let router = Router::new()
        .route("/dm/execute", post(execute).fallback(wrong_method))
        .route("/dm/execute-pkg", post(execute_pkg).fallback(wrong_method))
        .route("/dm/execute-prn", post(execute_prn).fallback(wrong_method))
        .route("/dm/api/v1/sys_info", get(sys_info).fallback(wrong_verb))
        .route("/vchasno-kasa/api/v1/settings", get(settings_get).post(settings_post).fallback(wrong_verb))
        .route("/dm/vchasno-kasa/api/v1/settings", get(settings_get).post(settings_post).fallback(wrong_verb))
        .route("/api/v3/fiscal/execute", post(cloud_execute).fallback(wrong_method))
        .fallback(not_found)
        .with_state(state.clone());
    let router = listen::handover::around(router, state.is_shared(), "ua")
        .layer(axum::middleware::from_fn(move |req, next| web_guard(rule.clone(), req, next)));
    match listen::origin::cors_layer(web) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The envelope on hyper's own answers to malformed HTTP (HTTP 200, as every answer of this front).
fn error_page(status: &[u8]) -> Vec<u8> {
    let (_, why) = listen::http::status_line(status);
    let body = refused(UaError::new(e::BAD_REQUEST, format!("Запит не є правильним HTTP: {why}")));
    listen::http::json_answer("200 OK", body.to_string().as_bytes())
}

/// Serves the listener until `shutdown`.
pub async fn serve_http(
    state: Arc<UaState>,
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
