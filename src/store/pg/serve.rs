//! Serving from PostgreSQL (issue 25, part 2): the store's transactions on a PostgreSQL database.
//!
//! Writes run on a pool of writer connections, each in its own transaction, committed before `write` returns
//! (PostgreSQL's `synchronous_commit`, on by default, puts the commit on disk first). Reads run on a pool of
//! connections, each in a `REPEATABLE READ` snapshot. Several nodes may serve one database: every write
//! transaction names its node, and the database refuses a write of a device whose lease another node holds
//! (`lease`, the schema's `0002_leases.sql`).
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
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Read connections kept open when idle; more are opened while more readers run at once.
const IDLE_READERS: usize = 4;

/// Write transactions a node runs at once (each on a connection of its own; more wait for one).
const WRITERS: usize = 8;

/// A PostgreSQL store a node serves from (or reads only: `kassa check`).
pub struct PgStore {
    target: Target,
    /// Opened to be read only (`kassa check`): no writer, the schema as found.
    read_only: bool,
    writers: Writers,
    readers: Mutex<Vec<PgConn>>,
    /// This node, as its write transactions name it to the leases.
    pub(super) node: super::lease::Node,
    /// The connection holding the node's presence lock (`lease`).
    pub(super) presence: Mutex<Option<PgConn>>,
    /// The node let go of its leases to stop: it writes no more.
    pub(super) stopping: AtomicBool,
    /// Woken when another node let go of its devices (`NOTIFY kassa_unserved`, heard on the presence
    /// connection), so this one sends their queues at once.
    pub(crate) unserved: Arc<tokio::sync::Notify>,
    /// Whether the database keeps tenants apart for this node: false when its role bypasses row security.
    pub(crate) isolates_tenants: AtomicBool,
    closed: Arc<AtomicBool>,
}

