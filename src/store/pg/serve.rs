//! Serving from PostgreSQL (issue 25, part 2): the store's transactions on a PostgreSQL database.
//!
//! One node, as the SQLite store is one process: writes take the node's writer connection in turn, each in
//! its own transaction, committed before `write` returns (PostgreSQL's `synchronous_commit`, on by default,
//! puts the commit on disk first). Reads run on a small pool of connections, each in a `REPEATABLE READ`
//! snapshot. Several nodes on one database need the per-device leases of part 3 first.
//!
//! A broken connection (the database restarted, the network dropped) is replaced by a new one on the next
//! transaction; the transaction that met the failure fails and is not stored.
use super::connect::{Target, connect, describe};
use super::migrate::{Migrated, migrate};
use crate::store::sql::{Db, PgConn};
use crate::store::{StoreError, StoreResult, lock};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Read connections kept open when idle; more are opened while more readers run at once.
const IDLE_READERS: usize = 4;

/// The session lock the serving node holds on its database (its writer connection holds it; PostgreSQL drops it
/// when that connection ends). Until part 3's per-device leases, one node serves a database: two would number
/// the same device's documents at once.
const NODE_LOCK: i64 = 0x6b61_7373_6101;

/// A PostgreSQL store a node serves from (or reads only: `kassa check`).
pub struct PgStore {
    target: Target,
    /// Opened to be read only (`kassa check`): no writer, no node lock, the schema as found.
    read_only: bool,
    writer: Mutex<RefCell<Option<PgConn>>>,
    readers: Mutex<Vec<PgConn>>,
    closed: Arc<AtomicBool>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

impl PgStore {
    /// Connects to `url`, creates or upgrades Kassa's schema there, and says which database it serves.
    pub fn open(url: &str) -> StoreResult<PgStore> {
        let target = Target::parse(url).map_err(StoreError::Open)?;
        // The schema is made with the synchronous client, on a thread outside any runtime.
        std::thread::scope(|s| s.spawn(|| prepare(&target)).join())
            .map_err(|_| StoreError::Open("preparing the PostgreSQL schema panicked".into()))??;
        let store = PgStore {
            target,
            read_only: false,
            writer: Mutex::new(RefCell::new(None)),
            readers: Mutex::new(Vec::new()),
            closed: Arc::default(),
        };
        *lock(&store.writer).borrow_mut() = Some(store.connect_writer()?);
        Ok(store)
    }

    /// Connects to `url` to read it only: nothing is created, migrated or locked, and a schema other than this
    /// build's is refused.
    pub fn open_read_only(url: &str) -> StoreResult<PgStore> {
        let target = Target::parse(url).map_err(StoreError::Open)?;
        let found = std::thread::scope(|s| {
            s.spawn(|| {
                let mut client = connect(&target)?;
                super::migrate::version(&mut client)
            })
            .join()
        })
        .map_err(|_| StoreError::Open("reading the PostgreSQL schema's version panicked".into()))?
        .map_err(StoreError::Open)?;
        if found != super::migrate::latest() {
            return Err(StoreError::Open(format!(
                "{} holds Kassa's PostgreSQL schema {found}, this kassa reads schema {} (start this kassa's server \
                 on it once to create or upgrade it)",
                target.name,
                super::migrate::latest()
            )));
        }
        Ok(PgStore {
            target,
            read_only: true,
            writer: Mutex::new(RefCell::new(None)),
            readers: Mutex::new(Vec::new()),
            closed: Arc::default(),
        })
    }

    pub fn closed_flag(&self) -> Arc<AtomicBool> {
        self.closed.clone()
    }

