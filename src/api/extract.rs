//! Request parameters: the JSON body of a POST, or the query string of a GET, into a typed request.
//!
//! Malformed JSON → 73 `source_object_deserialization_error`; a wrong type or a missing required field →
//! 2 `invalid_fields` naming the field by its path (`items[0].commodity.price`). On POST, URL parameters are
//! ignored, as the seed says. An empty body counts as `{}`.
use super::codes::ErrorCode;
use super::conn::BodyDeadline;
use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use encoding_rs::{Encoding, UTF_8};
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// The typed parameters of a method call.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read(req, state).await?.params().map(Params)
    }
}

/// The typed parameters of a document method with its `Idempotency-Key`: the key and the request as JSON,
/// whose digest tells a retry (the same request) from a reuse of the key (another request).
pub struct Keyed<T> {
    pub params: T,
    pub key: Option<(String, serde_json::Value)>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Keyed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let key = idempotency_key(req.headers())?;
        let raw = read(req, state).await?;
        let params = raw.params()?;
        Ok(Keyed { params, key: key.map(|k| (k, raw.as_json())) })
    }
}

/// `Idempotency-Key`: the same key with the same request returns the stored answer and creates no second
/// document.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| ApiError::field("Idempotency-Key", "must be ASCII"))?.trim();
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::new(ErrorCode::InvalidFields, "Idempotency-Key: 1 to 128 characters"));
    }
    Ok(Some(key.to_owned()))
}

/// A request's parameters before typing: a GET's query or a POST's body (decoded to UTF-8).
enum Raw {
    Query(String),
    Body(Vec<u8>),
}

impl Raw {
    fn params<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        match self {
            Raw::Query(query) => from_query(query),
            Raw::Body(body) => from_json(body),
        }
    }

    /// The parameters as JSON (a query as an object of its texts), for the request's digest.
    fn as_json(&self) -> serde_json::Value {
        match self {
            Raw::Query(query) => serde_json::Value::Object(
                form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                    .collect(),
            ),
            Raw::Body(body) if body.iter().all(u8::is_ascii_whitespace) => serde_json::json!({}),
            Raw::Body(body) => serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
        }
    }
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Raw, ApiError> {
    let slot = req.extensions().get::<super::metrics::KkmSlot>().cloned();
    if req.method() == Method::GET {
        let query = req.uri().query().unwrap_or("").to_owned();
        if let Some(slot) = &slot {
            slot.fill_from_query(&query);
        }
        return Ok(Raw::Query(query));
    }
    let deadline = req.extensions().get::<BodyDeadline>().cloned();
    let charset = charset(req.headers());
    let read = Bytes::from_request(req, state);
    let read = match &deadline {
        // A body that trickles in never holds its connection longer than the deadline.
        Some(d) => tokio::time::timeout(d.timeout, read).await.map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidFields,
                format!("the request body did not arrive within {} s", d.timeout.as_secs()),
            )
        })?,
        None => read.await,
    };
    let body = read.map_err(|rejection| {
        ApiError::new(ErrorCode::InvalidFields, format!("request body refused: {}", rejection.body_text()))
    })?;
    if let Some(d) = deadline {
        d.slot.body_read();
    }
    let body = decode(&body, charset).into_owned();
    if let Some(slot) = &slot {
        slot.fill_from_json(&body);
    }
    Ok(Raw::Body(body))
}

/// The encoding a `Content-Type: ...; charset=...` declares (`windows-1251`, `cp1251`); UTF-8 otherwise.
fn charset(headers: &HeaderMap) -> &'static Encoding {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').skip(1).find_map(|p| p.trim().strip_prefix("charset=")))
        .and_then(|label| Encoding::for_label(label.trim().trim_matches('"').as_bytes()))
        .unwrap_or(UTF_8)
}

/// The body as UTF-8: decoded from the declared charset, a leading UTF-8 BOM dropped (Delphi and .NET
/// stacks write one).
fn decode<'a>(body: &'a [u8], charset: &'static Encoding) -> Cow<'a, [u8]> {
    if charset == UTF_8 {
        return Cow::Borrowed(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body));
    }
    let (text, _, _) = charset.decode(body);
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    }
}

/// The longest text a request may carry in one string, in characters.
pub const MAX_STRING_CHARS: usize = 4096;
/// The one top-level field exempt from [`MAX_STRING_CHARS`]: a template's text, capped by the playground.
const TEMPLATE_SOURCE: &str = "source";
/// The most elements one list may have (items of a receipt included).
pub const MAX_LIST_LEN: usize = 1000;

/// Checks the documented size limits on every string and list of a request, naming the first offender.
fn check_limits(value: &serde_json::Value, path: &mut String) -> Result<(), ApiError> {
    use serde_json::Value;
    match value {
        // A template's `source` (the playground's methods) has its own, larger cap there.
        Value::String(s) if s.chars().count() > MAX_STRING_CHARS && path != TEMPLATE_SOURCE => {
            Err(ApiError::field(path_or_request(path), format!("longer than {MAX_STRING_CHARS} characters")))
        }
        Value::Array(list) => {
            if list.len() > MAX_LIST_LEN {
                return Err(ApiError::field(path_or_request(path), format!("more than {MAX_LIST_LEN} elements")));
            }
            for (i, v) in list.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_limits(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                check_limits(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn path_or_request(path: &str) -> &str {
    if path.is_empty() { "request" } else { path }
}

/// Parses a JSON body into `T`, naming the field of a type error or of a size limit exceeded.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        check_limits(&value, &mut String::new())?;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| ApiError::new(ErrorCode::SourceObjectDeserializationError, e.to_string()))?;
    Ok(value)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        Category::Data => ApiError::field(if path == "." { "request" } else { &path }, strip_position(&inner)),
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::new(ErrorCode::SourceObjectDeserializationError, inner.to_string())
        }
    }
}

/// serde_json appends "at line 1 column 42"; for a field error the field path says more.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Parses a query string into `T`; numbers and booleans are read from their text.
pub fn from_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::field(if path == "." { "query" } else { &path }, e.into_inner())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Probe {
        ofd_id: i64,
        #[serde(default)]
        name: Option<String>,
    }

    #[test]
    fn syntax_errors_are_73_and_type_errors_are_2_with_the_field() {
        let e = from_json::<Probe>(b"{\"ofd_id\": ").unwrap_err();
        assert_eq!(e.code, ErrorCode::SourceObjectDeserializationError);
        let e = from_json::<Probe>(b"{\"ofd_id\": \"x\"}").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFields);
        assert!(e.detail.starts_with("ofd_id:"), "{}", e.detail);
        let e = from_json::<Probe>(b"{}").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFields);
        assert!(e.detail.contains("ofd_id"), "{}", e.detail);
    }

    #[test]
    fn a_bom_is_dropped_and_cp1251_decoded() {
        let with_bom = decode(b"\xEF\xBB\xBF{}", UTF_8);
        assert_eq!(&*with_bom, b"{}");
        let cp1251 = Encoding::for_label(b"cp1251").unwrap();
        assert_eq!(&*decode(b"\"\xCA\xE0\xF1\xF1\xE0\"", cp1251), "\"Касса\"".as_bytes());
    }

    #[test]
    fn query_values_are_typed() -> Result<(), ApiError> {
        let p: Probe = from_query("ofd_id=6923&name=%D0%9A")?;
        assert_eq!((p.ofd_id, p.name.as_deref()), (6923, Some("К")));
        let e = from_query::<Probe>("ofd_id=abc").unwrap_err();
        assert!(e.detail.starts_with("ofd_id"), "{}", e.detail);
        Ok(())
    }
}
