//! Control receipts of a tax inspector: kept apart from the journal (`documents`), so no counter, report,
//! journal listing or OFD sender ever sees them. Addressed as shift 0, numbered per KKM from 1.
use super::kkm::format_date;
use super::{DocumentRow, OfdState, StoreError, StoreResult, Tx};
use chrono::NaiveDateTime;
use rusqlite::{OptionalExtension, params};

/// The command type a control receipt is rendered as (a ticket).
const TICKET: u8 = 1;

impl Tx<'_> {
    /// Stores a control receipt for `kkm_id`; returns its row with its id and number filled in.
    pub fn insert_control_receipt(&self, receipt: &DocumentRow) -> StoreResult<DocumentRow> {
        let number: i64 = self.conn().query_row(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM control_receipts WHERE kkm_id = ?1",
            [receipt.kkm_id],
            |r| r.get(0),
        )?;
        let mut body = receipt.body.clone();
        body["shift_document_number"] = number.into();
        self.conn().execute(
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
        )?;
        let id = self.conn().last_insert_rowid();
        Ok(DocumentRow { id, fr_shift_number: 0, shift_document_number: number, body, ..receipt.clone() })
    }

    /// The control receipt `number` of `kkm_id`.
    pub fn control_receipt(&self, kkm_id: i64, number: i64) -> StoreResult<Option<DocumentRow>> {
        let raw = self
            .conn()
            .query_row(
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
            )
            .optional()?;
        let Some((id, created_at, operator_id, operator_name, body)) = raw else {
            return Ok(None);
        };
        let created_at = NaiveDateTime::parse_from_str(&created_at, "%Y-%m-%dT%H:%M:%S%.3f")
            .map_err(|e| StoreError::Corrupt(format!("control receipt date {created_at}: {e}")))?;
        let body = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("control receipt: {e}")))?;
        Ok(Some(DocumentRow {
            id,
            kkm_id,
            command: TICKET,
            created_at,
            fr_shift_number: 0,
            shift_document_number: number,
            operator_id,
            operator_name,
            is_offline: false,
            fiscal_id: String::new(),
            qr_code: String::new(),
            summary: serde_json::Value::Null,
            body,
            extra: serde_json::json!({}),
            ofd_state: OfdState::Local,
            ofd_reqnum: None,
            ofd_request: None,
            ofd_error: String::new(),
        }))
    }
}