    /// A new connection, driven by the runtime thread.
    fn connect(&self) -> StoreResult<PgConn> {
        let config = tokio_postgres::Config::from_str(&self.target.url)
            .map_err(|e| StoreError::Open(format!("{}: {e}", self.target.name)))?;
        let (tx, rx) = std::sync::mpsc::channel();
        runtime().spawn(async move {
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    let _ = tx.send(Ok(client));
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %describe(&e), "a PostgreSQL connection ended");
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        let client = rx.recv().map_err(|_| StoreError::Open("the PostgreSQL runtime stopped".into()))?;
        let client = client
            .map_err(|e| StoreError::Open(format!("cannot connect to {}: {}", self.target.name, describe(&e))))?;
        Ok(PgConn::new(client))
    }

    /// A new writer connection, holding the node's lock on the database.
    fn connect_writer(&self) -> StoreResult<PgConn> {
        let conn = self.connect()?;
        let sql = format!("SELECT pg_try_advisory_lock({NODE_LOCK})");
        let held = RefCell::new(conn);
        let got: bool = Db::Postgres(&held).row(&sql, rusqlite::params![], |r| r.get(0))?;
        if !got {
            return Err(StoreError::Open(format!(
                "the database {} is in use by another kassa serve: one server per database until per-device \
                 leases let several nodes share one (docs/scale-out.md). Stop the other one first, or give this \
                 one its own database",
                self.target.name
            )));
        }
        Ok(held.into_inner())
    }

    /// Runs `f` in a transaction of its own on the node's writer connection; commits when it returns `Ok`.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(Db) -> Result<T, E>) -> Result<T, E> {
        if self.read_only {
            return Err(E::from(StoreError::Open(format!("{} was opened to be read only", self.target.name))));
        }
        let slot = lock(&self.writer);
        {
            let mut conn = slot.borrow_mut();
            if conn.as_ref().is_none_or(|c| c.is_closed()) {
                *conn = Some(self.connect_writer()?);
            }
        }
        let conn = RefCell::new(slot.borrow_mut().take().expect("connected above"));
        let begun = conn.borrow().batch("BEGIN");
        if let Err(e) = begun {
            return Err(E::from(e.into()));
        }
        let ran = catch_unwind(AssertUnwindSafe(|| f(Db::Postgres(&conn))));
        let mut conn = conn.into_inner();
        let outcome = match &ran {
            // What was kept for later goes first: a failure there fails the write, which is not stored.
            Ok(Ok(_)) => match conn.flush() {
                Ok(()) => conn.batch("COMMIT").map_err(|e| StoreError::Commit(describe(&e))),
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    Err(StoreError::from(e))
                }
            },
            _ => {
                conn.forget_later();
                conn.batch("ROLLBACK").map_err(StoreError::from)
            }
        };
        *slot.borrow_mut() = Some(conn);
        let result = match ran {
            Ok(result) => result,
            Err(panic) => resume_unwind(panic),
        };
        match (result, outcome) {
            (Ok(_), Err(e)) => {
                tracing::error!(error = %e, "a PostgreSQL commit failed");
                Err(E::from(e))
            }
            (result, _) => result,
        }
    }

    /// Runs `f` in a read-only snapshot on a connection of the pool.
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(Db) -> Result<T, E>) -> Result<T, E> {
        let taken = lock(&self.readers).pop();
        let conn = match taken {
            Some(conn) if !conn.is_closed() => conn,
            _ => self.connect()?,
        };
        let conn = RefCell::new(conn);
        let begun = conn.borrow().batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if let Err(e) = begun {
            return Err(E::from(e.into()));
        }
        let ran = catch_unwind(AssertUnwindSafe(|| f(Db::Postgres(&conn))));
        let conn = conn.into_inner();
        if conn.batch("ROLLBACK").is_ok() {
            let mut idle = lock(&self.readers);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        match ran {
            Ok(result) => result,
            Err(panic) => resume_unwind(panic),
        }
    }
}

/// Creates or upgrades the schema, and warns about a collation that is not byte order.
fn prepare(target: &Target) -> StoreResult<()> {
    let mut client = connect(target).map_err(StoreError::Open)?;
    match migrate(&mut client, &target.name).map_err(StoreError::Open)? {
        Migrated::Current(v) => tracing::info!(store = %target.name, schema = v, "serving from PostgreSQL"),
        Migrated::Applied { from, to } => {
            tracing::info!(store = %target.name, from, to, "PostgreSQL schema migrated; serving from it")
        }
    }
    warn_unless_byte_order(&mut client, &target.name);
    Ok(())
}

/// The runtime the connections' I/O runs on: one thread of its own, so no caller's runtime is needed.
fn runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("kassa-postgres".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the PostgreSQL thread");
        handle
    })
}

/// Kassa orders some text (dates written as text, names) and compares it as bytes, as SQLite does; a
/// database whose collation is not byte order would order it otherwise.
fn warn_unless_byte_order(client: &mut postgres::Client, name: &str) {
    let collation = client
        .query_one("SELECT datcollate FROM pg_database WHERE datname = current_database()", &[])
        .and_then(|r| r.try_get::<_, String>(0));
    match collation {
        Ok(c) if c == "C" || c == "POSIX" => {}
        Ok(c) => tracing::warn!(
            store = %name,
            collation = %c,
            "the database's collation is not byte order (C): create it with LC_COLLATE 'C' (TEMPLATE template0) \
             so text sorts as on SQLite"
        ),
        Err(e) => tracing::warn!(store = %name, error = %describe(&e), "cannot read the database's collation"),
    }
}
