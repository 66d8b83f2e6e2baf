//! Errors of the fiscal core. Each variant maps to exactly one API code in `api::error`, and says what is
//! wrong twice: in English for the log (`Display`) and in Russian and Kazakh for the cashier ([`text`]).
//!
//! [`text`]: FiscalError::text
use super::text::Text;
use crate::store::StoreError;
use crate::text;
use thiserror::Error;

/// A business rule of the seed that a request broke; each has its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    ItemsEmpty,
    CommodityUndefined,
    QuantityIncorrect,
    UnknownItemType,
    MoneyNegative,
    SumToPayIncorrect,
    CardSumGreaterThanTotal,
    PaidSumIncorrect,
    PaidLessThanTotal,
    NotEnoughCash,
    DiscountNotLessThanTotal,
    TaxationTypeIncorrect,
    DiscountAndMarkup,
    SameTaxpayerAndCustomer,
    MeasureUnitEmpty,
    SectionCodeEmpty,
    ItemAndTicketTaxes,
    TaxPercentRepeated,
    PriceIncorrect,
    ItemSumIncorrect,
    TaxValueIncorrect,
    PaymentSumIncorrect,
    PaymentTypeIncorrect,
}

/// Why a fiscal command was refused or failed.
#[derive(Debug, Error)]
pub enum FiscalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request field is wrong in a way the JSON types could not catch.
    #[error("field `{field}`: {}", reason.ru)]
    InvalidField { field: &'static str, reason: Text },
    /// Like `InvalidField`, for a field found by its path (`items[2].commodity.price`).
    #[error("field `{field}`: {}", reason.ru)]
    Field { field: String, reason: Text },
    /// A trade rule of the seed was broken; the rule decides the API code.
    #[error("{}", .1.ru)]
    Rule(Rule, Text),
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
    #[error("PIN: {}", .0.ru)]
    PinIncorrect(Text),
    #[error("{0} is already used by another operator")]
    PinOrEmailTaken(&'static str),
    #[error("role {0} is not 1 (administrator), 2 (senior cashier), 3 (cashier) or 4 (tax inspector)")]
    InvalidRole(i64),
    #[error("the last administrator cannot be deleted")]
    LastAdministratorDelete,
    #[error("the last administrator cannot lose the administrator role")]
    LastAdministratorDemote,
    /// The caller's role may not do this.
    #[error("{}", .0.ru)]
    AccessDenied(Text),
    /// The caller is not bound to this KKM.
    #[error("operator is not bound to KKM {0}")]
    NotBound(i64),
    #[error("could not draw an unused factory number")]
    VendorIdExhausted,
    /// The OFD could not be reached (the reason, for the log).
    #[error("{0}")]
    OfdUnreachable(String),
    /// Registration data could not be fetched from the OFD (the reason, for the log).
    #[error("no registration data from the OFD: {0}")]
    RegistrationFailed(String),
    /// The OFD does not know this KKM id (UNKNOWN_ID).
    #[error("the OFD does not know KKM {0}")]
    UnknownAtOfd(i64),
    /// The OFD refused the token when the KKM was saved.
    #[error("the OFD refused the KKM's token: save the KKM with the token from the OFD's cabinet")]
    InvalidToken,
    /// The OFD refused a request; `api_code` is the seed code its result maps to.
    #[error("the OFD refused: {}", reason.ru)]
    OfdRefused { api_code: u16, reason: Text },
    /// The KKM is blocked (by the OFD, or locally after a refused queued document): the OFD's or Kassa's
    /// Russian words, as `blocked_info` shows them.
    #[error("KKM is blocked: {0}")]
    Blocked(String),
    #[error("the KKM has worked autonomously since {0}, longer than {1} h")]
    OfflineTooLong(String, i64),
    /// A sale on a shift past its limit while `fiscal.auto_close_shift` is off.
    #[error("the shift has been open since {0}, longer than {1} h: close it with a Z report")]
    ShiftTooLong(String, i64),
    #[error("another operation on this KKM is still running")]
    Busy,
    /// A transaction of the journal (GetTransaction).
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
    /// A shop moved into a tenant kept its own PIN key, sealed under the nodes' key, and this node's key does
    /// not open it.
    #[error(
        "this tenant's PIN key was sealed under another KASSA_PIN_KEY than this node's: every node of a store \
         needs the same KASSA_PIN_KEY, the one `kassa store copy --tenant` was given"
    )]
    TenantPinKeyMismatch,
    /// A document to draw (GetDocumentImage, RenderDocument, PrintDocument): the vendor's 37.
    #[error("no such document to draw")]
    OperationNotFound,
    /// Something that should not happen (a stored value unreadable, a task lost).
    #[error("{0}")]
    Internal(String),
}

impl FiscalError {
    /// The node that serves the KKM, when this is "another node serves it" (a shared store).
    pub fn served_by(&self) -> Option<&str> {
        match self {
            FiscalError::Store(StoreError::ServedElsewhere(lease)) => Some(&lease.node),
            _ => None,
        }
    }

