//! What a fiscaliser keeps beside a ledger document (`ledger_fiscal`, migration 0013): the request number
//! committed with it, the encoded request, the autonomous mark, the authority's ticket number, an amended
//! body, the send attempts. Sealed with its document (store::chain).
use super::{StoreResult, Tx};
use rusqlite::params;

/// The fiscaliser's row of a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FiscalNoteRow {
    pub document_id: i64,
    /// Committed with the document; every resend reuses it (the Kazakh REQNUM).
    pub request_number: Option<i64>,
    /// The encoded request, resent as is.
    pub request: Option<Vec<u8>>,
    /// Made, or turned, autonomous (offline).
    pub autonomous: bool,
    /// The authority's number for the accepted document.
    pub ticket: Option<String>,
    /// The document as amended (`None`: as made).
    pub body: Option<serde_json::Value>,
    pub attempts: i64,
    pub last_attempt_at: Option<String>,
    pub error: Option<String>,
    /// The idempotency key a rollback freed.
    pub rolled_back_key: Option<String>,
}

impl Tx<'_> {
    /// The fiscaliser's row of a document, if it has one.
    pub fn ledger_fiscal(&self, doc_id: i64) -> StoreResult<Option<FiscalNoteRow>> {
        let found = self.opt_row(
            "SELECT document_id, request_number, request, autonomous, ticket, body, attempts, last_attempt_at,
                        error, rolled_back_key
                   FROM ledger_fiscal WHERE document_id = ?1",
            params![doc_id],
            |r| {
                Ok((
                    FiscalNoteRow {
                        document_id: r.get(0)?,
                        request_number: r.get(1)?,
                        request: r.get(2)?,
                        autonomous: r.get(3)?,
                        ticket: r.get(4)?,
                        body: None,
                        attempts: r.get(6)?,
                        last_attempt_at: r.get(7)?,
                        error: r.get(8)?,
                        rolled_back_key: r.get(9)?,
                    },
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )?;
        found
            .map(|(mut row, body)| {
                row.body = body.map(|b| serde_json::from_str(&b)).transpose()?;
                Ok(row)
            })
            .transpose()
    }

    /// Writes the fiscaliser's row of a document (made or replaced whole); the caller reseals the document.
    pub fn ledger_put_fiscal(&self, row: &FiscalNoteRow) -> StoreResult<()> {
        self.exec_later(
            "INSERT INTO ledger_fiscal (document_id, request_number, request, autonomous, ticket, body, attempts,
                     last_attempt_at, error, rolled_back_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (document_id) DO UPDATE SET request_number = excluded.request_number,
                     request = excluded.request, autonomous = excluded.autonomous, ticket = excluded.ticket,
                     body = excluded.body, attempts = excluded.attempts, last_attempt_at = excluded.last_attempt_at,
                     error = excluded.error, rolled_back_key = excluded.rolled_back_key",
            params![
                row.document_id,
                row.request_number,
                row.request,
                row.autonomous,
                row.ticket,
                row.body.as_ref().map(|b| b.to_string()),
                row.attempts,
                row.last_attempt_at,
                row.error,
                row.rolled_back_key,
            ],
        )?;
        Ok(())
    }

    /// Gives a document a number of the autonomous series.
    pub fn ledger_set_autonomous_number(&self, doc_id: i64, number: i64) -> StoreResult<()> {
        self.exec_later("UPDATE ledger_documents SET autonomous_number = ?2 WHERE id = ?1", params![doc_id, number])?;
        Ok(())
    }
}
