//! Request parameters: the JSON body of a POST, or the query string of a GET, into a typed request.
//!
//! As the vendor's server reads them (docs/compat.md): a body that is not JSON is 2 `invalid_fields` (HTTP
//! 400, `uBaseRestServer.pas:306`); `null` for a field means the field is absent (the vendor's mapper gives
//! it its default), except where Kassa gives null a meaning of its own ([`NULL_MEANS_CLEAR`]); a wrong type
//! or a missing required field is 2 naming the field by its path (`items[0].commodity.price`), in the
//! caller's language. On POST, URL parameters are ignored, as the seed says. An empty body counts as `{}`.
//! The body is read in the charset `Content-Type` declares (UTF-8 when none), and refused with a clear text
//! when its bytes are not in that charset, never stored garbled.
use super::codes::ErrorCode;
use super::error::ApiError;
use crate::country::kz::text::Text;
use crate::listen::{BodyError, BodyRules};
use crate::text;
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
    let key = value
        .to_str()
        .map_err(|_| ApiError::field("Idempotency-Key", text!("только символы ASCII", "тек ASCII таңбалары")))?
        .trim();
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::field("Idempotency-Key", text!("от 1 до 128 символов", "1-ден 128 таңбаға дейін")));
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

/// Code 2 for a body the listener did not read, in both languages.
fn body_refused(e: BodyError) -> ApiError {
    tracing::info!(reason = %e, "request body refused");
    let detail = match e {
        BodyError::Late(t) => {
            text!("тело запроса не пришло за {} с", "сұрау денесі {} с ішінде келмеді", t.as_secs())
        }
        BodyError::TooLarge(_) | BodyError::Broken(_) => {
            text!("тело запроса не принято (слишком большое?)", "сұрау денесі қабылданбады (тым үлкен бе?)")
        }
        BodyError::Busy => text!(
            "сервер сейчас принимает другие большие запросы; повторите",
            "сервер қазір басқа үлкен сұрауларды қабылдап жатыр; қайталаңыз"
        ),
    };
    ApiError::new(ErrorCode::InvalidFields, detail)
}

