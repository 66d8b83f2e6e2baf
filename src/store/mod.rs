//! The store: the only part that writes SQL. Its callers run closures in a transaction, `store.write(|tx|
//! ...)` or `store.read(|tx| ...)`, and call the query methods of [`Tx`] (in this folder's files), which run
//! on either engine through [`sql::Db`]:
//!
//! - SQLite ([`sqlite`]), the embedded default: one file in the data folder, commits in groups.
//! - PostgreSQL ([`pg::serve`]), for a provider's nodes (issue 25): `kassa serve --store postgres://...`.
//!
//! When `write` returns `Ok`, the transaction is committed and on disk on either engine.
pub mod chain;
mod checkpoint;
mod control;
pub mod counter_names;
mod error;
mod facts;
pub mod folder;
mod idempotency;
pub mod kazakh_books;
mod kkm;
mod ledger;
mod ledger_fiscal;
mod ledger_numbers;
mod ledger_totals;
mod license;
pub mod mark;
pub mod migrations;
mod operator;
pub mod pg;
pub mod sql;
pub mod sqlite;
mod template;
pub mod tenant;
mod terminal;
pub mod upgrade_copy;
mod vendor;
mod writer;

pub use control::ControlReceiptRow;
pub use error::{StoreError, StoreResult};
pub use idempotency::{Book, Replay, RequestKey};
pub use kkm::{KkmRow, KkmSettings, PrinterEntity, VatCertificate};
pub use ledger::{DeviceRow, DocPlace, FiscalState, LedgerDocRow};
pub use ledger_fiscal::FiscalNoteRow;
pub use ledger_numbers::{LedgerJournalFilter, NumberedDoc, Numbers};
pub use ledger_totals::{CounterRows, DocumentRecord};
pub use license::LicenseRow;
pub use operator::OperatorRow;
pub use pg::lease::{Holder, Lease};
pub use template::TemplateRow;

pub use sqlite::{check_file, committed};

use sqlite::SqliteStore;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};
use std::time::Duration;

/// The database handle shared by the whole server; on PostgreSQL, one tenant's view of it ([`Store::tenant`]).
pub struct Store {
    engine: Arc<Engine>,
    /// How often each device's counter rows were written in this process.
    counter_writes: Arc<CounterWrites>,
    /// Whose books this handle reads and writes (PostgreSQL; SQLite holds one shop's).
    tenant: Arc<str>,
    /// The writer thread's queue ([`Store::write_queued`], SQLite), started by its first caller.
    writer: Arc<OnceLock<mpsc::Sender<writer::Job>>>,
}

enum Engine {
    Sqlite(SqliteStore),
    Postgres(pg::serve::PgStore),
}

impl Store {
    /// Opens (creating if needed) the SQLite database file and applies pending migrations; refuses a database
    /// behind its commit mark (`StoreError::Behind`).
    pub fn open(path: &Path) -> StoreResult<Store> {
        Ok(Store::over(Engine::Sqlite(SqliteStore::open(path)?)))
    }

    /// Connects to a PostgreSQL store (`postgres://...`) and creates or upgrades its schema; `lease` is how
    /// long this node keeps a device it no longer uses ([`Store::hold`]).
    pub fn open_postgres(url: &str, lease: Duration) -> StoreResult<Store> {
        let pg = pg::serve::PgStore::open(url, lease)?;
        Ok(Store::over(Engine::Postgres(pg)))
    }

    /// Opens a PostgreSQL store to read it only (`kassa check`): nothing is created, migrated or locked.
    pub fn open_postgres_read_only(url: &str) -> StoreResult<Store> {
        let pg = pg::serve::PgStore::open_read_only(url)?;
        // It checks every tenant's books.
        Ok(Store::over(Engine::Postgres(pg)).tenant(tenant::NODE_VIEW))
    }

    /// The default tenant's handle over `engine`.
    fn over(engine: Engine) -> Store {
        Store {
            engine: Arc::new(engine),
            counter_writes: Arc::default(),
            tenant: tenant::DEFAULT.into(),
            writer: Arc::default(),
        }
    }

    /// Whether the store is PostgreSQL's.
    pub fn is_postgres(&self) -> bool {
        matches!(*self.engine, Engine::Postgres(_))
    }

