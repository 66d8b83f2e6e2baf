//! Control receipts of a tax inspector: kept apart from the journal (the ledger), so no counter, report,
//! journal listing or OFD sender ever sees them. Addressed as shift 0, numbered per KKM from 1.
use super::kkm::format_date;
use super::{StoreError, StoreResult, Tx};
use chrono::NaiveDateTime;
use rusqlite::params;

/// A control receipt as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlReceiptRow {
    /// Its row ID (its template pin is kept by it); 0 before insertion.
    pub id: i64,
    pub kkm_id: i64,
    /// Its number on its KKM (1, 2, ...); 0 before insertion.
    pub number: i64,
    pub created_at: NaiveDateTime,
    pub operator_id: i64,
    pub operator_name: String,
    /// The ticket as made (its `shift_document_number` is its number).
    pub body: serde_json::Value,
}

impl Tx<'_> {
    /// Stores a control receipt; returns its row with its id and number filled in.
    pub fn insert_control_receipt(&self, receipt: &ControlReceiptRow) -> StoreResult<ControlReceiptRow> {
        let number: i64 = self.row(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM control_receipts WHERE kkm_id = ?1",
            params![receipt.kkm_id],
            |r| r.get(0),
        )?;
        let mut body = receipt.body.clone();
        body["shift_document_number"] = number.into();
        let id = self.db().insert_id(
            "INSERT INTO control_receipts (kkm_id, number, created_at, operator_id, operator_name, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                receipt.kkm_id,
                number,
                format_date(&receipt.created_at),
                receipt.operator_id,
                receipt.operator_name,
                body.to_string()
            ],
            "id",
        )?;
        Ok(ControlReceiptRow { id, number, body, ..receipt.clone() })
    }

    /// The control receipt `number` of `kkm_id`.
    pub fn control_receipt(&self, kkm_id: i64, number: i64) -> StoreResult<Option<ControlReceiptRow>> {
        let raw = self.opt_row(
            "SELECT id, created_at, operator_id, operator_name, body FROM control_receipts
                 WHERE kkm_id = ?1 AND number = ?2",
            params![kkm_id, number],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )?;
        let Some((id, created_at, operator_id, operator_name, body)) = raw else {
            return Ok(None);
        };
        let created_at = NaiveDateTime::parse_from_str(&created_at, "%Y-%m-%dT%H:%M:%S%.3f")
            .map_err(|e| StoreError::Corrupt(format!("control receipt date {created_at}: {e}")))?;
        let body = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("control receipt: {e}")))?;
        Ok(Some(ControlReceiptRow { id, kkm_id, number, created_at, operator_id, operator_name, body }))
    }
}
