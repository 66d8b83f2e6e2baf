//! The SQLite store: the only part that writes SQL.
//!
//! One connection behind a mutex: every call runs a closure inside one transaction, so a document and its
//! counters are committed together or not at all. WAL with `synchronous=FULL`: a write is on disk when
//! `write` returns, before the API answers.
mod document;
mod error;
mod kkm;
mod license;
pub mod migrations;
mod operator;
mod vendor;

pub use document::{DocumentRow, JournalFilter, OfdState};
pub use error::{StoreError, StoreResult};
pub use kkm::{KkmRow, KkmSettings, PrinterEntity, VatCertificate};
pub use license::LicenseRow;
pub use operator::OperatorRow;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

/// The database handle shared by the whole server.
pub struct Store {
    conn: Mutex<Connection>,
}

/// A transaction in progress; the query methods live in the store's submodules.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Store {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> StoreResult<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::from_connection(conn)
    }

    /// Opens a private in-memory database (tests, tools).
    pub fn open_in_memory() -> StoreResult<Store> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> StoreResult<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Fiscal data: every commit reaches the disk before the API acknowledges it.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > migrations::latest() {
            return Err(StoreError::TooNew { found, supported: migrations::latest() });
        }
        migrations::migrate_to(&mut conn, migrations::latest())?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    /// Runs `f` in a read-write transaction, committed when `f` returns `Ok`, rolled back otherwise.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| E::from(e.into()))?;
        let tx = Tx { tx };
        let value = f(&tx)?;
        tx.tx.commit().map_err(|e| E::from(e.into()))?;
        Ok(value)
    }

    /// Runs `f` in a read transaction (a consistent snapshot).
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(|e| E::from(e.into()))?;
        f(&Tx { tx })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> StoreResult<u32> {
        Ok(self.lock().query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction behind (it rolled back on drop),
        // so the connection is still sound: keep serving.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Tx<'_> {
    fn conn(&self) -> &Connection {
        &self.tx
    }
}
