//! The country-neutral ledger: fiscal devices, their shifts, documents with their fiscal state, shift
//! counters, idempotency, retired-not-deleted, and the [`Fiscaliser`] seam to a country's authority.
//!
//! A country's front validates a request with its rules into an [`Entry`] and hands it here; the ledger
//! numbers it and commits it with its counters in one transaction (commit before fiscalise), then the
//! country's fiscaliser fiscalises the device's queue in order under the device's send lock.
//! Numbering per device and per shift with an autonomous series, counters per shift and for the device's
//! life, rollback and the fiscaliser's own row live in `numbering`, `amend` and `journal`.
//! It knows no front, no wire shape and no country's rules. Kazakh KKMs keep their own tables in
//! `fiscal` (the Kazakh ledger, older than this one); `money` (the one rounding rule) and `clock` are
//! shared with it (`fiscal::money` and `fiscal::clock` name them).
pub mod amend;
pub mod clock;
pub mod device_clock;
pub mod drain;
pub mod fiscaliser;
pub mod journal;
pub mod money;
pub mod numbering;
pub mod pins;
pub mod serving;

/// The ledger's steps inside a caller's write transaction ([`Ledger::write`]), for a country that keeps its
/// own side rows (a Kazakh KKM's link state) in the same transaction as its documents.
pub mod within {
    pub use super::amend::amend;
    pub use super::drain::drain_in;
    pub use super::fiscaliser::record;
    pub use super::journal::{retire, revive};
    pub use super::numbering::{
        Upcoming, commit, commit_onto, register_device, request_at_least, roll_back, take_request_number, upcoming,
    };
    pub use super::pins::keep_template;
}

/// Typed counters kept as JSON, as named rows and back (a country's rules own their shape).
pub use crate::store::counter_names::{counter_path, counter_rows, escape as counter_segment};
/// The rows the ledger hands out and the key it takes: a front names them here, not in the store.
pub use crate::store::{DeviceRow, FiscalState, LedgerDocRow, RequestKey};
pub use amend::{Amending, Amendment, FiscalNote};
pub use clock::{Clock, FixedClock, SystemClock};
pub use device_clock::DeviceClock;
pub use drain::Drained;
pub use fiscaliser::{BoxFuture, Fiscaliser, Outcome};
pub use journal::JournalQuery;
pub use numbering::{NewFiscal, Numbering};
pub use pins::LedgerPins;

use crate::store::{Book, Replay, Store, StoreError, TemplateRow};
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
    /// The idempotency key made a document from another request on this device and method.
    #[error("the key {key:?} was used for another {method} request on this device: use a new key per document")]
    KeyReused { method: String, key: String },
    #[error("no document {0}")]
    UnknownDocument(i64),
    #[error("device {0} is retired: it makes no more documents")]
    Retired(i64),
    #[error("device {device} still has {waiting} documents waiting for its fiscaliser")]
    DocumentsWait { device: i64, waiting: i64 },
    #[error("document {0} is not its device's newest: only the newest gives its numbers back")]
    NotNewest(i64),
    #[error("document {0} was accepted by its authority: it cannot be rolled back")]
    Fiscalised(i64),
    #[error("document {0} was rolled back")]
    RolledBack(i64),
    #[error("device {0} has documents numbered in its series already")]
    SeriesInUse(i64),
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

/// Per-device serialisation: `ops` orders document creation, `send` the calls to the fiscaliser. A device
/// whose fiscaliser works in the background (the Kazakh autonomous queue) has one sender task: `wake` wakes
/// it, `sender_running` says whether it runs.
#[derive(Default)]
pub struct DeviceLock {
    pub ops: tokio::sync::Mutex<()>,
    pub send: tokio::sync::Mutex<()>,
    pub wake: tokio::sync::Notify,
    pub sender_running: std::sync::atomic::AtomicBool,
}

/// What an idempotency key says before a document is made.
#[derive(Debug, Clone)]
pub enum Seen {
    /// Not used on this device and method: make the document.
    New,
    /// The same request made this document: answer it again, make nothing.
    Stored(LedgerDocRow),
}

/// The ledger over the shared store.
pub struct Ledger {
    store: Arc<Store>,
    locks: DeviceLocks,
}

/// The locks of a book's devices, by device. Two ledgers over one tenant's books (a tenant's core built again
/// while the one before still sends) share them, so a device's documents are still sent one at a time.
pub type DeviceLocks = Arc<Mutex<HashMap<i64, Arc<DeviceLock>>>>;

impl Ledger {
    pub fn new(store: Arc<Store>) -> Ledger {
        Ledger::with_locks(store, DeviceLocks::default())
    }

    /// A ledger whose devices' locks are `locks`.
    pub fn with_locks(store: Arc<Store>, locks: DeviceLocks) -> Ledger {
        Ledger { store, locks }
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

    /// Runs `f` in one write transaction of the ledger's store: a country's own rows beside its devices
    /// and the ledger's steps ([`within`]) commit together or not at all.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&crate::store::Tx) -> Result<T, E>) -> Result<T, E> {
        self.store.write(f)
    }

    /// [`Ledger::write`] for an async caller, without blocking it ([`Store::write_queued`]).
    pub async fn write_queued<T, E>(
        &self,
        f: impl FnOnce(&crate::store::Tx) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.store.write_queued(f).await
    }

