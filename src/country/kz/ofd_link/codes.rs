//! Which seed API code an OFD outcome becomes: the Kazakh link's mapping, kept above the protocol (`ofd`
//! knows no API). The pipeline's refusals (`send::refusal`) and `kassa ofd info` use it.
use crate::country::kz::ofd::client::ClientError;
use crate::country::kz::ofd::result::ResultClass;

/// The seed API codes an OFD outcome can become.
pub mod api_code {
    /// `invalid_kkm_credentials`: the OFD does not know the device id (UNKNOWN_ID).
    pub const INVALID_KKM_CREDENTIALS: u16 = 17;
    /// `kkm_in_offline_mode_too_long`: decided by the caller from its offline queue age (72 h).
    pub const KKM_IN_OFFLINE_MODE_TOO_LONG: u16 = 18;
    /// `connection_error`.
    pub const CONNECTION_ERROR: u16 = 20;
    /// `invalid_kkm_token`.
    pub const INVALID_KKM_TOKEN: u16 = 42;
    /// `not_enough_cash`.
    pub const NOT_ENOUGH_CASH: u16 = 58;
    /// `kkm_is_blocked`.
    pub const KKM_IS_BLOCKED: u16 = 62;
    /// `same_taxpayer_and_customer`.
    pub const SAME_TAXPAYER_AND_CUSTOMER: u16 = 77;
    /// `invalid_ofd_response`.
    pub const INVALID_OFD_RESPONSE: u16 = 84;
}

/// The seed API code of an OFD outcome.
pub trait ApiErrorCode {
    type Code;
    /// The code the API would answer with.
    fn api_error_code(&self) -> Self::Code;
}

/// A result code's API code; `None` for OK.
impl ApiErrorCode for ResultClass {
    type Code = Option<u16>;
    fn api_error_code(&self) -> Option<u16> {
        Some(match self {
            ResultClass::Ok => return None,
            ResultClass::Unavailable { .. } => api_code::CONNECTION_ERROR,
            ResultClass::InvalidToken => api_code::INVALID_KKM_TOKEN,
            ResultClass::Blocked { .. } | ResultClass::Stopped { .. } => api_code::KKM_IS_BLOCKED,
            ResultClass::UnknownId => api_code::INVALID_KKM_CREDENTIALS,
            // The vendor's table retired 31: like every other OFD refusal it is 84.
            ResultClass::ShiftTooLong => api_code::INVALID_OFD_RESPONSE,
            ResultClass::NotEnoughCash => api_code::NOT_ENOUGH_CASH,
            ResultClass::SameTaxpayerAndCustomer => api_code::SAME_TAXPAYER_AND_CUSTOMER,
            ResultClass::Rejected { .. } => api_code::INVALID_OFD_RESPONSE,
        })
    }
}

/// A transport failure's API code: `connection_error` for timeouts and the proxy, `invalid_ofd_response`
/// otherwise.
impl ApiErrorCode for ClientError {
    type Code = u16;
    fn api_error_code(&self) -> u16 {
        match self {
            ClientError::Timeout { .. } | ClientError::Proxy(_) => api_code::CONNECTION_ERROR,
            _ => api_code::INVALID_OFD_RESPONSE,
        }
    }
}
