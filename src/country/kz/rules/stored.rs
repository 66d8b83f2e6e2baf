//! The journal's view of a stored document, shared by the pipeline (which commits documents) and the OFD
//! link (which turns an online document autonomous): command types, JSON in and out, the ticket's
//! summary and the locally composed check URL. Pure.
use crate::country::kz::counters::Counters;
use crate::country::kz::document::Ticket;
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::money;
use crate::store::KkmRow;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;

/// CommandTypeEnum values used in the journal.
pub const COMMAND_TICKET: u8 = 1;
pub const COMMAND_CLOSE_SHIFT: u8 = 2;
pub const COMMAND_REPORT: u8 = 3;
pub const COMMAND_MONEY_PLACEMENT: u8 = 6;

/// The check URL of the OFD's consumer site, composed locally for autonomous tickets in the vendor's form
/// (`uCashRegister.pas:2002-2009`, the seed's `http://consumer.test-oofd.kz/?&i=1008&f=…&s=1750,00&t=…`): a
/// slash and `&` after the address, the total with a decimal comma.
pub fn check_url(consumer: &str, number: &str, rnm: &str, total: Decimal, at: NaiveDateTime) -> String {
    let total = format!("{:.2}", money::round(total)).replace('.', ",");
    let consumer = consumer.trim_end_matches('/');
    format!("{consumer}/?&i={number}&f={rnm}&s={total}&t={}", at.format("%Y%m%dT%H%M%S"))
}

/// A stored shape as the JSON the journal keeps.
pub fn to_json<T: serde::Serialize>(v: &T) -> FiscalResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| FiscalError::Internal(format!("document to JSON: {e}")))
}

/// A stored shape read back from the journal.
pub fn from_json<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> FiscalResult<T> {
    // Read through a reference: `from_value` would take a copy of the whole document first.
    serde::Deserialize::deserialize(v).map_err(|e| FiscalError::Internal(format!("stored document: {e}")))
}

/// The running counters a KKM row keeps (empty when unreadable, as before any document).
pub fn counters_of(kkm: &KkmRow) -> Counters {
    serde::Deserialize::deserialize(&kkm.counters).unwrap_or_default()
}

/// The journal's short view of a ticket (`GetTransactionList`).
pub fn ticket_summary(t: &Ticket, fiscal_id: &str) -> serde_json::Value {
    serde_json::json!({
        "operation": t.operation,
        "payments": t.payments.iter().map(|p| p.kind).collect::<Vec<_>>(),
        "sum": t.amounts.total.to_decimal(),
        "fiscal_id": fiscal_id,
    })
}