async fn read<S: Send + Sync>(req: Request, _state: &S) -> Result<Raw, ApiError> {
    let slot = req.extensions().get::<super::metrics::KkmSlot>().cloned();
    if req.method() == Method::GET {
        let query = req.uri().query().unwrap_or("").to_owned();
        if let Some(slot) = &slot {
            slot.fill_from_query(&query);
        }
        return Ok(Raw::Query(query));
    }
    // The listener's rules: the body's time and size limits, and its share of the memory budget.
    let rules = req.extensions().get::<BodyRules>().cloned().unwrap_or_default();
    let charset = charset(req.headers());
    let body = crate::listen::body::read(req.into_body(), &rules).await.map_err(body_refused)?;
    let body = decode(&body, charset)?.into_owned();
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

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The body as UTF-8: decoded from the declared charset, a leading UTF-8 BOM dropped (Delphi and .NET stacks
/// write one). Bytes that are not in the declared charset are refused: UTF-8 labelled windows-1251 (its
/// Cyrillic would become `РљР°СЃСЃР°`), and windows-1251 sent as UTF-8 or behind a UTF-8 BOM.
fn decode<'a>(body: &'a [u8], charset: &'static Encoding) -> Result<Cow<'a, [u8]>, ApiError> {
    let label = charset.name();
    if charset == UTF_8 {
        let text = body.strip_prefix(BOM).unwrap_or(body);
        if let Err(e) = std::str::from_utf8(text) {
            let at = e.valid_up_to();
            return Err(charset_error(text!(
                "тело запроса не в UTF-8 (байт 0x{:02X} на позиции {}): пришлите UTF-8 или укажите кодировку, например Content-Type: application/json; charset=windows-1251",
                "сұрау денесі UTF-8 емес ({1} орнындағы 0x{0:02X} байты): UTF-8 жіберіңіз немесе кодтаманы көрсетіңіз, мысалы Content-Type: application/json; charset=windows-1251",
                text[at],
                at
            )));
        }
        return Ok(Cow::Borrowed(text));
    }
    if charset.is_single_byte() {
        let utf8 = body.starts_with(BOM) || (!body.is_ascii() && std::str::from_utf8(body).is_ok());
        if utf8 {
            return Err(charset_error(text!(
                "тело запроса объявлено как {} (Content-Type), но записано в UTF-8: уберите charset или укажите charset=utf-8",
                "сұрау денесі {} ретінде жарияланған (Content-Type), бірақ UTF-8 форматында жазылған: charset алып тастаңыз немесе charset=utf-8 көрсетіңіз",
                label
            )));
        }
    }
    let (text, _, malformed) = charset.decode(body);
    if malformed {
        return Err(charset_error(text!(
            "тело запроса содержит байты, которых нет в кодировке {}",
            "сұрау денесінде {} кодтамасында жоқ байттар бар",
            label
        )));
    }
    Ok(match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    })
}

fn charset_error(detail: Text) -> ApiError {
    ApiError::new(ErrorCode::InvalidFields, detail)
}

/// The longest text a request may carry in one string, in characters.
pub const MAX_STRING_CHARS: usize = 4096;
/// The one top-level field exempt from [`MAX_STRING_CHARS`]: a template's text, capped by the playground.
const TEMPLATE_SOURCE: &str = "source";
/// The most elements one list may have (items of a receipt included).
pub const MAX_LIST_LEN: usize = 1000;

/// Fields whose `null` Kassa reads as "clear it" rather than "absent" (absent keeps the stored value in
/// SaveKKM and SaveOperator; the vendor's server writes the whole record, so its null clears them too).
pub const NULL_MEANS_CLEAR: &[&str] = &["custom_data", "printer"];
/// Fields whose content is the caller's own JSON, kept as sent.
const FREE_JSON: &[&str] = &["custom_data"];

/// Checks the documented size limits on every string and list of a request, naming the first offender.
fn check_limits(value: &serde_json::Value, path: &mut String) -> Result<(), ApiError> {
    use serde_json::Value;
    match value {
        // A template's `source` (the playground's methods) has its own, larger cap there.
        Value::String(s) if s.chars().count() > MAX_STRING_CHARS && path != TEMPLATE_SOURCE => Err(ApiError::field(
            path_or_request(path),
            text!("длиннее {} символов", "{} таңбадан ұзын", MAX_STRING_CHARS),
        )),
        Value::Array(list) => {
            if list.len() > MAX_LIST_LEN {
                return Err(ApiError::field(
                    path_or_request(path),
                    text!("больше {} элементов", "{} элементтен көп", MAX_LIST_LEN),
                ));
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

/// Drops every member whose value is `null`, at any depth, so it reads as absent (C#, Java and Kotlin
/// serializers write nulls for unset fields); [`NULL_MEANS_CLEAR`] fields keep theirs, [`FREE_JSON`] its
/// content.
pub fn drop_nulls(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            map.retain(|k, v| !v.is_null() || NULL_MEANS_CLEAR.contains(&k.as_str()));
            for (k, v) in map.iter_mut() {
                if !FREE_JSON.contains(&k.as_str()) {
                    drop_nulls(v);
                }
            }
        }
        Value::Array(list) => list.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Parses a JSON body into `T`, naming the field of a type error or of a size limit exceeded.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    let mut value = serde_json::from_slice::<serde_json::Value>(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidFields,
            text!(
                "тело запроса — не JSON (строка {}, столбец {})",
                "сұрау денесі JSON емес (жол {}, баған {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    check_limits(&value, &mut String::new())?;
    drop_nulls(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field_error(if path == "." { "" } else { &path }, &e.into_inner().to_string())
    })
}

/// Parses a query string into `T`; numbers and booleans are read from their text.
pub fn from_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        field_error(if path == "." { "" } else { &path }, &e.into_inner().to_string())
    })
}

/// Code 2 for a field serde refused: its path and what is wrong, in both languages. A missing field is
/// named by its own path.
fn field_error(path: &str, message: &str) -> ApiError {
    let message = strip_position(message);
    if let Some(name) = between(message, "missing field `", "`") {
        let field = if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
        return ApiError::field(&field, text!("обязательное поле не задано", "міндетті өріс берілмеген"));
    }
    ApiError::field(path_or_request(path), serde_reason(message))
}

/// serde_json appends "at line 1 column 42"; the field path says more.
fn strip_position(text: &str) -> &str {
    text.rfind(" at line ").map_or(text, |i| &text[..i])
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let rest = text.split_once(open)?.1;
    Some(rest.split_once(close).map_or(rest, |(inside, _)| inside))
}

/// serde's English reasons (and those of Kassa's own readers in `api::json`), in both languages.
fn serde_reason(message: &str) -> Text {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let (got, expected) = (value_text(got), expected_text(expected));
        return Text {
            ru: format!("ожидается {}, получено {}", expected.ru, got.ru),
            kk: format!("{} күтіледі, {} келді", expected.kk, got.kk),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let got = value_text(rest.split_once(", expected ").map_or(rest, |(g, _)| g));
        return Text {
            ru: format!("недопустимое значение {}", got.ru), kk: format!("жарамсыз мән {}", got.kk)
        };
    }
    if let Some(name) = between(message, "unknown field `", "`") {
        return text!("неизвестное поле {}", "белгісіз өріс {}", name);
    }
    if let Some(name) = between(message, "duplicate field `", "`") {
        return text!("поле {} повторяется", "{} өрісі қайталанады", name);
    }
    if message.starts_with("invalid length") {
        return text!("неверное число элементов", "элементтер саны қате");
    }
    if message.starts_with("data did not match any variant") {
        return text!(
            "значение не подходит ни под одну допустимую форму",
            "мән рұқсат етілген пішіндердің ешқайсысына сәйкес келмейді"
        );
    }
    if let Some(v) = message.strip_suffix(" is not a number") {
        return text!("{} — не число", "{} сан емес", v);
    }
    if let Some(v) = message.strip_suffix(" is not an integer") {
        return text!("{} — не целое число", "{} бүтін сан емес", v);
    }
    if let Some(v) = message.strip_suffix(" is out of range") {
        return text!("{} вне допустимого диапазона", "{} рұқсат етілген ауқымнан тыс", v);
    }
    if message == "not a finite number" {
        return text!("не конечное число", "шекті сан емес");
    }
    tracing::debug!(%message, "a field refused for a reason without its own text");
    text!("недопустимое значение", "жарамсыз мән")
}

/// serde's `Unexpected` (`null`, ``integer `5` ``, `string "x"`, `map`, ...) in both languages.
fn value_text(got: &str) -> Text {
    let quoted = |prefix: &str| got.strip_prefix(prefix).map(|v| v.trim_matches('`'));
    if got == "null" {
        return Text::same("null");
    }
    if let Some(v) = quoted("boolean ") {
        return Text::same(v);
    }
    if let Some(v) = quoted("integer ").or_else(|| quoted("floating point ")) {
        return text!("число {}", "{} саны", v);
    }
    if let Some(v) = got.strip_prefix("string ") {
        return text!("строка {}", "{} жолы", v);
    }
    match got {
        "map" => text!("объект", "объект"),
        "sequence" => text!("список", "тізім"),
        _ => text!("другое значение", "басқа мән"),
    }
}

/// What a field expects (serde's `expected`, Rust's type names and Kassa's readers) in both languages.
fn expected_text(expected: &str) -> Text {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "an integer" => text!("целое число", "бүтін сан"),
        "f32" | "f64" | "a number" => text!("число", "сан"),
        "a string" => text!("строка", "жол"),
        "a boolean" => text!("true или false", "true немесе false"),
        "a sequence" => text!("список", "тізім"),
        e if e.starts_with("struct ") || e == "a map" => text!("объект", "объект"),
        _ => text!("другое значение", "басқа мән"),
    }
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
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default, deserialize_with = "crate::country::kz::front::json::present")]
        custom_data: Option<Option<serde_json::Value>>,
    }

    #[test]
    fn not_json_is_2_and_type_errors_are_2_with_the_field_in_both_languages() {
        let e = from_json::<Probe>(b"{\"ofd_id\": ").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFields);
        assert!(e.detail.ru.contains("не JSON"), "{e:?}");
        let e = from_json::<Probe>(b"{\"ofd_id\": \"x\"}").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFields);
        assert_eq!(e.detail.ru, "ofd_id: ожидается целое число, получено строка \"x\"");
        assert_eq!(e.detail.kk, "ofd_id: бүтін сан күтіледі, \"x\" жолы келді");
        let e = from_json::<Probe>(b"{}").unwrap_err();
        assert_eq!(e.detail.ru, "ofd_id: обязательное поле не задано");
        let e = from_json::<Probe>(b"{\"ofd_id\": 1} x").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFields);
    }

    #[test]
    fn null_is_absent_except_where_it_clears() {
        let p: Probe = from_json(br#"{"ofd_id": 1, "name": null, "tags": null, "custom_data": null}"#).unwrap();
        assert_eq!((p.name, p.tags.len(), p.custom_data), (None, 0, Some(None)));
        let p: Probe = from_json(br#"{"ofd_id": 1, "custom_data": {"a": null}}"#).unwrap();
        assert_eq!(p.custom_data, Some(Some(serde_json::json!({"a": null}))), "free JSON kept as sent");
        let e = from_json::<Probe>(br#"{"ofd_id": null}"#).unwrap_err();
        assert_eq!(e.detail.ru, "ofd_id: обязательное поле не задано", "a required field stays required");
    }

    #[test]
    fn a_bom_is_dropped_and_cp1251_decoded() {
        let with_bom = decode(b"\xEF\xBB\xBF{}", UTF_8).unwrap();
        assert_eq!(&*with_bom, b"{}");
        let cp1251 = Encoding::for_label(b"cp1251").unwrap();
        assert_eq!(&*decode(b"\"\xCA\xE0\xF1\xF1\xE0\"", cp1251).unwrap(), "\"Касса\"".as_bytes());
    }

    #[test]
    fn bytes_in_another_charset_than_declared_are_refused() {
        let cp1251 = Encoding::for_label(b"windows-1251").unwrap();
        let e = decode("{\"name\": \"Касса\"}".as_bytes(), cp1251).unwrap_err();
        assert!(e.detail.ru.contains("windows-1251") && e.detail.ru.contains("UTF-8"), "{e:?}");
        let e = decode(b"\xEF\xBB\xBF{\"name\": \"\xCA\xE0\xF1\xF1\xE0\"}", UTF_8).unwrap_err();
        assert!(e.detail.ru.contains("не в UTF-8"), "{e:?}");
        assert!(decode(b"{\"name\": \"abc\"}", cp1251).is_ok(), "ASCII is the same in both");
    }

    #[test]
    fn query_values_are_typed() -> Result<(), ApiError> {
        let p: Probe = from_query("ofd_id=6923&name=%D0%9A")?;
        assert_eq!((p.ofd_id, p.name.as_deref()), (6923, Some("К")));
        let e = from_query::<Probe>("ofd_id=abc").unwrap_err();
        assert!(e.detail.ru.starts_with("ofd_id"), "{}", e.detail.ru);
        Ok(())
    }
}
