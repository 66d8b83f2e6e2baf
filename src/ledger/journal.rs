//! Reading the ledger back (journal queries, the counters of a device's life, what a document added) and
//! retiring a device: a retired device makes no more documents but keeps every one it made, readable as
//! before; it is never deleted.
use super::{Ledger, LedgerError, LedgerResult};
use crate::store::{DeviceRow, LedgerDocRow, LedgerJournalFilter};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Which documents [`Ledger::journal`] returns.
pub type JournalQuery = LedgerJournalFilter;

impl Ledger {
    /// A device by its ID, retired or not.
    pub fn device_by_id(&self, device_id: i64) -> LedgerResult<Option<DeviceRow>> {
        Ok(self.store.read(|tx| tx.ledger_device_by_id(device_id))?)
    }

    /// The document `country`'s API names by this public ID (see [`crate::ledger::Numbering::public_id`]).
    pub fn document_by_public_id(&self, country: &str, public_id: i64) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_document_by_public_id(country, public_id))?)
    }

    /// A device's documents, oldest first (by number).
    pub fn journal(&self, device_id: i64, query: &JournalQuery) -> LedgerResult<Vec<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_journal(device_id, query))?)
    }

    /// The document at `position` of `shift` (the reprint key), not a rolled-back one.
    pub fn document_at(&self, device_id: i64, shift: i64, position: i64) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_document_at(device_id, shift, position))?)
    }

    /// The counters of the device's life: every counter any of its documents added, never reset by a shift.
    pub fn lifetime_counters(&self, device_id: i64) -> LedgerResult<BTreeMap<String, Decimal>> {
        Ok(self.store.read(|tx| tx.ledger_lifetime_counters(device_id))?)
    }

    /// The counters of a shift in the order of their first use (the Kazakh reports list sections, cashiers
    /// and taxes so).
    pub fn counters_in_order(&self, device_id: i64, shift: i64) -> LedgerResult<Vec<(String, Decimal)>> {
        Ok(self.store.read(|tx| tx.ledger_counters_in_order(device_id, shift))?)
    }

    /// What a document added to the counters (amendments included).
    pub fn document_counters(&self, doc_id: i64) -> LedgerResult<BTreeMap<String, Decimal>> {
        Ok(self.store.read(|tx| tx.ledger_document_counters(doc_id))?)
    }

    /// How many documents a device holds, rolled-back ones included.
    pub fn stored_documents(&self, device_id: i64) -> LedgerResult<i64> {
        Ok(self.store.read(|tx| tx.ledger_stored_documents(device_id))?)
    }

    /// Retires a device at `at`: refused while documents wait for its fiscaliser (they would never go).
    pub fn retire(&self, device_id: i64, at: &str) -> LedgerResult<DeviceRow> {
        self.store.write(|tx| retire(tx, device_id, at))
    }

    /// Brings a retired device back (registered again): it goes on with its numbers and its journal.
    pub fn revive(&self, device_id: i64) -> LedgerResult<DeviceRow> {
        self.store.write(|tx| revive(tx, device_id))
    }
}

/// The retiring transaction (see [`Ledger::retire`]).
pub fn retire(tx: &crate::store::Tx, device_id: i64, at: &str) -> LedgerResult<DeviceRow> {
    tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
    let waiting = tx.ledger_waiting_count(device_id)?;
    if waiting > 0 {
        return Err(LedgerError::DocumentsWait { device: device_id, waiting });
    }
    tx.ledger_set_retired(device_id, Some(at))?;
    tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))
}

/// The reviving transaction (see [`Ledger::revive`]).
pub fn revive(tx: &crate::store::Tx, device_id: i64) -> LedgerResult<DeviceRow> {
    tx.ledger_set_retired(device_id, None)?;
    tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))
}
