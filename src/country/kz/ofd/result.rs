//! What an OFD result code means for the device. Which API code it becomes is the Kazakh link's
//! (`ofd_link::codes`): the protocol knows no API. Transport failures are classified in
//! [`crate::country::kz::ofd::client::ClientError`].
use super::proto::{Response, TicketAdTypeEnum};

/// Result codes by name (`Result.result_code` is a plain uint32 on the wire).
pub mod code {
    pub const OK: u32 = 0;
    pub const UNKNOWN_ID: u32 = 1;
    pub const INVALID_TOKEN: u32 = 2;
    pub const PROTOCOL_ERROR: u32 = 3;
    pub const UNKNOWN_COMMAND: u32 = 4;
    pub const UNSUPPORTED_COMMAND: u32 = 5;
    pub const INVALID_REQUEST_NUMBER: u32 = 8;
    pub const INVALID_RETRY_REQUEST: u32 = 9;
    pub const OPEN_SHIFT_TIMEOUT_EXPIRED: u32 = 11;
    pub const INCORRECT_REQUEST_DATA: u32 = 13;
    pub const NOT_ENOUGH_CASH: u32 = 14;
    pub const BLOCKED: u32 = 15;
    pub const SAME_TAXPAYER_AND_CUSTOMER: u32 = 17;
    pub const SERVICE_TEMPORARILY_UNAVAILABLE: u32 = 254;
    pub const UNKNOWN_ERROR: u32 = 255;
}

/// The device-side meaning of a `Response.result`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResultClass {
    /// 0: accepted.
    Ok,
    /// 254/255: retry within the total time, then go offline and resend later.
    Unavailable { code: u32 },
    /// 2: block until a correct token is entered.
    InvalidToken,
    /// 15: server-side block; `ad_text` is the TICKET_AD_INFO text to show, if the OFD sent one.
    Blocked { ad_text: Option<String> },
    /// 1: the device is not registered.
    UnknownId,
    /// 3/4/5: stop all operations until a human intervenes.
    Stopped { code: u32, reason: String },
    /// 11: the shift has been open over 24 h; close it.
    ShiftTooLong,
    /// 14.
    NotEnoughCash,
    /// 17: the buyer's IIN/BIN equals the seller's.
    SameTaxpayerAndCustomer,
    /// 8, 9, 13 and any other code: the request was refused as sent.
    Rejected { code: u32, text: String },
}

impl ResultClass {
    /// Classifies a response by its result code. (The client rejects a response whose payload
    /// lacks the `result` field before it gets here, since prost would read it as code 0.)
    pub fn of(resp: &Response) -> ResultClass {
        let result = &resp.result;
        let text = result.result_text.clone().unwrap_or_default();
        match result.result_code {
            code::OK => ResultClass::Ok,
            c @ (code::SERVICE_TEMPORARILY_UNAVAILABLE | code::UNKNOWN_ERROR) => ResultClass::Unavailable { code: c },
            code::INVALID_TOKEN => ResultClass::InvalidToken,
            code::BLOCKED => ResultClass::Blocked { ad_text: info_ad_text(resp) },
            code::UNKNOWN_ID => ResultClass::UnknownId,
            c @ (code::PROTOCOL_ERROR | code::UNKNOWN_COMMAND | code::UNSUPPORTED_COMMAND) => {
                let reason = if text.is_empty() { default_reason(c).to_string() } else { text };
                ResultClass::Stopped { code: c, reason }
            }
            code::OPEN_SHIFT_TIMEOUT_EXPIRED => ResultClass::ShiftTooLong,
            code::NOT_ENOUGH_CASH => ResultClass::NotEnoughCash,
            code::SAME_TAXPAYER_AND_CUSTOMER => ResultClass::SameTaxpayerAndCustomer,
            c => ResultClass::Rejected { code: c, text },
        }
    }

    /// True for codes after which the identical packet may be resent (254/255).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ResultClass::Unavailable { .. })
    }

    /// True for codes that block the register until a human acts (1, 2, 3, 4, 5, 15).
    pub fn blocks_device(&self) -> bool {
        matches!(
            self,
            ResultClass::InvalidToken
                | ResultClass::Blocked { .. }
                | ResultClass::UnknownId
                | ResultClass::Stopped { .. }
        )
    }
}

fn default_reason(code: u32) -> &'static str {
    match code {
        code::PROTOCOL_ERROR => "ОФД сообщает об ошибке протокола",
        code::UNKNOWN_COMMAND => "ОФД не знает команду",
        _ => "ОФД не поддерживает команду",
    }
}

/// The text of the TICKET_AD_INFO ad in `service.ticket_ads`, if any.
pub fn info_ad_text(resp: &Response) -> Option<String> {
    resp.service
        .as_ref()?
        .ticket_ads
        .iter()
        .find_map(|ad| if ad.info.r#type == TicketAdTypeEnum::TicketAdInfo as i32 { ad.text.clone() } else { None })
}
