//! The `res` codes of the Ukrainian front and their texts. Vchasno publishes no table of `res` values,
//! only that 0 is success and that `errortxt` says what went wrong in Ukrainian; these numbers are
//! Kassa's own, one per kind of failure, so a POS can branch on them.

/// The request is not a JSON envelope, or a field has the wrong type or value.
pub const BAD_REQUEST: i64 = 1;
/// A text field holds a character outside the seed's allowed set.
pub const BAD_CHARACTER: i64 = 2;
/// The receipt's rows, sums or payments do not add up or are out of range.
pub const BAD_RECEIPT: i64 = 3;
/// No shift is open.
pub const SHIFT_NOT_OPEN: i64 = 4;
/// A shift is open already.
pub const SHIFT_OPEN: i64 = 5;
/// The drawer holds less cash than the operation pays out.
pub const NOT_ENOUGH_CASH: i64 = 6;
/// The task (or `type`) is not served.
pub const UNKNOWN_TASK: i64 = 7;
/// The token does not match the register's.
pub const BAD_TOKEN: i64 = 8;
/// No document to reprint or look up.
pub const NO_DOCUMENT: i64 = 9;
/// The `tag` made a document from another request (another task or other data) on this ПРРО. (10 was an
/// unknown printer before issue 20 made that a warning; it is not reused.)
pub const TAG_REUSED: i64 = 11;
/// A request from a web page that may not call Kassa, or addressed to a name that is not this listener's.
pub const FORBIDDEN: i64 = 12;
/// The envelope's `device` names no ПРРО of this DM (or names none while it has several).
pub const UNKNOWN_DEVICE: i64 = 13;
/// Kassa itself failed (the store, rendering).
pub const INTERNAL: i64 = 99;

/// A warning of an answer that went through (`warnings[]`, each `{code, wtxt}` as the public clients read
/// them): the task was done, but not all of it as asked.
pub type Warning = serde_json::Value;

/// The receipt was not printed: the printer `dev_id` names is unknown.
pub const W_NOT_PRINTED: i64 = 1;
/// A settings key was taken but not kept.
pub const W_SETTING_IGNORED: i64 = 2;

/// A warning for `warnings[]`.
pub fn warning(code: i64, text: impl Into<String>) -> Warning {
    serde_json::json!({"code": code, "wtxt": text.into()})
}

/// A refused request: its `res` and its Ukrainian `errortxt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaError {
    pub res: i64,
    pub text: String,
}

impl UaError {
    pub fn new(res: i64, text: impl Into<String>) -> UaError {
        UaError { res, text: text.into() }
    }

    /// A field with a bad value: names the field.
    pub fn field(field: &str, why: impl std::fmt::Display) -> UaError {
        UaError::new(BAD_REQUEST, format!("Поле {field}: {why}"))
    }

    /// A receipt that does not add up.
    pub fn receipt(why: impl Into<String>) -> UaError {
        UaError::new(BAD_RECEIPT, why)
    }

    pub fn internal(why: impl std::fmt::Display) -> UaError {
        UaError::new(INTERNAL, format!("Внутрішня помилка: {why}"))
    }
}

impl From<crate::ledger::LedgerError> for UaError {
    fn from(e: crate::ledger::LedgerError) -> UaError {
        match e {
            crate::ledger::LedgerError::KeyReused { method, key } => UaError::new(
                TAG_REUSED,
                format!(
                    "Тег {key:?} вже використано для іншого запиту ({method}) на цьому ПРРО: тег — для одного \
                     запиту та його повторів; для нового документа потрібен новий тег"
                ),
            ),
            other => UaError::internal(other),
        }
    }
}
