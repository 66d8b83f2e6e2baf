//! The Belarusian front's error codes: the seed's symbolic codes where one applies (`AVQFR_*` from the
//! fiscal module, `TIN_*` from the document checks, `CRT_*` from the certificate), and ours, prefixed
//! `KASSA_`, where the seed names none. Every error answers `{"type": "error", "data": {"code", "text"}}`.
use serde_json::json;

/// One error of this front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByError {
    pub code: &'static str,
    pub text: String,
}

impl ByError {
    pub fn new(code: &'static str, text: impl Into<String>) -> ByError {
        ByError { code, text: text.into() }
    }

    /// A field that is missing or malformed.
    pub fn format(field: &str, why: impl std::fmt::Display) -> ByError {
        ByError::new(BAD_DOCUMENT_FORMAT, format!("bad document format: {field}: {why}"))
    }

    /// The error message of the wire.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"type": "error", "data": {"code": self.code, "text": self.text}})
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
pub const UNKNOWN_TOKEN: &str = "KASSA_UNKNOWN_TOKEN";
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
