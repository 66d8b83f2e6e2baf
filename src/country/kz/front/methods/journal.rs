//! `GetTransactionList` and `GetTransaction`.
use super::answer::decimal_number;
use crate::country::kz::books::{DocumentRow, JournalFilter};
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Params;
use crate::country::kz::front::json::{IntIn, format_date, parse_date};
use crate::text;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct TransactionListRequest {
    kkm_ofd_id: IntIn,
    #[serde(default)]
    period_start: Option<String>,
    #[serde(default)]
    period_end: Option<String>,
    #[serde(default)]
    command_type_list: Vec<IntIn>,
    #[serde(default)]
    transaction_id: Option<IntIn>,
    #[serde(default)]
    shift_number: Option<IntIn>,
    /// The vendor's filter by document number within the shift (`uBaseCoreTypes.pas:266-275`).
    #[serde(default)]
    shift_document_number: Option<IntIn>,
    #[serde(default)]
    fiscal_id: Option<String>,
}

/// Reads a date-time of the request ([`parse_date`]), naming the field when it is not one.
fn date(field: &str, text: &str) -> Result<NaiveDateTime, ApiError> {
    parse_date(text).ok_or_else(|| {
        ApiError::field(
            field,
            text!(
                "{:?}: дата и время вида 2022-02-24T17:46:52.083",
                "{:?}: 2022-02-24T17:46:52.083 түріндегі күн мен уақыт",
                text
            ),
        )
    })
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
        // A type past 255 matches no document (as it would as a number), it does not drop the filter.
        commands: req.command_type_list.iter().map(|c| u8::try_from(c.0).unwrap_or(u8::MAX)).collect(),
        id: req.transaction_id.map(|i| i.0),
        shift: req.shift_number.map(|i| i.0),
        number: req.shift_document_number.map(|i| i.0),
        fiscal_id: req.fiscal_id.filter(|f| !f.is_empty()),
    };
    let docs = state.call(move |core| core.journal(&caller, req.kkm_ofd_id.0, filter)).await?;
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
    kkm_ofd_id: IntIn,
    transaction_id: IntIn,
}

pub async fn transaction(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<TransactionRequest>,
) -> Result<Response, ApiError> {
    let doc = state.call(move |core| core.transaction(&caller, req.kkm_ofd_id.0, req.transaction_id.0)).await?;
    Ok(ok(entry(&doc, doc.body.clone())))
}
