//! Errors of the fiscal core. Each variant maps to exactly one API code in `api::error`.
use crate::store::StoreError;
use thiserror::Error;

/// Why a fiscal command was refused or failed.
#[derive(Debug, Error)]
pub enum FiscalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request field is wrong in a way the JSON types could not catch.
    #[error("field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// Like `InvalidField`, for a field found by its path (`items[2].commodity.price`).
    #[error("field `{field}`: {reason}")]
    Field { field: String, reason: String },
    /// A trade rule of the seed was broken; the rule decides the API code.
    #[error("{1}")]
    Rule(crate::fiscal::trade::Rule, String),
    #[error("the licence key must be four groups of four hex digits, e.g. A7D3-5CFA-A13F-16C4")]
    InvalidLicenseKey,
    #[error("no OFD is configured")]
    OfdListEmpty,
    #[error("unknown OFD uid {0:?}")]
    InvalidOfdUid(String),
    #[error("no KKM with ofd_id {0}")]
    KkmNotFound(i64),
    #[error("KKM {ofd_id} has {queued} document(s) waiting for the OFD: they must be delivered first")]
    OfflineQueueNotEmpty { ofd_id: i64, queued: i64 },
    #[error("KKM {0} has an open shift: close it with a Z report first")]
    ShiftNotClosed(i64),
    #[error("KKM {0} has an open shift: its OFD and token change only after a Z report")]
    ShiftOpen(i64),
    #[error("no operator with ID {0}")]
    OperatorNotFound(i64),
    #[error("PIN: {0}")]
    PinIncorrect(&'static str),
    #[error("{0} is already used by another operator")]
    PinOrEmailTaken(&'static str),
    #[error("role {0} is not 1 (administrator), 2 (senior cashier), 3 (cashier) or 4 (tax inspector)")]
    InvalidRole(i64),
    #[error("the last administrator cannot be deleted")]
    LastAdministratorDelete,
    #[error("the last administrator cannot lose the administrator role")]
    LastAdministratorDemote,
    /// The caller's role may not do this.
    #[error("{0}")]
    AccessDenied(String),
    /// The caller is not bound to this KKM.
    #[error("operator is not bound to KKM {0}")]
    NotBound(i64),
    #[error("could not draw an unused factory number")]
    VendorIdExhausted,
    /// The OFD could not be reached.
    #[error("{0}")]
    OfdUnreachable(String),
    /// Registration data could not be fetched from the OFD.
    #[error("no registration data from the OFD: {0}")]
    RegistrationFailed(String),
    /// The OFD does not know this KKM id (UNKNOWN_ID).
    #[error("the OFD does not know KKM {0}")]
    UnknownAtOfd(i64),
    /// The OFD refused the token, or the KKM waits for a new one.
    #[error("the OFD refused the KKM's token: save the KKM with the token from the OFD's cabinet")]
    InvalidToken,
    /// The OFD refused a request; `api_code` is the seed code its result maps to.
    #[error("the OFD refused: {reason}")]
    OfdRefused { api_code: u16, reason: String },
    /// The KKM is blocked (by the OFD, or locally after a refused queued document).
    #[error("KKM is blocked: {0}")]
    Blocked(String),
    #[error("the KKM has worked autonomously since {0}, longer than allowed")]
    OfflineTooLong(String),
    #[error("the shift has been open since {0}, longer than allowed: close it with a Z report")]
    ShiftTooLong(String),
    #[error("the shift is not open")]
    ShiftNotOpen,
    #[error("another operation on this KKM is still running")]
    Busy,
    #[error("no such document")]
    DocumentNotFound,
    /// The idempotency key made a document from another request on this KKM and method.
    #[error(
        "Idempotency-Key {key:?} was already used for another {method} request on this KKM: a key is for one \
         request and its retries; send a new key for a new document"
    )]
    KeyReused { method: String, key: String },
    /// `pin.key` is not the key this database's PINs were hashed with.
    #[error(
        "pin.key does not belong to this kassa.db: the database's PINs were hashed with another key (a pin.key \
         copied from another data folder, or a kassa.db put back without its own pin.key). With this key every \
         PIN, the administrator's included, would be refused. Put back the pin.key that was backed up with this \
         kassa.db (`kassa backup` copies both, `kassa restore` puts both back)"
    )]
    PinKeyMismatch,
    /// Something that should not happen (a stored value unreadable, a task lost).
    #[error("{0}")]
    Internal(String),
}

/// Result alias of the fiscal core.
pub type FiscalResult<T> = Result<T, FiscalError>;
