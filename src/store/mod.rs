//! The SQLite store: the only part that writes SQL.
//!
//! Writes are committed in groups. Each caller runs its closure on its own thread, in its own savepoint of
//! a transaction that stays open while more callers queue for the connection; the last caller in line
//! commits for all of them, and the others wait for that commit. A closure that fails rolls back only its
//! savepoint. Nobody returns before the commit that holds its changes is on disk (WAL,
//! `synchronous=FULL`), so every write the API acknowledges is durable; under load one fsync carries many
//! receipts instead of one each.
//!
//! Reads use their own connection: WAL lets them see the last commit while writes go on.
mod control;
mod document;
mod error;
pub mod folder;
mod kkm;
mod ledger;
mod license;
pub mod migrations;
mod operator;
mod template;
mod vendor;

pub use document::{DocumentRow, JournalFilter, OfdState};
pub use error::{StoreError, StoreResult};
pub use kkm::{KkmRow, KkmSettings, PrinterEntity, VatCertificate};
pub use ledger::{DeviceRow, FiscalState, LedgerDocRow, NewLedgerDoc};
pub use license::LicenseRow;
pub use operator::OperatorRow;
pub use template::TemplateRow;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// The most callers one commit carries before it is forced, so a steady stream cannot starve the first.
const MAX_GROUP: usize = 64;

/// The database handle shared by the whole server.
pub struct Store {
    /// The write connection; a transaction may stay open on it between callers of one group.
    writer: Mutex<Connection>,
    /// Callers that want `writer` and do not hold it yet.
    queued: AtomicUsize,
    groups: Mutex<Groups>,
    committed: Condvar,
    reader: Mutex<Connection>,
}

/// Bookkeeping of commit groups, numbered in order.
#[derive(Default)]
struct Groups {
    /// The group the open transaction belongs to.
    open: u64,
    /// Callers whose changes sit in the open transaction.
    members: usize,
    /// Groups up to this one are finished (committed or failed).
    done: u64,
    /// Groups whose commit failed, with the error text.
    failed: HashMap<u64, String>,
}

/// A transaction in progress; the query methods live in the store's submodules.
pub struct Tx<'a> {
    conn: &'a Connection,
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Fiscal data: every commit reaches the disk before the API acknowledges it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Freed space is zeroed, so a replaced value (a PIN migrated to its hash) leaves no trace in the file.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// SQLite's structural check of every page (`PRAGMA quick_check`: b-trees, free list, record sizes; it skips
/// the index-versus-table comparison of `integrity_check`, which costs a full sort). Anything but "ok" is damage.
fn quick_check(conn: &Connection) -> StoreResult<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check(20)").map_err(damage)?;
    let lines = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(damage)?.collect::<Result<Vec<_>, _>>();
    let lines = lines.map_err(damage)?;
    if lines.len() == 1 && lines[0] == "ok" { Ok(()) } else { Err(StoreError::Damaged(lines.join("; "))) }
}

/// SQLite's "malformed" and "not a database" errors are damage, not ordinary failures.
fn damage(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase) => {
            StoreError::Damaged(e.to_string())
        }
        _ => StoreError::Sqlite(e),
    }
}

/// Runs the start-up integrity check on another SQLite file (the print queue) without writing to it.
pub fn check_file(path: &Path) -> Result<(), String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| e.to_string())?;
    quick_check(&conn).map_err(|e| e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock is caught below before it can leave a half-written state.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> StoreResult<Store> {
        let mut writer = open(path).map_err(damage)?;
        if writer.is_readonly(c"main")? {
            return Err(StoreError::ReadOnly);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        crate::progress::while_running(&format!("integrity check of {name}"), || quick_check(&writer))?;
        let found: u32 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > migrations::latest() {
            return Err(StoreError::TooNew { found, supported: migrations::latest() });
        }
        migrations::migrate_to(&mut writer, migrations::latest())?;
        Ok(Store {
            writer: Mutex::new(writer),
            queued: AtomicUsize::new(0),
            groups: Mutex::new(Groups::default()),
            committed: Condvar::new(),
            reader: Mutex::new(open(path)?),
        })
    }

    /// Runs `f` in a read-write transaction. When this returns `Ok`, its changes are committed and on disk;
    /// when `f` returns `Err`, they are rolled back. Blocks the calling thread until then.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let conn = lock(&self.writer);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if conn.is_autocommit() {
            conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| E::from(e.into()))?;
        }
        if let Err(e) = conn.execute_batch("SAVEPOINT write") {
            self.finish_group(conn);
            return Err(E::from(e.into()));
        }
        let ran = catch_unwind(AssertUnwindSafe(|| f(&Tx { conn: &conn })));
        let keep = matches!(ran, Ok(Ok(_)));
        let undo = conn.execute_batch(if keep { "RELEASE write" } else { "ROLLBACK TO write; RELEASE write" });
        let (group, last) = {
            let mut g = lock(&self.groups);
            g.members += 1;
            (g.open, g.members >= MAX_GROUP || self.queued.load(Ordering::SeqCst) == 0)
        };
        let commit_error = if last { self.finish_group(conn) } else { self.wait_for(group, conn) };
        let result = match ran {
            Ok(result) => result,
            Err(panic) => resume_unwind(panic),
        };
        if let Err(e) = undo {
            return Err(E::from(e.into()));
        }
        match (result, commit_error) {
            (Ok(_), Some(e)) => Err(E::from(StoreError::Commit(e))),
            (result, _) => result,
        }
    }

    /// Commits the open transaction for its whole group and wakes the others; returns the commit error.
    fn finish_group(&self, conn: MutexGuard<'_, Connection>) -> Option<String> {
        let outcome = if conn.is_autocommit() { Ok(()) } else { conn.execute_batch("COMMIT") };
        if outcome.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let error = outcome.err().map(|e| e.to_string());
        {
            let mut g = lock(&self.groups);
            if let Some(e) = &error {
                tracing::error!(error = %e, members = g.members, "a group commit failed");
                let open = g.open;
                g.failed.insert(open, e.clone());
            }
            g.done = g.open;
            g.open += 1;
            g.members = 0;
        }
        drop(conn);
        self.committed.notify_all();
        error
    }

    /// Leaves the commit to the caller after us and waits for it; returns the commit error.
    fn wait_for(&self, group: u64, conn: MutexGuard<'_, Connection>) -> Option<String> {
        let mut g = lock(&self.groups);
        drop(conn);
        while g.done < group {
            g = self.committed.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        g.failed.get(&group).cloned()
    }

    /// Runs `f` in a read transaction (a consistent snapshot of the last commit).
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let mut conn = lock(&self.reader);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(|e| E::from(e.into()))?;
        f(&Tx { conn: &tx })
    }

    /// Copies the WAL into the database file and empties it (after a rewrite that must leave no old copy).
    pub fn checkpoint(&self) -> StoreResult<()> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> StoreResult<u32> {
        Ok(lock(&self.reader).query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

impl Tx<'_> {
    fn conn(&self) -> &Connection {
        self.conn
    }
}
