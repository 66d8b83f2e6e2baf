//! The move of the Kazakh books (`kkms`, `documents`) onto the shared ledger's tables (issue 23 step 5,
//! one-ledger.md §1.3 B): devices, documents with their fiscal rows, idempotency keys, the open shift's
//! counters and the drawer, the public transaction IDs; then the old tables are renamed, never dropped.
//!
//! Migration 0015 (its SQL half is `migrations/0015_kazakh_books.sql`, the rest is [`after_move`]), run at
//! start before any sender; tested on the oracle's fixture databases (tests/ledger/kazakh_books.rs, and
//! the oracle's answers in tests/kz/oracle.rs).
//!
//! Dates stay in the Kazakh text format (`2026-12-05T22:20:27.989`, naive local time) rather than RFC 3339:
//! the journal's range filters compare text within one device, and every document of a Kazakh device (old
//! and new) keeps one format, so the order holds; the old rows do not record their offset, so a conversion
//! would have to guess it, and the answers show the stored text as it is.
//!
//! Counters become name → decimal rows. A field of the typed Kazakh counters is named by its JSON path,
//! `/`-joined (`operations/2/sum`, `tickets/2/payments/0/count`); a list of `(key, totals)` pairs (sections,
//! operators, taxes) is keyed by the key (`sections/1/2/sum`), `~` and `/` in a key escaped as in a JSON
//! pointer, and its rows are written in the list's order so the order of first use (a counter's rowid) is
//! as before. The open shift's counters go to that shift; what survives a Z report (counts since
//! registration, the non-nullable sums, the cash in the drawer) goes to the device's lifetime counters.
use super::StoreError;
use super::chain::{Journal, chain_appended};
use super::counter_names::{escape, flatten};
use super::sql::Db;
use rusqlite::{Connection, params};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// The SQL half of the move.
const SQL: &str = include_str!("migrations/0015_kazakh_books.sql");

/// Names of the old tables once moved: kept for a rescue and for `kassa check`, never written again.
pub const KEPT_KKMS: &str = "kz_kkms_before_ledger";
pub const KEPT_DOCUMENTS: &str = "kz_documents_before_ledger";

/// The counters that survive a Z report.
const LIFETIME: [&str; 2] = ["tickets_since_registration", "placements_since_registration"];

/// Moves the Kazakh books onto the ledger inside the caller's transaction (the whole migration 0015).
pub fn move_kazakh_books(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SQL)?;
    after_move(conn)
}

/// The Rust half of migration 0015, after its SQL.
pub fn after_move(conn: &Connection) -> rusqlite::Result<()> {
    move_counters(conn)?;
    chain_moved(conn)?;
    conn.execute_batch(&format!(
        "ALTER TABLE kkms RENAME TO {KEPT_KKMS}; ALTER TABLE documents RENAME TO {KEPT_DOCUMENTS};"
    ))?;
    point_registry_at_side_table(conn)
}

/// The rename made the bindings and the control receipts name the kept old table; they name the KKM's
/// Kazakh side table instead (same IDs, so every stored row stays valid), so a KKM saved after the move can
/// be bound and controlled. SQLite cannot alter a foreign key: the schema text is edited, as 0006 did.
fn point_registry_at_side_table(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "writable_schema", true)?;
    for old in [format!("\"{KEPT_KKMS}\" (id)"), format!("{KEPT_KKMS} (id)"), format!("\"{KEPT_KKMS}\"(id)")] {
        conn.execute(
            "UPDATE sqlite_schema SET sql = replace(sql, ?1, 'kz_kkms (kkm_id)')
              WHERE type = 'table' AND name IN ('kkm_bindings', 'control_receipts')",
            [&old],
        )?;
    }
    conn.pragma_update(None, "writable_schema", false)?;
    // Every connection reads the edited schema again.
    let cookie: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    conn.pragma_update(None, "schema_version", cookie + 1)
}

/// The open shift's counters and the drawer of every KKM.
fn move_counters(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT z.device_id, k.shift_state, k.fr_shift_number, k.counters, k.cash_sum, k.revenue, k.nns, k.start_shift_nns
           FROM kkms k JOIN kz_kkms z ON z.kkm_id = k.id ORDER BY k.id",
    )?;
    let mut shift_row =
        conn.prepare("INSERT INTO ledger_counters (device_id, shift_number, name, value) VALUES (?1, ?2, ?3, ?4)")?;
    let mut life_row =
        conn.prepare("INSERT INTO ledger_lifetime_counters (device_id, name, value) VALUES (?1, ?2, ?3)")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let device: i64 = row.get(0)?;
        let open = row.get::<_, i64>(1)? == 1;
        let shift: i64 = row.get(2)?;
        let counters: Value = json_column(row, 3)?;
        let cash_sum = decimal_column(row, 4)?;
        let revenue = decimal_column(row, 5)?;
        let nns = decimals(&json_column(row, 6)?, 6)?;
        let start_nns = decimals(&json_column(row, 7)?, 7)?;
        let mut shift_counters = Vec::new();
        let mut lifetime = Vec::new();
        if let Value::Object(fields) = &counters {
            for (field, value) in fields {
                let into = if LIFETIME.contains(&field.as_str()) { &mut lifetime } else { &mut shift_counters };
                flatten(&escape(field), value, into);
            }
        }
        lifetime.push(("cash_sum".to_owned(), cash_sum));
        for (i, (now, start)) in nns.iter().zip(start_nns.iter().chain(std::iter::repeat(&Decimal::ZERO))).enumerate() {
            lifetime.push((format!("nns/{i}"), *now));
            shift_counters.push((format!("nns/{i}"), now - start));
        }
        shift_counters.push(("revenue".to_owned(), revenue));
        if open {
            for (name, value) in shift_counters {
                shift_row.execute(params![device, shift, name, value.to_string()])?;
            }
        }
        for (name, value) in lifetime {
            life_row.execute(params![device, name, value.to_string()])?;
        }
    }
    Ok(())
}

/// Chains and seals the moved documents after the ledger's own, in transaction ID order.
fn chain_moved(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT id FROM ledger_documents WHERE public_id IS NOT NULL ORDER BY id")?;
    let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
    for id in ids {
        chain_appended(Db::Sqlite(conn), Journal::Ledger, id).map_err(|e| match e {
            StoreError::Sqlite(e) => e,
            other => rusqlite::Error::ToSqlConversionFailure(other.into()),
        })?;
    }
    Ok(())
}

fn bad_column(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

fn json_column(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Value> {
    serde_json::from_str(&row.get::<_, String>(i)?).map_err(|e| bad_column(i, e))
}

fn decimal_column(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Decimal> {
    Decimal::from_str(&row.get::<_, String>(i)?).map_err(|e| bad_column(i, e))
}

/// A JSON list of decimal strings (the non-nullable sums).
fn decimals(value: &Value, i: usize) -> rusqlite::Result<Vec<Decimal>> {
    let Value::Array(items) = value else { return Ok(Vec::new()) };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Decimal::from_str(s).map_err(|e| bad_column(i, e)),
            other => Decimal::from_str(&other.to_string()).map_err(|e| bad_column(i, e)),
        })
        .collect()
}
