//! The Belarusian front's error codes: the seed's symbolic codes where one applies (`AVQFR_*` from the
//! fiscal module, `TIN_*` from the document checks, `CRT_*` from the certificate), and ours, prefixed
//! `KASSA_`, where the seed names none. Every error answers `{"type": "error", "data": {"code", "text"}}`.
use serde_json::json;

/// The language of Kassa's own error texts: Russian, or Belarusian where a message asks for it (header
/// `lang: be`) or `by.lang` says so. The seed's own texts (`TIN_*`, `AVQFR_*`) stay as the seed writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ru,
    Be,
}

impl Lang {
    /// `be`, `be-BY`, `bel` are Belarusian; anything else Russian.
    pub fn parse(s: &str) -> Lang {
        let s = s.trim().to_ascii_lowercase();
        if s == "be" || s == "bel" || s.starts_with("be-") || s.starts_with("be_") { Lang::Be } else { Lang::Ru }
    }
}

/// One error of this front: its code and its text in Russian, with a Belarusian one for Kassa's own texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByError {
    pub code: &'static str,
    pub text: String,
    pub be: Option<String>,
    /// More of the error's data (the valid actions of a service, …), beside `code` and `text`. Boxed: few
    /// errors carry it, and every `Result` of the front would otherwise be as large as a JSON value.
    pub extra: Option<Box<serde_json::Value>>,
}

impl ByError {
    /// An error with the seed's own text (the same in every language).
    pub fn new(code: &'static str, text: impl Into<String>) -> ByError {
        ByError { code, text: text.into(), be: None, extra: None }
    }

    /// An error with Kassa's own text, in Russian and in Belarusian.
    pub fn ours(code: &'static str, ru: impl Into<String>, be: impl Into<String>) -> ByError {
        ByError { code, text: ru.into(), be: Some(be.into()), extra: None }
    }

    /// A field that is missing or malformed: the seed's text, then the field and why (Russian, Belarusian).
    pub fn format(field: &str, ru: impl std::fmt::Display, be: impl std::fmt::Display) -> ByError {
        ByError::ours(
            BAD_DOCUMENT_FORMAT,
            format!("bad document format: {field}: {ru}"),
            format!("bad document format: {field}: {be}"),
        )
    }

    /// Kassa itself failed.
    pub fn internal(why: impl std::fmt::Display) -> ByError {
        ByError::ours(INTERNAL, format!("внутренняя ошибка: {why}"), format!("унутраная памылка: {why}"))
    }

    /// The text in `lang`.
    pub fn text_in(&self, lang: Lang) -> &str {
        match (lang, &self.be) {
            (Lang::Be, Some(be)) => be,
            _ => &self.text,
        }
    }

    /// The error message of the wire.
    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        let mut data = json!({"code": self.code, "text": self.text_in(lang)});
        if let (Some(extra), Some(d)) = (self.extra.as_ref().and_then(|x| x.as_object()), data.as_object_mut()) {
            d.extend(extra.clone());
        }
        json!({"type": "error", "data": data})
    }
}

impl std::fmt::Display for ByError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.text)
    }
}

// The seed's codes (change log 2.x).
pub const BAD_DOCUMENT_FORMAT: &str = "AVQFR_BAD_DOCUMENT_FORMAT";
pub const CH_WITHDRAW_MAX_SUM: &str = "AVQFR_CH_WITHDRAW_MAX_SUM";
pub const CH_WITHDRAW_ONLY_BYN: &str = "AVQFR_CH_WITHDRAW_ONLY_BYN";
pub const MAX_DOC_COUNT_OVERFLOW: &str = "AVQFR_MAX_DOC_COUNT_OVERFLOW";
pub const TOO_MANY_ITEMS: &str = "AVQFR_TOO_MANY_ITEMS";
pub const MISSING_LEGAL_ADDR: &str = "CRT_MISSING_LEGAL_ADDR";
pub const ONLY_SALE_ROLLBACK: &str = "TIN_ONLY_SALE_ROLLBACK";
pub const MARKING_QUANTITY_1: &str = "TIN_MARKING_QUANTITY_1";
pub const MULTIPLE_CASH_PAYMENTS: &str = "TIN_MULTIPLE_CASH_PAYMENTS";
pub const TOO_MANY_MARKING_CODES: &str = "TIN_TOO_MANY_MARKING_CODES";
pub const MULTIPLE_MARKING_CODES: &str = "TIN_MULTIPLE_MARKING_CODES";
pub const MARKING_CODE_LEN: &str = "TIN_MARKING_CODE_LEN";
pub const MARKING_CODE_WITHOUT_GTIN: &str = "TIN_MARKING_CODE_WITHOUT_GTIN";
pub const TOO_MANY_DISCOUNTS: &str = "TIN_TOO_MANY_DISCOUNTS";
pub const TOO_MANY_MARKUPS: &str = "TIN_TOO_MANY_MARKUPS";
pub const EMPTY_ITEMS: &str = "TIN_EMPTY_ITEMS";
pub const MISSING_LAST_SALE: &str = "TIN_MISSING_LAST_SALE";

// Ours.
pub const BAD_MESSAGE: &str = "KASSA_BAD_MESSAGE";
pub const UNKNOWN_ADDRESS: &str = "KASSA_UNKNOWN_ADDRESS";
pub const UNKNOWN_ACTION: &str = "KASSA_UNKNOWN_ACTION";
/// The `token` header names no configured СКО.
pub const UNKNOWN_TOKEN: &str = "KASSA_UNKNOWN_TOKEN";
/// Several СКО are configured and the message names none (the seed: `token` may be left out only when one
/// СКО is connected).
pub const TOKEN_REQUIRED: &str = "KASSA_TOKEN_REQUIRED";
pub const NOT_AUTHORIZED: &str = "KASSA_NOT_AUTHORIZED";
pub const BAD_PIN: &str = "KASSA_BAD_PIN";
pub const PIN_PAUSED: &str = "KASSA_PIN_PAUSED";
pub const SHIFT_CLOSED: &str = "KASSA_SHIFT_CLOSED";
pub const SHIFT_OPEN: &str = "KASSA_SHIFT_OPEN";
pub const SHIFT_EXPIRED: &str = "KASSA_SHIFT_EXPIRED";
pub const NO_CLOSED_SHIFT: &str = "KASSA_NO_CLOSED_SHIFT";
pub const DOCUMENT_NOT_FOUND: &str = "KASSA_DOCUMENT_NOT_FOUND";
pub const ROLLBACK_MISMATCH: &str = "KASSA_ROLLBACK_MISMATCH";
pub const NOT_ENOUGH_CASH: &str = "KASSA_NOT_ENOUGH_CASH";
pub const PAYMENT_TOO_SMALL: &str = "KASSA_PAYMENT_TOO_SMALL";
pub const UNKNOWN_PRINTER: &str = "KASSA_UNKNOWN_PRINTER";
/// An operation_id made a document from another request (another action or other data) on this СКО.
pub const OPERATION_ID_REUSED: &str = "KASSA_OPERATION_ID_REUSED";
pub const INTERNAL: &str = "KASSA_INTERNAL";
/// A request from a web page that may not call Kassa, or addressed to a name that is not this listener's.
pub const FORBIDDEN: &str = "KASSA_FORBIDDEN";
