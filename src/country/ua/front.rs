//! The Ukrainian front's HTTP routes, on their own listener: the Device Manager's `POST /dm/execute`,
//! `/dm/execute-pkg` (one envelope or a batch, printed on the default printer), `/dm/execute-prn?dev_id=`
//! (printed on the named printer), `GET /dm/api/v1/sys_info`, the printed-form settings
//! (`GET`/`POST /vchasno-kasa/api/v1/settings`), and the cloud-style `POST /api/v3/fiscal/execute` with the
//! raw token in `Authorization`. Every answer is HTTP 200 with the envelope.
use super::errors::{self as e, UaError};
use super::tasks::{PrintTo, UaState};
use crate::listen;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

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

/// A request body, read whole in time ([`listen::read_body`]), or the envelope refusing it.
async fn read(body: axum::body::Body) -> Result<axum::body::Bytes, Value> {
    listen::read_body(body).await.map_err(|why| {
        let late = why.contains("did not arrive");
        let text = if late {
            "Тіло запиту не надійшло вчасно (10 с)"
        } else {
            "Тіло запиту не прочитано"
        };
        refused(UaError::new(e::BAD_REQUEST, format!("{text}: {why}")))
    })
}

async fn one(state: &Arc<UaState>, body: axum::body::Body, token: Option<&str>, print: PrintTo) -> Value {
    let body = match read(body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(env) => state.execute(&env, token, print).await,
        Err(err) => unreadable(&err),
    }
}

async fn execute(State(state): State<Arc<UaState>>, body: axum::body::Body) -> Response {
    reply(&one(&state, body, None, PrintTo::Nowhere).await)
}

/// A batch (a JSON array of envelopes, answered in order by an array) or one envelope; printed.
async fn execute_pkg(State(state): State<Arc<UaState>>, body: axum::body::Body) -> Response {
    let body = match read(body).await {
        Ok(body) => body,
        Err(refusal) => return reply(&refusal),
    };
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(list)) => {
            let mut out = Vec::with_capacity(list.len());
            for env in &list {
                out.push(state.execute(env, None, PrintTo::Default).await);
            }
            reply(&Value::Array(out))
        }
        Ok(env) => reply(&state.execute(&env, None, PrintTo::Default).await),
        Err(err) => reply(&unreadable(&err)),
    }
}

async fn execute_prn(
    State(state): State<Arc<UaState>>,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Body,
) -> Response {
    let print = match q.get("dev_id").filter(|d| !d.is_empty()) {
        Some(name) => PrintTo::Named(name.clone()),
        None => PrintTo::Default,
    };
    reply(&one(&state, body, None, print).await)
}

/// The cloud path: the token is the whole `Authorization` header (no `Bearer`).
async fn cloud_execute(State(state): State<Arc<UaState>>, headers: HeaderMap, body: axum::body::Body) -> Response {
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

async fn settings_post(State(state): State<Arc<UaState>>, body: axum::body::Body) -> Response {
    let body = match read(body).await {
        Ok(body) => body,
        Err(refusal) => return reply(&refusal),
    };
    let result = serde_json::from_slice::<Value>(&body)
        .map_err(|err| UaError::new(e::BAD_REQUEST, format!("Запит не є JSON: {err}")))
        .and_then(|v| state.set_settings(&v));
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

async fn not_found() -> Response {
    reply(&json!({"res": e::UNKNOWN_TASK, "errortxt": "Невідома адреса запиту", "info": {}}))
}

/// The router of the Ukrainian front.
pub fn router(state: Arc<UaState>) -> Router {
    Router::new()
        .route("/dm/execute", post(execute))
        .route("/dm/execute-pkg", post(execute_pkg))
        .route("/dm/execute-prn", post(execute_prn))
        .route("/dm/api/v1/sys_info", get(sys_info))
        .route("/vchasno-kasa/api/v1/settings", get(settings_get).post(settings_post))
        .route("/dm/vchasno-kasa/api/v1/settings", get(settings_get).post(settings_post))
        .route("/api/v3/fiscal/execute", post(cloud_execute))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(listen::MAX_FRAME))
        .with_state(state)
}

/// Serves the listener until `shutdown`.
pub async fn serve_http(
    state: Arc<UaState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve_http(router(state), listener, shutdown).await
}
