//! `GetTransactionList` and `GetTransaction`.
use super::answer::decimal_number;
use crate::api::AppState;
use crate::api::auth::Auth;
use crate::api::error::{ApiError, ok};
use crate::api::extract::Params;
use crate::api::json::{format_date, parse_date};
use crate::store::{DocumentRow, JournalFilter};
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct TransactionListRequest {
    kkm_ofd_id: i64,
    #[serde(default)]
    period_start: Option<String>,
    #[serde(default)]
    period_end: Option<String>,
    #[serde(default)]
    command_type_list: Vec<u8>,
    #[serde(default)]
    transaction_id: Option<i64>,
    #[serde(default)]
    shift_number: Option<i64>,
    #[serde(default)]
    fiscal_id: Option<String>,
}

/// Reads a date-time of the request ([`parse_date`]), naming the field when it is not one.
fn date(field: &str, text: &str) -> Result<NaiveDateTime, ApiError> {
    parse_date(text).ok_or_else(|| ApiError::field(field, "a date-time like 2022-02-24T17:46:52.083"))
}

/// The list body with its amounts as JSON numbers (taken out of the row: a long journal is not held twice).
fn summary(doc: &mut DocumentRow) -> Value {
    let mut body = doc.summary.take();
    for key in ["sum", "revenue"] {
        if let Some(v) = body.get(key) {
            body[key] = decimal_number(v);
        }
    }
    if let Some(list) = body.get_mut("non_nullable_sums").and_then(|l| l.as_array_mut()) {
        for entry in list {
            entry["sum"] = decimal_number(&entry["sum"]);
        }
    }
    body
}

fn entry(doc: &DocumentRow, body: Value) -> Value {
    json!({
        "ID": doc.id,
        "date": format_date(&doc.created_at),
        "command": doc.command,
        "fr_shift_number": doc.fr_shift_number,
        "shift_document_number": doc.shift_document_number,
        "is_offline": doc.is_offline,
        "body": body,
    })
}

pub async fn transaction_list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<TransactionListRequest>,
) -> Result<Response, ApiError> {
    let filter = JournalFilter {
        from: req.period_start.as_deref().map(|d| date("period_start", d)).transpose()?,
        to: req.period_end.as_deref().map(|d| date("period_end", d)).transpose()?,
        commands: req.command_type_list,
        id: req.transaction_id,
        shift: req.shift_number,
        fiscal_id: req.fiscal_id.filter(|f| !f.is_empty()),
    };
    let docs = state.call(move |core| core.journal(&caller, req.kkm_ofd_id, filter)).await?;
    Ok(ok(docs
        .into_iter()
        .map(|mut d| {
            let body = summary(&mut d);
            entry(&d, body)
        })
        .collect::<Vec<_>>()))
}

#[derive(Deserialize)]
pub struct TransactionRequest {
    kkm_ofd_id: i64,
    transaction_id: i64,
}

pub async fn transaction(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<TransactionRequest>,
) -> Result<Response, ApiError> {
    let doc = state.call(move |core| core.transaction(&caller, req.kkm_ofd_id, req.transaction_id)).await?;
    Ok(ok(entry(&doc, doc.body.clone())))
}