    /// Runs `f` in one read transaction (a consistent view).
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&crate::store::Tx) -> Result<T, E>) -> Result<T, E> {
        self.store.read(f)
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
        Ok(self.store.write(|tx| tx.ledger_open_shift(device.id, number, at))?)
    }

    /// What `key` says about a request to `device_id`: look it up first, after the caller's access check and
    /// before any rule runs, so a retry after the drawer or the shift changed gets the stored document. The
    /// same key with another request is [`LedgerError::KeyReused`].
    pub fn replay(&self, device_id: i64, key: &RequestKey) -> LedgerResult<Seen> {
        self.store.read(|tx| seen(tx, device_id, key))
    }

    /// Commits `entry` as the device's next document in its open shift, with its counters, in one
    /// transaction; with `close_shift` the shift closes in the same transaction (a Z report). The key is
    /// recorded with the document; a key seen before returns the document it made instead.
    pub fn commit(
        &self,
        device_id: i64,
        entry: &Entry,
        key: Option<&RequestKey>,
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
        key: Option<&RequestKey>,
    ) -> LedgerResult<LedgerDocRow> {
        self.commit_opening(device_id, Some((number, at)), entry, key, false)
    }

    fn commit_opening(
        &self,
        device_id: i64,
        open: Option<(i64, &str)>,
        entry: &Entry,
        key: Option<&RequestKey>,
        close_shift: bool,
    ) -> LedgerResult<LedgerDocRow> {
        self.commit_numbered(device_id, entry, key, &Numbering { open, close_shift, ..Default::default() })
    }

    /// Records what the fiscaliser said about a document (see [`fiscaliser::record`]).
    pub fn record(&self, doc_id: i64, state: FiscalState, reply: Option<&serde_json::Value>) -> LedgerResult<()> {
        self.store.write(|tx| {
            let doc = tx.ledger_document(doc_id)?.ok_or(LedgerError::UnknownDocument(doc_id))?;
            fiscaliser::record(tx, &doc, state, reply)
        })
    }

    /// What the fiscaliser recorded of a document: its state and reply (`None`: no such document).
    pub fn fiscal_outcome(&self, doc_id: i64) -> LedgerResult<Option<(FiscalState, Option<serde_json::Value>)>> {
        Ok(self.store.read(|tx| tx.ledger_fiscal_outcome(doc_id))?)
    }

    pub fn document(&self, doc_id: i64) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| tx.ledger_document(doc_id))?)
    }

    /// The newest document a key made on this device, whatever the method and request ("repeat by tag").
    pub fn document_by_tag(&self, device_id: i64, key: &str) -> LedgerResult<Option<LedgerDocRow>> {
        Ok(self.store.read(|tx| match tx.newest_by_key(Book::Ledger, device_id, key)? {
            Some(id) => tx.ledger_document(id),
            None => Ok(None),
        })?)
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

    /// How many documents a shift holds, counted (rolled-back ones not). The fronts read the open shift's
    /// count from its device's `shift_position` instead, which costs nothing as the shift grows; the tests
    /// hold the two equal.
    pub fn shift_document_count(&self, device: i64, shift: i64) -> LedgerResult<i64> {
        Ok(self.store.read(|tx| tx.ledger_shift_document_count(device, shift))?)
    }

    /// A device and the running counters of its current shift, read together (`None`: no such device).
    pub fn device_with_counters(
        &self,
        country: &str,
        serial: &str,
    ) -> LedgerResult<Option<(DeviceRow, BTreeMap<String, Decimal>)>> {
        self.device_with(country, serial, |tx, d| tx.ledger_counters(d.id, d.shift_number))
    }

    /// [`Ledger::device_with_counters`] for one counter of the device's shift (zero when it has no row yet).
    pub fn device_with_counter(
        &self,
        country: &str,
        serial: &str,
        name: &str,
    ) -> LedgerResult<Option<(DeviceRow, Decimal)>> {
        self.device_with(country, serial, |tx, d| tx.ledger_counter(d.id, d.shift_number, name))
    }

    /// A device and what `read` reads of it, in one read transaction (`None`: no such device).
    fn device_with<T>(
        &self,
        country: &str,
        serial: &str,
        read: impl FnOnce(&crate::store::Tx, &DeviceRow) -> Result<T, StoreError>,
    ) -> LedgerResult<Option<(DeviceRow, T)>> {
        Ok(self.store.read(|tx| match tx.ledger_device(country, serial)? {
            Some(d) => read(tx, &d).map(|value| Some((d, value))),
            None => Ok(None),
        })?)
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

/// What `key` says, with the stored document, inside the caller's transaction (see [`Ledger::replay`]).
pub fn seen_in(tx: &crate::store::Tx, device_id: i64, key: &RequestKey) -> LedgerResult<Seen> {
    seen(tx, device_id, key)
}

/// What `key` says, with the stored document.
fn seen(tx: &crate::store::Tx, device_id: i64, key: &RequestKey) -> LedgerResult<Seen> {
    match tx.replay(Book::Ledger, device_id, key)? {
        Replay::New => Ok(Seen::New),
        Replay::Stored(id) => {
            let doc = tx.ledger_document(id)?.ok_or_else(|| StoreError::Corrupt(format!("key of document {id}")))?;
            Ok(Seen::Stored(doc))
        }
        Replay::Conflict => Err(LedgerError::KeyReused { method: key.method.clone(), key: key.key.clone() }),
    }
}
