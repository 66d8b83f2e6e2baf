//! Typed counters as the ledger's named rows: a field is named by its JSON path, `/`-joined
//! (`operations/2/sum`, `tickets/2/payments/0/count`); a list of `(key, totals)` pairs (sections, cashiers,
//! taxes) is keyed by its key (`sections/1/2/sum`), `~` and `/` in a key escaped as in a JSON pointer, and its
//! rows come in the list's order, so the order of first use (a counter's rowid) holds. Country-neutral: the
//! ledger names counters so, and a country's rules map their own shape onto it.
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Counters kept as JSON (a country's typed counters) as ledger rows, each named by its path as the module
/// says, in order. A country's rules read them back with the same names (the Kazakh `Counters::from_rows`).
pub fn counter_rows(value: &Value) -> Vec<(String, Decimal)> {
    let mut rows = Vec::new();
    if let Value::Object(fields) = value {
        for (field, v) in fields {
            flatten(&escape(field), v, &mut rows);
        }
    }
    rows
}

/// Every decimal leaf of `value` under `path`, in order.
pub(super) fn flatten(path: &str, value: &Value, into: &mut Vec<(String, Decimal)>) {
    match value {
        Value::Number(n) => {
            if let Ok(d) = Decimal::from_str(&n.to_string()) {
                into.push((path.to_owned(), d));
            }
        }
        Value::String(s) => {
            if let Ok(d) = Decimal::from_str(s) {
                into.push((path.to_owned(), d));
            }
        }
        Value::Object(fields) => {
            for (name, v) in fields {
                flatten(&format!("{path}/{}", escape(name)), v, into);
            }
        }
        Value::Array(items) if is_keyed(items) => {
            for pair in items {
                if let Value::Array(kv) = pair {
                    let key = match &kv[0] {
                        Value::String(s) => escape(s),
                        other => other.to_string(),
                    };
                    flatten(&format!("{path}/{key}"), &kv[1], into);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}/{i}"), v, into);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// A list of `(key, totals)` pairs (the sections, operators and taxes of the Kazakh counters).
fn is_keyed(items: &[Value]) -> bool {
    !items.is_empty()
        && items.iter().all(|p| {
            matches!(p, Value::Array(kv) if kv.len() == 2
                && matches!(kv[0], Value::String(_) | Value::Number(_))
                && matches!(kv[1], Value::Array(_) | Value::Object(_)))
        })
}

/// A name or key as one path segment (JSON pointer escaping).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A row name's path segments, unescaped.
pub fn counter_path(name: &str) -> Vec<String> {
    name.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
}
