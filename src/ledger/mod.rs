//! The country-neutral ledger: fiscal devices, their shifts, documents with their fiscal state, shift
//! counters, idempotency, retired-not-deleted, and the [`Fiscaliser`] seam to a country's authority.
//!
//! A country's front validates a request with its rules into an [`Entry`] and hands it here; the ledger
//! numbers it and commits it with its counters in one transaction (commit before fiscalise), then the
//! country's fiscaliser fiscalises the device's queue in order under the device's send lock.
//! It knows no front, no wire shape and no country's rules. Kazakh KKMs keep their own tables in
//! `fiscal` (the Kazakh ledger, older than this one); `money` (the one rounding rule) and `clock` are
//! shared with it (`fiscal::money` and `fiscal::clock` name them).
pub mod clock;
pub mod fiscaliser;
pub mod money;

pub use clock::{Clock, FixedClock, SystemClock};
pub use fiscaliser::{BoxFuture, Fiscaliser, Outcome};

use crate::store::{DeviceRow, FiscalState, LedgerDocRow, NewLedgerDoc, Store, StoreError, TemplateRow};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A ledger failure.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no device {0}")]
    UnknownDevice(i64),
    #[error("a blocking task failed: {0}")]
    Task(String),
}

pub type LedgerResult<T> = Result<T, LedgerError>;

/// A document a country's rules made, ready to be numbered and committed.
#[derive(Debug, Clone)]
pub struct Entry {
    pub doc_type: String,
    /// The document as its rules made it (what its templates and its front read back).
    pub body: serde_json::Value,
    /// Shift counters to add to, in the same transaction.
    pub counters: Vec<(String, Decimal)>,
    /// When it was made (RFC 3339 with the device's offset).
    pub created_at: String,
    /// Its unique identifier, given by the device.
    pub uid: String,
}

/// Per-device serialisation: `ops` orders document creation, `send` the calls to the fiscaliser.
#[derive(Default)]
pub struct DeviceLock {
    pub ops: tokio::sync::Mutex<()>,
    pub send: tokio::sync::Mutex<()>,
}

/// The ledger over the shared store.
pub struct Ledger {
    store: Arc<Store>,
    locks: Mutex<HashMap<i64, Arc<DeviceLock>>>,
}

impl Ledger {
    pub fn new(store: Arc<Store>) -> Ledger {
        Ledger { store, locks: Mutex::new(HashMap::new()) }
    }

