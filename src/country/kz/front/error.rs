//! The envelope `{"response_code": N, "response_data": ...}` and the one place where part errors become codes.
//!
//! Errors follow the vendor's server: `response_data` is the code's constant name (`invalid_fields`),
//! `message` the text for the cashier (Russian, or Kazakh for `Accept-Language: kk`), and the HTTP status comes
//! from the code ([`ErrorCode::http_status`]) unless `http.status_policy = "always_200"`. The language and
//! the policy are applied by [`render_errors`], which sees the request; a handler only returns an [`ApiError`].
use super::codes::ErrorCode;
use crate::config::StatusPolicy;
use crate::country::kz::FiscalError;
use crate::country::kz::error::Rule;
use crate::country::kz::text::Text;
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A refused or failed request: a code of the error table and what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// What exactly is wrong (a field name, a limit), in both languages; shown after the code's own text.
    pub detail: Text,
}

/// The language of the human text of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    Kk,
}

impl Lang {
    /// The first of `ru` and `kk` that `Accept-Language` asks for (by weight), Russian otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::Ru;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = match tag.split(['-', '_']).next() {
                Some("kk") => Lang::Kk,
                Some("ru") => Lang::Ru,
                _ => continue,
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::Ru, |(_, lang)| lang)
    }
}

impl ApiError {
    /// An error whose detail is `detail` in both languages (written with `text!`; a plain string reads the
    /// same in both, for a path or a name).
    pub fn new(code: ErrorCode, detail: impl Into<Text>) -> ApiError {
        ApiError { code, detail: detail.into() }
    }

    /// Code 2 naming the offending field, with the reason in both languages.
    pub fn field(field: &str, reason: impl Into<Text>) -> ApiError {
        ApiError::new(ErrorCode::InvalidFields, reason.into().after(field))
    }