/// The writer connections: idle ones, and how many are open.
#[derive(Default)]
struct Writers {
    idle: Mutex<(Vec<PgConn>, usize)>,
    freed: Condvar,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

impl PgStore {
    /// Connects to `url`, creates or upgrades Kassa's schema there, and says which database it serves.
    /// `lease` is how long a device's lease lasts unless renewed.
    pub fn open(url: &str, lease: Duration) -> StoreResult<PgStore> {
        let target = Target::parse(url).map_err(StoreError::Open)?;
        // The schema is made with the synchronous client, on a thread outside any runtime.
        std::thread::scope(|s| s.spawn(|| prepare(&target)).join())
            .map_err(|_| StoreError::Open("preparing the PostgreSQL schema panicked".into()))??;
        let store = PgStore {
            target,
            read_only: false,
            writers: Writers::default(),
            readers: Mutex::new(Vec::new()),
            node: super::lease::Node::new(lease),
            presence: Mutex::new(None),
            stopping: AtomicBool::new(false),
            unserved: Arc::default(),
            isolates_tenants: AtomicBool::new(false),
            closed: Arc::default(),
        };
        store.keep_presence()?;
        // Fail at start, not at the first sale, when the database cannot be written.
        let first = store.connect_writer()?;
        lock(&store.writers.idle).0.push(first);
        lock(&store.writers.idle).1 = 1;
        store.check_row_security()?;
        tracing::info!(node = %store.node.name, lease_s = lease.as_secs_f64(), "serving as a node of the database");
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
            writers: Writers::default(),
            readers: Mutex::new(Vec::new()),
            node: super::lease::Node::new(Duration::ZERO),
            presence: Mutex::new(None),
            stopping: AtomicBool::new(false),
            unserved: Arc::default(),
            isolates_tenants: AtomicBool::new(false),
            closed: Arc::default(),
        })
    }

    pub fn closed_flag(&self) -> Arc<AtomicBool> {
        self.closed.clone()
    }

    /// A new connection, driven by the runtime thread.
    pub(super) fn connect(&self) -> StoreResult<PgConn> {
        self.connect_hearing(None)
    }

    /// A new connection that wakes `heard` at each notification it receives (`LISTEN`), when given.
    pub(super) fn connect_hearing(&self, heard: Option<Arc<tokio::sync::Notify>>) -> StoreResult<PgConn> {
        let config = tokio_postgres::Config::from_str(&self.target.url)
            .map_err(|e| StoreError::Open(format!("{}: {e}", self.target.name)))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let me = self.node.name.clone();
        runtime().spawn(async move {
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, mut connection)) => {
                    let _ = tx.send(Ok(client));
                    loop {
                        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                            Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                                // A node hears its own notification too (its payload is the node's name).
                                if let Some(heard) = heard.as_ref().filter(|_| n.payload() != me) {
                                    // Said once here: every loop of the node that looks for such queues wakes.
                                    tracing::info!("another node let go of its devices: sending their queues");
                                    heard.notify_waiters();
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(e)) => {
                                tracing::warn!(error = %describe(&e), "a PostgreSQL connection ended");
                                break;
                            }
                            None => break,
                        }
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

    /// A new writer connection. A transaction left open longer than a lease (a node paused mid-write) is ended
    /// by the server, so its locks do not stop the node that takes the lease over.
    fn connect_writer(&self) -> StoreResult<PgConn> {
        let conn = self.connect()?;
        let idle = self.node.lease.as_millis().max(1000);
        conn.batch(&format!("SET idle_in_transaction_session_timeout = {idle}"))?;
        Ok(conn)
    }

    /// A writer connection from the pool, or a new one; waits while [`WRITERS`] are in use.
    fn take_writer(&self) -> StoreResult<PgConn> {
        let mut idle = lock(&self.writers.idle);
        loop {
            while let Some(conn) = idle.0.pop() {
                if !conn.is_closed() {
                    return Ok(conn);
                }
                idle.1 -= 1;
            }
            if idle.1 < WRITERS {
                idle.1 += 1;
                drop(idle);
                return self.connect_writer().inspect_err(|_| lock(&self.writers.idle).1 -= 1);
            }
            idle = self.writers.freed.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Gives a writer connection back (or counts it gone when it broke).
    fn give_writer(&self, conn: PgConn) {
        let mut idle = lock(&self.writers.idle);
        if conn.is_closed() {
            idle.1 -= 1;
        } else {
            idle.0.push(conn);
        }
        self.writers.freed.notify_one();
    }

    /// Runs `f` in a transaction of its own on a writer connection, on the rows of `tenant`; commits when it
    /// returns `Ok`. The transaction names this node, so the database checks its leases (`0002_leases.sql`),
    /// and its tenant, so it sees and writes that tenant's rows only (`0003_tenants.sql`).
    pub fn write<T, E: From<StoreError>>(&self, tenant: &str, f: impl FnOnce(Db) -> Result<T, E>) -> Result<T, E> {
        if self.read_only {
            return Err(E::from(StoreError::Open(format!("{} was opened to be read only", self.target.name))));
        }
        if self.stopping.load(Ordering::SeqCst) {
            return Err(E::from(StoreError::Open("this node is stopping: it writes no more".into())));
        }
        self.keep_presence()?;
        let conn = RefCell::new(self.take_writer()?);
        let begun = conn.borrow().batch(&self.node.begin(tenant));
        if let Err(e) = begun {
            // The BEGIN may have run and what follows it failed: no transaction stays open on the pool.
            let conn = conn.into_inner();
            let _ = conn.batch("ROLLBACK");
            self.give_writer(conn);
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
        self.give_writer(conn);
        let result = match ran {
            Ok(result) => result,
            Err(panic) => resume_unwind(panic),
        };
        match (result, outcome) {
            (Ok(_), Err(e)) => {
                if !matches!(e, StoreError::ServedElsewhere(_)) {
                    tracing::error!(error = %e, "a PostgreSQL commit failed");
                }
                Err(E::from(e))
            }
            (result, _) => result,
        }
    }

    /// Runs `f` in a read-only snapshot on a connection of the pool, seeing the rows of `tenant` (or every
    /// tenant's: [`NODE_VIEW`](crate::store::tenant::NODE_VIEW)).
    pub fn read<T, E: From<StoreError>>(&self, tenant: &str, f: impl FnOnce(Db) -> Result<T, E>) -> Result<T, E> {
        let taken = lock(&self.readers).pop();
        let conn = match taken {
            Some(conn) if !conn.is_closed() => conn,
            _ => self.connect()?,
        };
        let conn = RefCell::new(conn);
        let begun = conn.borrow().batch(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT set_config('kassa.tenant', '{}', true)",
            quoted(tenant)
        ));
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

/// `text` inside single quotes in SQL.
pub(super) fn quoted(text: &str) -> String {
    text.replace('\'', "''")
}
