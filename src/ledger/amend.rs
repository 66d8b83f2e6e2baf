//! What a fiscaliser keeps beside a document, and the one narrow way to change a committed document.
//!
//! A document's fields as made are chained and never change. What its fiscaliser learns later (it went
//! autonomous and took an autonomous number, its request was encoded anew, the authority's ticket number, a
//! send attempt, counters that move when a ticket turns autonomous) is written by [`Ledger::amend`] into
//! `ledger_fiscal` and sealed with the document, in one transaction. Call it under the device's send lock
//! (the fiscaliser runs under it), so amendments of a device come in order.
use super::{Ledger, LedgerError, LedgerResult};
use crate::store::{DocPlace, FiscalNoteRow, FiscalState, Numbers, Tx};
use rust_decimal::Decimal;

/// A fiscaliser's row of a document.
pub type FiscalNote = FiscalNoteRow;

/// What the amending closure sees: where the document stands, its fiscaliser's row, and the autonomous number
/// it would take now.
#[derive(Debug)]
pub struct Amending<'a> {
    pub document: &'a DocPlace,
    pub note: &'a FiscalNote,
    /// The number [`Amendment::take_autonomous_number`] gives (its own, when it has one already).
    pub autonomous_number: i64,
}

/// What to change; `None` keeps a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Amendment {
    /// The document as it is now (its body as made stays in the journal's chain).
    pub body: Option<serde_json::Value>,
    pub request: Option<Vec<u8>>,
    pub autonomous: Option<bool>,
    /// Gives the document the next number of its device's autonomous series (once: a document that has
    /// one keeps it).
    pub take_autonomous_number: bool,
    pub ticket: Option<String>,
    /// `Some(None)` clears the error.
    pub error: Option<Option<String>>,
    /// Counts a send attempt at this time.
    pub attempt_at: Option<String>,
    /// Added to the counters of the document's shift and of the device's life, and to the document's own.
    pub counters: Vec<(String, Decimal)>,
    /// What the authority said: accepted or refused (never rolled back: see [`Ledger::roll_back`]), with
    /// its reply.
    pub outcome: Option<(FiscalState, Option<serde_json::Value>)>,
}

impl Ledger {
    /// The fiscaliser's row of a document (`None` before anything was kept for it).
    pub fn fiscal_note(&self, doc_id: i64) -> LedgerResult<Option<FiscalNote>> {
        Ok(self.store.read(|tx| tx.ledger_fiscal(doc_id))?)
    }

    /// Amends a committed document: `change` sees it as stored and says what to change, inside the write
    /// transaction, so a body that shows the autonomous number is made with the number it takes. A
    /// rolled-back document is not amended. Returns the fiscaliser's row as it is now.
    pub fn amend(
        &self,
        doc_id: i64,
        change: impl FnOnce(&Amending) -> LedgerResult<Amendment>,
    ) -> LedgerResult<FiscalNote> {
        self.store.write(|tx| amend(tx, doc_id, change))
    }
}

/// The amending transaction (see [`Ledger::amend`]), inside the caller's.
pub fn amend(
    tx: &Tx,
    doc_id: i64,
    change: impl FnOnce(&Amending) -> LedgerResult<Amendment>,
) -> LedgerResult<FiscalNote> {
    let doc = tx.ledger_document_place(doc_id)?.ok_or(LedgerError::UnknownDocument(doc_id))?;
    if doc.fiscal_state == FiscalState::RolledBack {
        return Err(LedgerError::RolledBack(doc_id));
    }
    let numbers = tx.ledger_numbers(doc.device_id)?.ok_or(LedgerError::UnknownDevice(doc.device_id))?;
    let mut note = tx.ledger_fiscal(doc_id)?.unwrap_or(FiscalNote { document_id: doc_id, ..Default::default() });
    let next = doc.autonomous_number.unwrap_or(numbers.last_autonomous + 1);
    let a = change(&Amending { document: &doc, note: &note, autonomous_number: next })?;
    if a.take_autonomous_number && doc.autonomous_number.is_none() {
        tx.ledger_set_autonomous_number(doc_id, next)?;
        tx.ledger_set_numbers(doc.device_id, Numbers { last_autonomous: next, ..numbers })?;
    }
    if let Some(body) = a.body {
        note.body = Some(body);
    }
    if let Some(request) = a.request {
        note.request = Some(request);
    }
    if let Some(autonomous) = a.autonomous {
        note.autonomous = autonomous;
    }
    if let Some(ticket) = a.ticket {
        note.ticket = Some(ticket);
    }
    if let Some(error) = a.error {
        note.error = error;
    }
    if let Some(at) = a.attempt_at {
        note.attempts += 1;
        note.last_attempt_at = Some(at);
    }
    tx.ledger_put_fiscal(&note)?;
    if let Some((state, reply)) = &a.outcome {
        if *state == FiscalState::RolledBack {
            return Err(LedgerError::RolledBack(doc_id));
        }
        tx.ledger_set_fiscal_state_unsealed(doc_id, *state, reply.as_ref())?;
    }
    let counts: Vec<(&str, Decimal)> = a.counters.iter().map(|(name, delta)| (name.as_str(), *delta)).collect();
    tx.ledger_count(doc.device_id, doc.shift_number, doc_id, &counts)?;
    tx.ledger_reseal(doc_id)?;
    Ok(note)
}
