//! The envelope `{"response_code": N, "response_data": ...}` and the one place where part errors become codes.
//!
//! HTTP status policy: every answer of a known or unknown method is HTTP 200 with the envelope, errors
//! included; clients read `response_code`. Many POS HTTP stacks throw away the body of a 4xx/5xx answer,
//! which would hide the code and its text from the cashier. The only non-JSON answer is a PNG image.
use super::codes::ErrorCode;
use crate::fiscal::FiscalError;
use crate::fiscal::trade::Rule;
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A refused or failed request: a code of the seed's table and a text for the cashier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// What exactly is wrong (a field name, a limit); shown after the code's own text.
    pub detail: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError { code, detail: detail.into() }
    }

    /// Code 2 naming the offending field.
    pub fn field(field: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::new(ErrorCode::InvalidFields, format!("{field}: {reason}"))
    }

    /// The envelope of this error as JSON bytes (for answers written below the router).
    pub fn envelope_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope { response_code: self.code.code(), response_data: self.message() })
            .unwrap_or_default()
    }

    /// The text sent as `response_data`: the seed's Russian text, then the detail.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            self.code.text().to_owned()
        } else {
            format!("{}: {}", self.code.text(), self.detail)
        }
    }
}

#[derive(Serialize)]
struct Envelope<T> {
    response_code: u16,
    response_data: T,
}

/// A successful answer.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(Envelope { response_code: ErrorCode::Ok.code(), response_data: data }).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code == ErrorCode::DbError || self.code == ErrorCode::MethodExecutionException {
            tracing::error!(code = self.code.code(), detail = %self.detail, "internal failure");
        }
        Json(Envelope { response_code: self.code.code(), response_data: self.message() }).into_response()
    }
}

/// The API code of each trade rule.
fn rule_code(rule: Rule) -> ErrorCode {
    use ErrorCode as C;
    match rule {
        Rule::ItemsUndefined => C::ItemsListUndefined,
        Rule::ItemsEmpty => C::ItemsListIsEmpty,
        Rule::CommodityUndefined => C::ItemCommodityUndefined,
        Rule::QuantityIncorrect => C::ItemQuantityIsIncorrect,
        Rule::DiscountUndefined => C::ItemDiscountUndefined,
        Rule::MarkupUndefined => C::ItemMarkupUndefined,
        Rule::UnknownItemType => C::UnknownItemType,
        Rule::AmountsUndefined => C::AmountsUndefined,
        Rule::TotalIncorrect => C::AmountsTotalIsIncorrect,
        Rule::MoneyNegative => C::MoneyValueIsNegative,
        Rule::SumToPayIncorrect => C::SumToPayIsIncorrect,
        Rule::CardSumGreaterThanTotal => C::CardSumIsGreaterThanTotal,
        Rule::PaidSumIncorrect => C::PaidSumIsIncorrect,
        Rule::PaidLessThanTotal => C::PaidSumIsLessThanTotal,
        Rule::NotEnoughCash => C::NotEnoughCash,
        Rule::DiscountNotLessThanTotal => C::DiscountSumMustBeLessThanTotal,
        Rule::TaxationTypeIncorrect => C::TaxationTypeIsIncorrect,
        Rule::DiscountNegative => C::DiscountSumIsNegative,
        Rule::MarkupNegative => C::MarkupSumIsNegative,
        Rule::DiscountAndMarkup => C::DiscountAndMarkupAreMutuallyExclusive,
        Rule::SameTaxpayerAndCustomer => C::SameTaxpayerAndCustomer,
        Rule::MeasureUnitEmpty => C::MeasureUnitCodeIsEmpty,
        Rule::SectionCodeEmpty => C::SectionCodeIsEmpty,
        Rule::ItemAndTicketTaxes => C::ItemsTaxesAndTicketTaxesAreMutuallyExclusive,
        Rule::TaxPercentRepeated => C::TaxPercentageIsAlreadyPresent,
        Rule::PriceIncorrect => C::ItemPriceIsIncorrect,
        Rule::ItemSumIncorrect => C::ItemSumIsIncorrect,
    }
}

impl From<FiscalError> for ApiError {
    fn from(e: FiscalError) -> ApiError {
        use ErrorCode as C;
        use FiscalError as F;
        let code = match &e {
            F::Store(_) => C::DbError,
            F::InvalidField { field, reason } => return ApiError::field(field, reason),
            F::Field { field, reason } => return ApiError::field(field, reason),
            F::Rule(rule, detail) => return ApiError::new(rule_code(*rule), detail.clone()),
            F::InvalidLicenseKey => C::InvalidLicenseKey,
            F::OfdListEmpty => C::OfdListIsEmpty,
            F::InvalidOfdUid(_) => C::InvalidOfdUid,
            F::KkmNotFound(_) => C::InvalidKkmOfdId,
            F::ShiftNotClosed(_) => C::KkmShiftIsNotClosed,
            F::OfflineQueueNotEmpty { .. } => C::KkmHasOfflineQueue,
            F::OperatorNotFound(_) => C::InvalidOperatorCode,
            F::PinIncorrect(_) => C::AccessCodeIncorrect,
            F::PinOrEmailTaken(_) => C::AccessCodeAlreadyUsed,
            F::InvalidRole(_) => C::InvalidOperatorRole,
            F::LastAdministratorDelete => C::OperatorDeleteError,
            F::LastAdministratorDemote => C::OperatorUpdateError,
            F::AccessDenied(_) => C::KkmAccessDenied,
            F::NotBound(_) => C::KkmInvalidBindings,
            F::VendorIdExhausted => C::OperationFailed,
            F::OfdUnreachable(_) => C::ConnectionError,
            F::RegistrationFailed(_) => C::KkmReginfoRequestError,
            F::UnknownAtOfd(_) => C::InvalidKkmCredentials,
            F::InvalidToken => C::InvalidKkmToken,
            F::OfdRefused { api_code, .. } => ErrorCode::from_code(*api_code).unwrap_or(C::InvalidOfdResponse),
            F::Blocked(_) => C::KkmIsBlocked,
            F::OfflineTooLong(_) => C::KkmInOfflineModeTooLong,
            F::ShiftTooLong(_) => C::ShiftDurationIsTooLong,
            F::ShiftNotOpen => C::KkmShiftStateIsNotOpened,
            F::Busy => C::KkmIsBusyTooLong,
            F::DocumentNotFound => C::TransactionNotFound,
            F::Internal(_) => C::MethodExecutionException,
        };
        // Internal details (SQL text) stay in the log; the cashier gets the code's own text.
        let detail = if matches!(e, F::Store(_)) { String::new() } else { e.to_string() };
        if let F::Store(inner) = &e {
            tracing::error!(error = %inner, "store failure");
        }
        ApiError::new(code, detail)
    }
}