    /// The envelope of this error as JSON bytes, in Russian (for answers hyper makes below the router).
    pub fn envelope_bytes(&self) -> Vec<u8> {
        let body = ErrorEnvelope {
            response_code: self.code.code(),
            response_data: self.code.name(),
            message: self.message(Lang::Ru),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// The human text sent as `message`: the code's own text in `lang`, then the detail.
    pub fn message(&self, lang: Lang) -> String {
        let (text, detail) = match lang {
            Lang::Ru => (self.code.text(), &self.detail.ru),
            Lang::Kk => (self.code.text_kk(), &self.detail.kk),
        };
        if detail.is_empty() { text.to_owned() } else { format!("{text}: {detail}") }
    }

    /// The answer for this error in `lang` under `policy`.
    pub fn respond(&self, lang: Lang, policy: StatusPolicy) -> Response {
        let status = match policy {
            StatusPolicy::Vendor => StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::OK),
            StatusPolicy::Always200 => StatusCode::OK,
        };
        let body = ErrorEnvelope {
            response_code: self.code.code(),
            response_data: self.code.name(),
            message: self.message(lang),
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(self.clone());
        response
    }
}

#[derive(Serialize)]
struct Envelope<T> {
    response_code: u16,
    response_data: T,
}

#[derive(Serialize)]
struct ErrorEnvelope {
    response_code: u16,
    response_data: &'static str,
    message: String,
}

/// A successful answer.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(Envelope { response_code: ErrorCode::Ok.code(), response_data: data }).into_response()
}

impl IntoResponse for ApiError {
    /// The vendor's answer in Russian; [`render_errors`] redoes it for the request's language and policy.
    fn into_response(self) -> Response {
        if self.code == ErrorCode::DbError || self.code == ErrorCode::MethodExecutionException {
            tracing::error!(code = self.code.code(), detail = %self.detail.ru, "internal failure");
        }
        self.respond(Lang::Ru, StatusPolicy::Vendor)
    }
}

/// Middleware: renders every error answer in the caller's language under the configured status policy.
pub async fn render_errors(policy: StatusPolicy, request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let response = next.run(request).await;
    match response.extensions().get::<ApiError>() {
        Some(error) if lang != Lang::Ru || policy != StatusPolicy::Vendor => error.clone().respond(lang, policy),
        _ => response,
    }
}

/// The API code of each trade rule.
fn rule_code(rule: Rule) -> ErrorCode {
    use ErrorCode as C;
    match rule {
        Rule::ItemsEmpty => C::ItemsListIsEmpty,
        Rule::CommodityUndefined => C::ItemCommodityUndefined,
        Rule::QuantityIncorrect => C::ItemQuantityIsIncorrect,
        Rule::UnknownItemType => C::UnknownItemType,
        Rule::MoneyNegative => C::MoneyValueIsNegative,
        Rule::SumToPayIncorrect => C::SumToPayIsIncorrect,
        Rule::CardSumGreaterThanTotal => C::CardSumIsGreaterThanTotal,
        Rule::PaidSumIncorrect => C::PaidSumIsIncorrect,
        Rule::PaidLessThanTotal => C::PaidSumIsLessThanTotal,
        Rule::NotEnoughCash => C::NotEnoughCash,
        Rule::DiscountNotLessThanTotal => C::DiscountSumMustBeLessThanTotal,
        Rule::TaxationTypeIncorrect => C::TaxationTypeIsIncorrect,
        Rule::DiscountAndMarkup => C::DiscountAndMarkupAreMutuallyExclusive,
        Rule::SameTaxpayerAndCustomer => C::SameTaxpayerAndCustomer,
        Rule::MeasureUnitEmpty => C::MeasureUnitCodeIsEmpty,
        Rule::SectionCodeEmpty => C::SectionCodeIsEmpty,
        Rule::ItemAndTicketTaxes => C::ItemsTaxesAndTicketTaxesAreMutuallyExclusive,
        Rule::TaxPercentRepeated => C::TaxPercentageIsAlreadyPresent,
        Rule::PriceIncorrect => C::ItemPriceIsIncorrect,
        Rule::ItemSumIncorrect => C::ItemSumIsIncorrect,
        Rule::TaxValueIncorrect => C::TaxValueIsIncorrect,
        Rule::PaymentSumIncorrect => C::PaymentSumIsIncorrect,
        Rule::PaymentTypeIncorrect => C::PaymentTypeIsIncorrect,
    }
}

impl From<FiscalError> for ApiError {
    fn from(e: FiscalError) -> ApiError {
        use ErrorCode as C;
        use FiscalError as F;
        let code = match &e {
            // Another node serves the KKM and could not be handed the request: like a KKM still busy.
            e if e.served_by().is_some() => C::KkmIsBusyTooLong,
            F::Store(_) => C::DbError,
            F::InvalidField { .. } | F::Field { .. } => C::InvalidFields,
            F::Rule(rule, _) => rule_code(*rule),
            F::InvalidLicenseKey => C::InvalidLicenseKey,
            F::OfdListEmpty => C::OfdListIsEmpty,
            F::InvalidOfdUid(_) => C::InvalidOfdUid,
            F::KkmNotFound(_) => C::InvalidKkmOfdId,
            F::OfflineQueueNotEmpty { .. } => C::KkmHasOfflineQueue,
            // The vendor retired 26 (shift open): an open shift in the way is 76 wherever it stops a change.
            F::ShiftNotClosed(_) | F::ShiftOpen(_) => C::KkmShiftIsNotClosed,
            F::OperatorNotFound(_) => C::InvalidOperatorCode,
            F::PinIncorrect(_) => C::AccessCodeIncorrect,
            F::PinOrEmailTaken(_) => C::AccessCodeAlreadyUsed,
            F::InvalidRole(_) => C::InvalidFields,
            F::LastAdministratorDelete => C::OperatorDeleteError,
            // 14 (operator_update_error) is retired in the vendor table: a refused update is 13.
            F::LastAdministratorDemote => C::OperatorSaveError,
            F::AccessDenied(_) => C::KkmAccessDenied,
            F::NotBound(_) => C::KkmInvalidBindings,
            F::VendorIdExhausted => C::OperationFailed,
            F::OfdUnreachable(_) => C::ConnectionError,
            F::RegistrationFailed(_) => C::KkmReginfoRequestError,
            F::UnknownAtOfd(_) => C::InvalidKkmCredentials,
            F::InvalidToken => C::InvalidKkmToken,
            F::OfdRefused { api_code, .. } => ErrorCode::from_code(*api_code).unwrap_or(C::InvalidOfdResponse),
            F::Blocked(_) => C::KkmIsBlocked,
            F::OfflineTooLong(..) => C::KkmInOfflineModeTooLong,
            // The vendor retired 31 (shift too long): it closes such a shift itself; with
            // `fiscal.auto_close_shift` off Kassa refuses the sale as a KKM whose shift must be closed.
            F::ShiftTooLong(..) => C::KkmShiftIsNotClosed,
            F::Busy => C::KkmIsBusyTooLong,
            F::DocumentNotFound => C::TransactionNotFound,
            F::KeyReused { .. } => C::InvalidFields,
            F::PinKeyMismatch | F::TenantPinKeyMismatch => C::MethodExecutionException,
            F::OperationNotFound => C::OperationNotFound,
            F::Internal(_) => C::MethodExecutionException,
        };
        // Internal details (SQL text, a network error) stay in the log; the cashier gets the code's own text.
        match &e {
            e if e.served_by().is_some() => tracing::debug!(node = ?e.served_by(), "another node serves the KKM"),
            F::Store(inner) => tracing::error!(error = %inner, "store failure"),
            F::Internal(why) => tracing::error!(error = %why, "internal failure"),
            F::OfdUnreachable(why) | F::RegistrationFailed(why) => tracing::warn!(reason = %why, "{e}"),
            _ => {}
        }
        ApiError::new(code, e.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn lang(value: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(value).unwrap());
        Lang::from_headers(&headers)
    }

    #[test]
    fn accept_language_picks_kazakh_only_when_asked() {
        assert_eq!(lang("kk"), Lang::Kk);
        assert_eq!(lang("kk-KZ,ru;q=0.8"), Lang::Kk);
        assert_eq!(lang("ru-RU,kk;q=0.5"), Lang::Ru);
        assert_eq!(lang("en-US,kk;q=0.3"), Lang::Kk);
        assert_eq!(lang("en-US"), Lang::Ru);
        assert_eq!(lang("kk;q=0"), Lang::Ru);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::Ru);
    }
}