    /// What the cashier reads after the code's own text, in both languages; empty when the code says it
    /// all (an internal failure's details stay in the log).
    pub fn text(&self) -> Text {
        use FiscalError as F;
        match self {
            F::Store(StoreError::ServedElsewhere(lease)) => text!(
                "кассу обслуживает другой узел ({}), он не ответил: повторите запрос",
                "кассаға басқа түйін қызмет көрсетеді ({}), ол жауап бермеді: сұрауды қайталаңыз",
                lease.node
            ),
            F::Store(_) | F::Internal(_) => Text::default(),
            F::InvalidField { field, reason } => reason.after(field),
            F::Field { field, reason } => reason.after(field),
            F::Rule(_, text) | F::AccessDenied(text) => text.clone(),
            F::InvalidLicenseKey => text!(
                "ключ — четыре группы по четыре шестнадцатеричные цифры, например A7D3-5CFA-A13F-16C4",
                "кілт — әрқайсысы төрт он алтылық цифрдан тұратын төрт топ, мысалы A7D3-5CFA-A13F-16C4"
            ),
            F::OfdListEmpty => text!("в настройках нет ни одного ОФД", "баптауларда бірде-бір ФДО жоқ"),
            F::InvalidOfdUid(uid) => {
                text!("ofd_uid {:?} нет в GetOFDList", "ofd_uid {:?} GetOFDList тізімінде жоқ", uid)
            }
            F::KkmNotFound(id) => text!("нет кассы с ofd_id {}", "ofd_id {} кассасы жоқ", id),
            F::OfflineQueueNotEmpty { ofd_id, queued } => text!(
                "у кассы {} документов в очереди на ОФД: {}, сначала они должны быть доставлены",
                "{} кассасында ФДО-ға жіберілмеген құжаттар бар: {}, алдымен олар жеткізілуі керек",
                ofd_id,
                queued
            ),
            F::ShiftNotClosed(id) | F::ShiftOpen(id) => text!(
                "смена кассы {} открыта: сначала закройте её Z-отчётом",
                "{} кассасының ауысымы ашық: алдымен оны Z-есеппен жабыңыз",
                id
            ),
            F::OperatorNotFound(id) => text!("нет оператора с ID {}", "ID {} операторы жоқ", id),
            F::PinIncorrect(reason) => reason.after("access_pin"),
            F::PinOrEmailTaken(field) => {
                text!("{} уже у другого оператора", "{} басқа операторда бұрыннан бар", field)
            }
            F::InvalidRole(role) => text!(
                "роль {}: допустимы 1 (администратор), 2 (старший кассир), 3 (кассир), 4 (налоговый инспектор)",
                "{} рөлі: 1 (әкімші), 2 (аға кассир), 3 (кассир), 4 (салық инспекторы) болуы керек",
                role
            ),
            F::LastAdministratorDelete => {
                text!("последнего администратора удалить нельзя", "соңғы әкімшіні жоюға болмайды")
            }
            F::LastAdministratorDemote => text!(
                "последний администратор не может лишиться роли администратора",
                "соңғы әкімші әкімші рөлінен айырыла алмайды"
            ),
            F::NotBound(id) => text!("оператор не привязан к кассе {}", "оператор {} кассасына байланбаған", id),
            F::VendorIdExhausted => {
                text!("не удалось выдать неиспользованный ЗНМ", "пайдаланылмаған ЗНМ беру мүмкін болмады")
            }
            F::OfdUnreachable(_) => text!("ОФД не отвечает", "ФДО жауап бермейді"),
            F::RegistrationFailed(_) => {
                text!("ОФД не прислал регистрационные данные кассы", "ФДО кассаның тіркеу деректерін жібермеді")
            }
            F::UnknownAtOfd(id) => text!("ОФД не знает кассу {}", "ФДО {} кассасын білмейді", id),
            F::InvalidToken => text!(
                "ОФД отклонил токен кассы: сохраните кассу (SaveKKM) с токеном из кабинета ОФД",
                "ФДО касса токенін қабылдамады: кассаны ФДО кабинетіндегі токенмен сақтаңыз (SaveKKM)"
            ),
            F::OfdRefused { reason, .. } => reason.clone(),
            F::Blocked(reason) if reason.is_empty() => Text::default(),
            F::Blocked(reason) => Text::same(reason.clone()),
            F::OfflineTooLong(since, hours) => text!(
                "касса работает автономно с {}, дольше {} ч (ofd_link.offline_limit_hours)",
                "касса {} бастап дербес жұмыс істейді, {} сағаттан ұзақ (ofd_link.offline_limit_hours)",
                since,
                hours
            ),
            F::ShiftTooLong(since, hours) => text!(
                "смена открыта с {}, дольше {} ч (fiscal.shift_limit_hours): закройте её Z-отчётом",
                "ауысым {} бастап ашық, {} сағаттан ұзақ (fiscal.shift_limit_hours): оны Z-есеппен жабыңыз",
                since,
                hours
            ),
            F::Busy => text!("касса ещё выполняет предыдущую операцию", "касса әлі алдыңғы операцияны орындап жатыр"),
            F::DocumentNotFound => text!("такого документа нет в журнале", "журналда мұндай құжат жоқ"),
            F::OperationNotFound => {
                text!("такого документа нет в журнале кассы", "касса журналында мұндай құжат жоқ")
            }
            F::KeyReused { method, key } => text!(
                "Idempotency-Key {:?} уже дал документ по другому запросу {} этой кассы: ключ служит одному запросу \
                 и его повторам, для нового документа пришлите новый ключ",
                "Idempotency-Key {:?} осы кассаның басқа {} сұрауына құжат берген: кілт бір сұрау мен оның \
                 қайталауларына арналған, жаңа құжат үшін жаңа кілт жіберіңіз",
                key,
                method
            ),
            F::PinKeyMismatch | F::TenantPinKeyMismatch => Text::default(),
        }
    }
}

/// Result alias of the fiscal core.
pub type FiscalResult<T> = Result<T, FiscalError>;