    /// The locks of a device, made on first use.
    pub fn lock(&self, device: i64) -> Arc<DeviceLock> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(device).or_default().clone()
    }

    /// Runs ledger work off the async threads (SQLite waits for fsync).
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Ledger) -> LedgerResult<T> + Send + 'static,
    ) -> LedgerResult<T> {
        let ledger = self.clone();
        tokio::task::spawn_blocking(move || f(&ledger)).await.map_err(|e| LedgerError::Task(e.to_string()))?
    }

    /// Records a device (or refreshes the registration of a known one); `first_number` is the number its
    /// first document gets, `last_shift` the number of the shift before its first one here.
    pub fn register(
        &self,
        country: &str,
        serial: &str,
        registration: &serde_json::Value,
        first_number: i64,
        last_shift: i64,
    ) -> LedgerResult<DeviceRow> {
        Ok(self.store.write(|tx| tx.ledger_register_device(country, serial, registration, first_number, last_shift))?)
    }

    /// A device by country and serial.
    pub fn device(&self, country: &str, serial: &str) -> LedgerResult<Option<DeviceRow>> {
        Ok(self.store.read(|tx| tx.ledger_device(country, serial))?)
    }

    /// Opens shift `number` at `at` (the caller's rules checked that none is open).
    pub fn open_shift(&self, device: &DeviceRow, number: i64, at: &str) -> LedgerResult<()> {
        Ok(self.store.write(|tx| tx.ledger_set_shift(device.id, number, Some(at)))?)
    }

    /// Commits `entry` as the device's next document in its open shift, with its counters, in one
    /// transaction; with `close_shift` the shift closes in the same transaction (a Z report). A key seen
    /// before returns the document it made instead.
    pub fn commit(
        &self,
        device_id: i64,
        entry: &Entry,
        key: Option<&str>,
        close_shift: bool,
    ) -> LedgerResult<LedgerDocRow> {
        self.commit_opening(device_id, None, entry, key, close_shift)
    }

    /// Opens shift `number` at `at` and commits `entry` (its opening document) in one transaction, so a
    /// shift is never open without the document that opened it (a Ukrainian ПРРО fiscalises the opening).
    pub fn open_shift_with(
        &self,
        device_id: i64,
        number: i64,
        at: &str,
        entry: &Entry,
        key: Option<&str>,
    ) -> LedgerResult<LedgerDocRow> {
        self.commit_opening(device_id, Some((number, at)), entry, key, false)
    }

    fn commit_opening(
        &self,
        device_id: i64,
        open: Option<(i64, &str)>,
        entry: &Entry,
        key: Option<&str>,
        close_shift: bool,
    ) -> LedgerResult<LedgerDocRow> {
        self.store.write(|tx| {
            if let Some(k) = key
                && let Some(done) = tx.ledger_document_by_key(k)?
            {
                return Ok(done);
            }
            if let Some((number, at)) = open {
                tx.ledger_set_shift(device_id, number, Some(at))?;
            }
            let device = tx.ledger_device_by_id(device_id)?.ok_or(LedgerError::UnknownDevice(device_id))?;
            let number = device.next_number;
            let new = NewLedgerDoc {
                device_id,
                number,
                shift_number: device.shift_number,
                doc_type: &entry.doc_type,
                uid: &entry.uid,
                created_at: &entry.created_at,
                body: &entry.body,
                idempotency_key: key,
            };
            let id = tx.ledger_insert_document(&new)?;
            for (name, delta) in &entry.counters {
                tx.ledger_add_counter(device_id, device.shift_number, name, *delta)?;
            }
            tx.ledger_set_next_number(device_id, number + 1)?;
            if close_shift {
                tx.ledger_set_shift(device_id, device.shift_number, None)?;
            }
            tx.ledger_document(id)?.ok_or(LedgerError::UnknownDevice(device_id))
        })
    }

    /// Records what the fiscaliser said about a document.
    pub fn record(&self, doc_id: i64, state: FiscalState, reply: Option<&serde_json::Value>) -> LedgerResult<()> {
        Ok(self.store.write(|tx| tx.ledger_set_fiscal_state(doc_id, state, reply))?)
    }

    pub fn document(&self, doc_id: i64) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_document(doc_id))?)
    }

    /// The document an idempotency key made, if any.
    pub fn document_by_key(&self, key: &str) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_document_by_key(key))?)
    }

    pub fn document_by_number(&self, device: i64, number: i64) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_document_by_number(device, number))?)
    }

    pub fn last_document(&self, device: i64, types: &[&str]) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_last_document(device, types))?)
    }

    /// Every device of every country.
    pub fn devices(&self) -> LedgerResult<Vec<DeviceRow>> {
        Ok(self.store.read(|tx| tx.ledger_devices())?)
    }

    /// How many documents wait for the fiscaliser, and the oldest of them.
    pub fn waiting(&self, device: i64) -> LedgerResult<(i64, Option<LedgerDocRow>)> {
        Ok(self.store.read(|tx| tx.ledger_waiting(device))?)
    }

    pub fn shift_document_count(&self, device: i64, shift: i64) -> LedgerResult<i64> {
        Ok(self.store.read(|tx| tx.ledger_shift_document_count(device, shift))?)
    }

    /// The running counters of a shift (updated with each document, never rebuilt from the journal).
    pub fn counters(&self, device: i64, shift: i64) -> LedgerResult<BTreeMap<String, Decimal>> {
        Ok(self.store.read(|tx| tx.ledger_counters(device, shift))?)
    }

    /// The template version a document keeps: `actual` the first time, the stored one ever after.
    pub fn keep_template(&self, doc_id: i64, actual: TemplateRow) -> LedgerResult<TemplateRow> {
        let kept = self.store.write(|tx| tx.ledger_remember_template(doc_id, &actual))?;
        Ok(kept.unwrap_or(actual))
    }
}