    /// Runs `f` in a read-write transaction. When this returns `Ok`, its changes are committed and on disk;
    /// when `f` returns `Err`, they are rolled back. Blocks the calling thread until then.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let counter_writes = &*self.counter_writes;
        match &*self.engine {
            Engine::Sqlite(store) => store.write(|db| f(&Tx { db, counter_writes, writing: true })),
            Engine::Postgres(store) => store.write(&self.tenant, |db| f(&Tx { db, counter_writes, writing: true })),
        }
    }

    /// Runs `f` in a read-write transaction, as [`Store::write`] does, without blocking an async caller: on
    /// SQLite on the writer thread, in one transaction with the others waiting there ([`writer`]); on
    /// PostgreSQL on the blocking pool. Returns once the commit is on disk, or `f`'s error.
    pub async fn write_queued<T, E>(&self, f: impl FnOnce(&Tx) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let queued = match &*self.engine {
            Engine::Sqlite(_) => self.writer_queue().map(|queue| queue.send(writer::job(f, reply)).is_ok()),
            Engine::Postgres(_) => {
                let store = self.tenant(&self.tenant);
                tokio::task::spawn_blocking(move || {
                    let _ = reply.send(store.write(f));
                });
                Ok(true)
            }
        };
        let stopped =
            || StoreError::Commit("the writer stopped before this write was committed: nothing of it was kept".into());
        match queued {
            Ok(true) => answer.await.unwrap_or_else(|_| Err(E::from(stopped()))),
            Ok(false) => Err(E::from(stopped())),
            Err(e) => Err(E::from(StoreError::Commit(format!("cannot start the writer thread: {e}")))),
        }
    }

    /// The writer thread's queue, the thread started on first use.
    fn writer_queue(&self) -> std::io::Result<&mpsc::Sender<writer::Job>> {
        if let Some(queue) = self.writer.get() {
            return Ok(queue);
        }
        // The thread holds the database only while it runs a batch, so it closes when the last handle goes,
        // on that handle's thread, as without the writer; the thread ends with the queue's last sender.
        let (engine, counter_writes, tenant) =
            (Arc::downgrade(&self.engine), self.counter_writes.clone(), self.tenant.clone());
        let queue = writer::start(move || {
            let engine = engine.upgrade()?;
            Some(Store {
                engine,
                counter_writes: counter_writes.clone(),
                tenant: tenant.clone(),
                writer: Arc::default(),
            })
        })?;
        // Two first callers at once: one thread's queue is kept, the other's thread ends with its sender.
        Ok(self.writer.get_or_init(|| queue))
    }

    /// Runs `f` in a read transaction (a consistent snapshot of the last commit).
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let counter_writes = &*self.counter_writes;
        match &*self.engine {
            Engine::Sqlite(store) => store.read(|db| f(&Tx { db, counter_writes, writing: false })),
            Engine::Postgres(store) => store.read(&self.tenant, |db| f(&Tx { db, counter_writes, writing: false })),
        }
    }

    /// Makes sure this node may write and send the documents of `device` for at least `at_least`: on
    /// PostgreSQL it takes or renews the device's lease unless another node holds it (then it says which);
    /// SQLite's one process serves every device. A device taken over from another node is forgotten by
    /// what remembers it ([`Tx::counters_generation`] moves).
    pub fn hold(&self, device: i64, at_least: Duration) -> StoreResult<Holder> {
        match &*self.engine {
            Engine::Sqlite(_) => Ok(Holder::Here { taken_over: false }),
            Engine::Postgres(store) => {
                let holder = store.hold(&self.tenant, device, at_least)?;
                if holder == (Holder::Here { taken_over: true }) {
                    self.counter_writes.bump(device);
                }
                Ok(holder)
            }
        }
    }

    /// Whether [`Store::hold`] would say `Here` without asking the database.
    pub fn holds(&self, device: i64, at_least: Duration) -> bool {
        match &*self.engine {
            Engine::Sqlite(_) => true,
            Engine::Postgres(store) => store.holds(&self.tenant, device, at_least),
        }
    }

    /// How many devices this node holds the lease of now (PostgreSQL; 0 on SQLite).
    pub fn leases_held(&self) -> usize {
        match &*self.engine {
            Engine::Sqlite(_) => 0,
            Engine::Postgres(store) => store.leases_held(),
        }
    }

    /// Names the base URL of this node's listener of `front` (`api`, `by`, `ua`) to the other nodes
    /// (PostgreSQL), for requests they hand over.
    pub fn advertise(&self, front: &str, url: &str) {
        if let Engine::Postgres(store) = &*self.engine {
            store.advertise(front, url);
        }
    }

    /// Lets go of this node's leases (PostgreSQL), at a clean stop.
    pub fn release_leases(&self) -> StoreResult<()> {
        match &*self.engine {
            Engine::Sqlite(_) => Ok(()),
            Engine::Postgres(store) => store.release_leases(),
        }
    }

    /// Woken when another node lets go of its devices (PostgreSQL; never on SQLite): a node waiting to send
    /// unserved queues ([`Store::unserved_queues`]) looks at once instead of at its next round.
    pub fn unserved_wakeup(&self) -> Option<Arc<tokio::sync::Notify>> {
        match &*self.engine {
            Engine::Sqlite(_) => None,
            Engine::Postgres(store) => Some(store.unserved.clone()),
        }
    }

    /// This tenant's devices whose waiting documents no live node sends (PostgreSQL; none on SQLite, whose
    /// senders start with the server).
    pub fn unserved_queues(&self) -> StoreResult<Vec<i64>> {
        match &*self.engine {
            Engine::Sqlite(_) => Ok(Vec::new()),
            Engine::Postgres(store) => store.unserved_queues(&self.tenant),
        }
    }

    /// The counters generation of a device now, outside any transaction (see [`Tx::counters_generation`]).
    pub fn counters_generation(&self, device_id: i64) -> u64 {
        self.counter_writes.get(device_id)
    }

    /// Copies SQLite's write-ahead log into the database file and empties it (after a rewrite that must leave
    /// no old copy); PostgreSQL keeps its own log.
    pub fn checkpoint(&self) -> StoreResult<()> {
        match &*self.engine {
            Engine::Sqlite(store) => store.checkpoint(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Checks SQLite's write-ahead log every `every` while the store lives (see [`SqliteStore::watch_wal`]).
    pub fn watch_wal_every(self: &Arc<Store>, every: Duration) {
        if let Engine::Sqlite(_) = &*self.engine {
            let store = Arc::downgrade(self);
            sqlite::watch_wal_every(every, move |check| {
                let store = store.upgrade()?;
                match &*store.engine {
                    Engine::Sqlite(sqlite) => {
                        check(sqlite);
                        Some(())
                    }
                    Engine::Postgres(_) => None,
                }
            });
        }
    }

    /// The schema version of the open database (SQLite's `user_version`, or PostgreSQL's `kassa_schema`).
    pub fn schema_version(&self) -> StoreResult<u32> {
        match &*self.engine {
            Engine::Sqlite(store) => store.schema_version(),
            Engine::Postgres(_) => self.read(|tx| {
                tx.row("SELECT coalesce(max(version), 0) FROM kassa_schema", rusqlite::params![], |r| r.get(0))
            }),
        }
    }

    /// What a process that stops waits for: it turns true once the store is closed (its last holder, perhaps
    /// another thread, dropped it).
    pub fn closed_flag(&self) -> Arc<AtomicBool> {
        match &*self.engine {
            Engine::Sqlite(store) => store.closed_flag(),
            Engine::Postgres(store) => store.closed_flag(),
        }
    }
}

/// Per ledger device, how many times its counter rows were written since the store opened: moved before
/// each write, whether its transaction then commits or not. A copy of a device's counters taken at one
/// figure is what the store holds as long as the figure has not moved (`Tx::counters_generation`).
#[derive(Default)]
struct CounterWrites(Mutex<HashMap<i64, u64>>);

impl CounterWrites {
    fn get(&self, device_id: i64) -> u64 {
        lock(&self.0).get(&device_id).copied().unwrap_or_default()
    }

    fn bump(&self, device_id: i64) {
        *lock(&self.0).entry(device_id).or_default() += 1;
    }
}

/// A transaction in progress; the query methods live in the store's submodules.
pub struct Tx<'a> {
    db: sql::Db<'a>,
    counter_writes: &'a CounterWrites,
    /// A write transaction (a row it reads to change may need locking: [`Tx::locks_rows`]).
    writing: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock is caught below before it can leave a half-written state.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Tx<'_> {
    /// The connection the transaction runs on: every query goes through it ([`sql::Db`]).
    fn db(&self) -> sql::Db<'_> {
        self.db
    }

    /// Whether a row this transaction reads in order to write it back must be locked as it is read. On
    /// PostgreSQL a node runs several write transactions at once, at READ COMMITTED: two that read one row and
    /// write it back whole would lose the first one's change (a Kazakh sale's commit and the sender's
    /// acceptance of the document before it, which writes the OFD's new token). SQLite runs one write at a
    /// time, so its reads in a write are always the latest.
    fn locks_rows(&self) -> bool {
        self.writing && matches!(self.db, sql::Db::Postgres(_))
    }

    /// How many times the counter rows of `device_id` were written in this process (see [`CounterWrites`]):
    /// counters read while it stays the same are still the store's.
    pub fn counters_generation(&self, device_id: i64) -> u64 {
        self.counter_writes.get(device_id)
    }

    /// Moves the device's counters generation: called before any write of its counter rows.
    fn counters_written(&self, device_id: i64) {
        self.counter_writes.bump(device_id);
    }

    /// Runs a statement without results (cached: the hot path parses no SQL twice).
    fn exec(&self, sql: &str, params: sql::Params) -> StoreResult<usize> {
        self.db.exec(sql, params)
    }

    /// Runs a statement whose count of changed rows is not needed: on PostgreSQL it goes with the next round
    /// trip ([`sql::Db::exec_later`]).
    fn exec_later(&self, sql: &str, params: sql::Params) -> StoreResult<()> {
        self.db.exec_later(sql, params)
    }

    /// The first row of a query, which must exist.
    fn row<T>(
        &self,
        sql: &str,
        params: sql::Params,
        f: impl FnOnce(&sql::Row) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        self.db.row(sql, params, f)
    }

    /// The first row of a query, if any.
    fn opt_row<T>(
        &self,
        sql: &str,
        params: sql::Params,
        f: impl FnOnce(&sql::Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        self.db.opt_row(sql, params, f)
    }

    /// Every row of a query.
    fn rows<T>(
        &self,
        sql: &str,
        params: sql::Params,
        f: impl FnMut(&sql::Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        self.db.rows(sql, params, f)
    }
}
