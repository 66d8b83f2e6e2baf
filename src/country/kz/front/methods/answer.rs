//! The answer shared by `TradeOperation`, `MoneyPlacement` and `ZXReport`: the document and the KKM facts
//! around it, in the seed's field order; and the request key of an `Idempotency-Key`.
use crate::country::kz::answer::DocumentAnswer;
use crate::country::kz::front::json::number;
use crate::country::kz::rules::stored::COMMAND_TICKET;
use crate::ledger::RequestKey;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// The key of a document request: it belongs to this method (and, in the core, to the KKM it names).
pub fn request_key(method: &str, key: Option<(String, Value)>) -> Option<RequestKey> {
    key.map(|(key, request)| RequestKey::new(method, &key, &request))
}

/// The answer object of a document operation; the answer's JSON parts move into it (the body, the KKM's
/// registration and ads), as a sale answers with them once.
pub fn document_answer(a: DocumentAnswer) -> Value {
    let mut out = Map::new();
    let DocumentAnswer { doc, kkm, ofd_name, ofd_url, is_dummy } = a;
    if let Some(report_type) = doc.extra.get("report_type") {
        out.insert("report_type".into(), report_type.clone());
        let totals: Vec<Value> =
            doc.extra["total_payments"].as_array().map(|l| l.iter().map(decimal_number).collect()).unwrap_or_default();
        out.insert("total_payments".into(), Value::Array(totals));
    }
    if doc.command == COMMAND_TICKET {
        out.insert("fiscal_id".into(), json!(doc.fiscal_id));
        out.insert("qr_code".into(), json!(doc.qr_code));
        out.insert("ofd_name".into(), json!(ofd_name));
        out.insert("ofd_url".into(), json!(ofd_url));
    }
    // The seed answers both X and Z with COMMAND_REPORT; the journal keeps a Z as COMMAND_CLOSE_SHIFT.
    let command = if doc.command == 2 { 3 } else { doc.command };
    out.insert("command_type".into(), json!(command));
    out.insert("is_offline".into(), json!(doc.is_offline));
    out.insert("is_invalid_token".into(), json!(kkm.is_invalid_token));
    out.insert("kkm_local_name".into(), json!(kkm.settings.local_name));
    out.insert("operator_name".into(), json!(doc.operator_name));
    out.insert("fr_shift_number".into(), json!(doc.fr_shift_number));
    out.insert("shift_document_number".into(), json!(doc.shift_document_number));
    out.insert("shift_state".into(), json!(kkm.shift_state));
    out.insert("reg_info".into(), kkm.reg_info);
    out.insert("vat_certificate".into(), serde_json::to_value(&kkm.settings.vat_certificate).unwrap_or(Value::Null));
    out.insert("body".into(), doc.body);
    out.insert("ads_info".into(), kkm.ads_info);
    // The vendor's flag: true for a tax inspector's control receipt, which is no fiscal document.
    out.insert("is_dummy".into(), json!(is_dummy));
    Value::Object(out)
}

/// A stored decimal (text or number) as a JSON number.
pub fn decimal_number(v: &Value) -> Value {
    match v {
        Value::String(s) => s.parse::<Decimal>().map(|d| number(&d)).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}
