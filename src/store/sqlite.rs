//! The SQLite store: the only part that writes SQL.
//!
//! Writes are committed in groups. Each caller runs its closure on its own thread, in a transaction that
//! stays open while more callers queue for the connection (a caller that joins it works in a savepoint of
//! its own); the last caller in line commits for all of them, and the others wait for that commit. A
//! closure that fails rolls back only its own changes: the transaction when it began it, else its
//! savepoint. Nobody returns before the commit that holds its changes is on disk (WAL, `synchronous=FULL`),
//! so every write the API acknowledges is durable; under load one fsync carries many receipts instead of
//! one each.
//!
//! Reads use their own connection: WAL lets them see the last commit while writes go on. The log is copied
//! into `kassa.db` by a thread of its own ([`checkpoint`]), not inside a commit that others wait behind.
//!
//! Lost commits are noticed: each changing commit raises `commit_mark.seq` and then writes it to `kassa.mark`
//! ([`mark`]); a start that finds the database behind its mark refuses. A write-ahead log deleted while the
//! server runs is noticed after the next commit (or within a second when idle): the log, still open, is
//! checkpointed into `kassa.db` at once and the connections reopened on a new one.
use super::sql::Db;
use super::{StoreError, StoreResult, checkpoint, lock, mark, migrations, upgrade_copy};
use mark::CommitMark;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

const MAX_GROUP: usize = 64;

/// Why the callers of a group whose transaction SQLite rolled back by itself are told it failed.
const ROLLED_BACK_BY_SQLITE: &str = "SQLite rolled the transaction back after an error: nothing of it was kept";

/// The database handle shared by the whole server.
pub struct SqliteStore {
    /// The write connection; a transaction may stay open on it between callers of one group.
    writer: Mutex<Connection>,
    /// Callers that want `writer` and do not hold it yet.
    queued: AtomicUsize,
    groups: Mutex<Groups>,
    committed: Condvar,
    reader: Mutex<Connection>,
    /// `total_changes` of the writer when the open transaction began: a commit that changed nothing does
    /// not raise the commit count.
    begun: AtomicU64,
    /// `kassa.mark`, written after each changing commit.
    mark: CommitMark,
    /// The database file, to reopen the connections on.
    path: PathBuf,
    /// Its write-ahead log.
    wal_path: PathBuf,
    /// The write-ahead log as last seen (device, inode): another one, or none, means it was deleted.
    wal: Mutex<Option<(u64, u64)>>,
    /// Set once the store is closed (dropped), so a stopping process can wait for the record of its clean stop.
    closed: Arc<std::sync::atomic::AtomicBool>,
    /// The thread that checkpoints the log off the commit path (`None`: SQLite's automatic checkpoint).
    checkpoints: Option<checkpoint::CheckpointThread>,
}

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

pub(super) fn open(path: &Path) -> rusqlite::Result<Connection> {
    // SQLite opens its files with O_NOFOLLOW; NOFOLLOW also refuses a database path that is a link.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Fiscal data: every commit reaches the disk before the API acknowledges it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Each write runs in a savepoint (see `write`), whose journal of the pages it changes went to a temporary
    // file past 64 KiB (a Kazakh sale's commit passes it): kept in memory, a sale makes no such writes.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Freed space is zeroed, so a replaced value (a PIN migrated to its hash) leaves no trace in the file.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Every statement of a sale stays prepared (rusqlite keeps 16 by default; a sale uses more).
    conn.set_prepared_statement_cache_capacity(256);
    // A cached statement stays prepared when a new value is bound. Without the query planner stability
    // guarantee SQLite re-prepares a statement whose parameter changes to or from 0 or 1 (`kkm_id = ?1` for
    // the first KKM, `shift_number = ?2` in the first shift): a fifth of a sale's time under load.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// Opens the write connection: its log is checkpointed by `checkpoints`' thread when there is one.
fn open_writer(path: &Path, checkpoints: Option<&checkpoint::CheckpointThread>) -> rusqlite::Result<Connection> {
    let mut conn = open(path)?;
    if let Some(checkpoints) = checkpoints {
        checkpoint::hook_writer(&mut conn, &checkpoints.shared)?;
    }
    Ok(conn)
}

/// Starts the checkpoint thread on a connection of its own; without one, SQLite checkpoints in the commit.
fn start_checkpoints(path: &Path) -> Option<checkpoint::CheckpointThread> {
    let started = open(path)
        .map_err(|e| e.to_string())
        .and_then(|conn| checkpoint::CheckpointThread::start(conn).map_err(|e| e.to_string()));
    started
        .inspect_err(|e| tracing::warn!(error = %e, "no checkpoint thread: commits checkpoint the log themselves"))
        .ok()
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

/// How many changing commits the database holds (0 before migration 0009).
pub fn committed(conn: &Connection) -> StoreResult<u64> {
    let has: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'commit_mark'",
        [],
        |r| r.get(0),
    )?;
    if !has {
        return Ok(0);
    }
    let seq: Option<i64> = conn.query_row("SELECT seq FROM commit_mark WHERE id = 1", [], |r| r.get(0)).optional()?;
    Ok(seq.unwrap_or(0).max(0) as u64)
}

/// The write-ahead log of the database `db`.
pub(crate) fn wal_of(db: &Path) -> PathBuf {
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    db.with_file_name(format!("{name}-wal"))
}

/// A file as (device, inode), if it exists (never through a link).
fn wal_identity(wal: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::symlink_metadata(wal).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

/// Runs the start-up integrity check on another SQLite file (the print queue) without writing to it.
pub fn check_file(path: &Path) -> Result<(), String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| e.to_string())?;
    quick_check(&conn).map_err(|e| e.to_string())
}

/// Runs one statement without results through the connection's statement cache (the transaction steps of
/// every write: parsed once, not per sale).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Why the start must check every page, or `None` when the last stop was clean and the files are as it left them.
fn full_check_needed(clean: Option<mark::Fingerprint>, now: Option<mark::Fingerprint>) -> Option<&'static str> {
    match (clean, now) {
        (Some(clean), Some(now)) if clean == now => None,
        (Some(clean), now) => {
            tracing::debug!(?clean, ?now, "the database files as the clean stop left them, and now");
            Some("the database files changed while Kassa was stopped")
        }
        (None, _) => Some("the last stop was not clean (a crash, a kill or a power cut), or left no record"),
    }
}

impl Drop for SqliteStore {
    /// A clean stop: closes both connections (SQLite checkpoints the log into the database) and records in
    /// `kassa.mark` how the files look now, so the next start need not check every page.
    fn drop(&mut self) {
        self.close_cleanly();
        self.closed.store(true, Ordering::SeqCst);
    }
}

impl SqliteStore {
    /// What a process that stops waits for: it turns true once the store is closed (its last holder, perhaps
    /// another thread, dropped it).
    pub fn closed_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.closed.clone()
    }

    fn close_cleanly(&mut self) {
        if let Some(mut checkpoints) = self.checkpoints.take() {
            // Its connection closes first, so the writer's close is the last one and removes the log.
            checkpoints.stop();
            if let Ok(spare) = Connection::open_in_memory() {
                let conn = std::mem::replace(&mut *lock(&checkpoints.shared.conn), spare);
                let _ = conn.close();
            }
        }
        let writer = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        if !writer.is_autocommit() {
            return;
        }
        let (Ok(spare_writer), Ok(spare_reader)) = (Connection::open_in_memory(), Connection::open_in_memory()) else {
            return;
        };
        let writer = std::mem::replace(writer, spare_writer);
        let reader = std::mem::replace(self.reader.get_mut().unwrap_or_else(|p| p.into_inner()), spare_reader);
        if reader.close().is_err() || writer.close().is_err() {
            return;
        }
        if let Some(fingerprint) = mark::Fingerprint::of(&self.path)
            && let Err(e) = self.mark.record_clean(&fingerprint)
        {
            tracing::warn!(error = %e, "cannot record the clean stop: the next start checks the database fully");
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations; refuses a database behind
    /// its commit mark (`StoreError::Behind`).
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        // Before SQLite opens the files (opening makes a new log): the fingerprint a clean stop left describes
        // them as they were then.
        let now = mark::Fingerprint::of(path);
        let mut writer = open(path).map_err(damage)?;
        if writer.is_readonly(c"main")? {
            return Err(StoreError::ReadOnly);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (mark, acknowledged, clean) = CommitMark::open(path)?;
        match full_check_needed(clean, now) {
            None => tracing::info!(
                database = %name,
                "integrity check skipped: the last stop was clean and {name} is unchanged since (`kassa check` runs the full check)"
            ),
            Some(why) => {
                let started = std::time::Instant::now();
                tracing::info!(database = %name, "full integrity check of {name} (PRAGMA quick_check): {why}");
                crate::progress::while_running(&format!("integrity check of {name}"), || quick_check(&writer))?;
                tracing::info!(database = %name, ms = started.elapsed().as_millis() as u64, "integrity check passed");
            }
        }
        let found: u32 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > migrations::latest() {
            return Err(StoreError::TooNew { found, supported: migrations::latest() });
        }
        let database = committed(&writer)?;
        match acknowledged {
            Some(acknowledged) if acknowledged > database => {
                return Err(StoreError::Behind { database, acknowledged });
            }
            None if database > 0 => tracing::warn!(
                commits = database,
                "kassa.mark was missing beside a database that has commits: it is written anew; lost commits \
                 before this start could not be noticed"
            ),
            _ => {}
        }
        if found >= upgrade_copy::FIRST_COPIED
            && found < migrations::latest()
            && let Some(copy) = upgrade_copy::copy_before_migrating(&writer, path, found)?
        {
            tracing::info!(copy = %copy.display(), schema = found, "the database as it was is kept before migrating it");
        }
        migrations::migrate_to(&mut writer, migrations::latest())?;
        mark.record_synced(committed(&writer)?)?;
        let reader = open(path)?;
        let checkpoints = start_checkpoints(path);
        if let Some(checkpoints) = &checkpoints {
            checkpoint::hook_writer(&mut writer, &checkpoints.shared)?;
        }
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            queued: AtomicUsize::new(0),
            groups: Mutex::new(Groups::default()),
            committed: Condvar::new(),
            reader: Mutex::new(reader),
            begun: AtomicU64::new(0),
            mark,
            path: path.to_path_buf(),
            wal_path: wal_of(path),
            wal: Mutex::new(wal_identity(&wal_of(path))),
            closed: Arc::default(),
            checkpoints,
        })
    }

    /// Runs `f` in a read-write transaction. When this returns `Ok`, its changes are committed and on disk;
    /// when `f` returns `Err`, they are rolled back. Blocks the calling thread until then.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(Db) -> Result<T, E>) -> Result<T, E> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let conn = lock(&self.writer);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        // The first caller of a group begins the transaction and undoes a failure by rolling it back, as
        // nothing else is in it yet; a caller joining the open transaction works in a savepoint of its own,
        // whose journal of changed pages the first one does without.
        let begins = conn.is_autocommit();
        if begins {
            run_cached(&conn, "BEGIN IMMEDIATE").map_err(|e| E::from(e.into()))?;
            self.begun.store(conn.total_changes(), Ordering::SeqCst);
        } else if let Err(e) = run_cached(&conn, "SAVEPOINT write") {
            self.finish_group(conn);
            return Err(E::from(e.into()));
        }
        let ran = catch_unwind(AssertUnwindSafe(|| f(Db::Sqlite(&conn))));
        let keep = matches!(ran, Ok(Ok(_)));
        // SQLite rolls the whole transaction back by itself after some errors (a full disk, an I/O error):
        // then what every caller of the group wrote is gone, this one's and the ones' before it.
        let gone = conn.is_autocommit().then(|| ROLLED_BACK_BY_SQLITE.to_string());
        let undo = match (keep, begins) {
            _ if gone.is_some() => Ok(()),
            (true, true) => Ok(()),
            (true, false) => run_cached(&conn, "RELEASE write"),
            (false, true) => conn.execute_batch("ROLLBACK"),
            (false, false) => conn.execute_batch("ROLLBACK TO write; RELEASE write"),
        };
        let (group, last) = {
            let mut g = lock(&self.groups);
            g.members += 1;
            if let Some(why) = &gone {
                let open = g.open;
                g.failed.insert(open, why.clone());
            }
            // A group whose transaction is gone ends here: the callers queued behind it begin a new one.
            (g.open, gone.is_some() || g.members >= MAX_GROUP || self.queued.load(Ordering::SeqCst) == 0)
        };
        let commit_error = if last { self.finish_group(conn) } else { self.wait_for(group, conn) }.or(gone);
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
    fn finish_group(&self, mut conn: MutexGuard<'_, Connection>) -> Option<String> {
        let outcome = if conn.is_autocommit() { Ok(None) } else { self.commit(&conn) };
        if outcome.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Ok(Some(seq)) = outcome {
            // On disk now (synchronous=FULL): the mark may say so.
            self.mark.record(seq);
        }
        self.watch_wal(&mut conn);
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

    /// Commits the open transaction, raising the commit count when it changed anything; returns the new count.
    fn commit(&self, conn: &Connection) -> rusqlite::Result<Option<u64>> {
        let seq = if conn.total_changes() != self.begun.load(Ordering::SeqCst) {
            // Without RETURNING, which would open a temporary table and its page cache per commit.
            run_cached(conn, "UPDATE commit_mark SET seq = seq + 1 WHERE id = 1")?;
            let seq: i64 =
                conn.prepare_cached("SELECT seq FROM commit_mark WHERE id = 1")?.query_row([], |r| r.get(0))?;
            Some(seq.max(0) as u64)
        } else {
            None
        };
        run_cached(conn, "COMMIT")?;
        Ok(seq)
    }

    /// Notices a write-ahead log deleted (or replaced) under the running server. The connections still
    /// hold the old log open, so checkpointing it now copies every commit into `kassa.db`; the connections
    /// are then reopened on a new log. Runs with the writer held and no transaction open.
    fn watch_wal(&self, conn: &mut MutexGuard<'_, Connection>) {
        let now = wal_identity(&self.wal_path);
        let mut known = lock(&self.wal);
        if now == *known || known.is_none() {
            *known = now.or(*known);
            return;
        }
        tracing::error!(
            wal = %self.wal_path.display(),
            "THE WRITE-AHEAD LOG WAS DELETED OR REPLACED while Kassa ran: every commit is copied into the database \
             now and a new log started; find what deletes files in the data folder"
        );
        let mut reader = lock(&self.reader);
        let saved = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
        match saved {
            Ok(0) => tracing::info!("the deleted log was checkpointed: no commit was lost"),
            Ok(_) => tracing::error!("the checkpoint of the deleted log was blocked: commits since may be lost"),
            Err(e) => tracing::error!(error = %e, "the checkpoint of the deleted log failed"),
        }
        match (open_writer(&self.path, self.checkpoints.as_ref()), open(&self.path)) {
            (Ok(writer), Ok(new_reader)) => {
                **conn = writer;
                *reader = new_reader;
                if let Some(checkpoints) = &self.checkpoints {
                    match open(&self.path) {
                        Ok(new) => *lock(&checkpoints.shared.conn) = new,
                        Err(e) => tracing::error!(error = %e, "cannot reopen the checkpoint connection on the new log"),
                    }
                }
                // The new log exists once a connection has read through it.
                let _ = conn.query_row("PRAGMA user_version", [], |_| Ok(()));
            }
            (Err(e), _) | (_, Err(e)) => tracing::error!(error = %e, "cannot reopen the database on a new log"),
        }
        *known = wal_identity(&self.wal_path);
    }

    /// Checks the write-ahead log now, unless a group is in the middle of its transaction (its commit checks).
    fn watch_wal_now(&self) {
        let mut conn = lock(&self.writer);
        if conn.is_autocommit() {
            self.watch_wal(&mut conn);
        }
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
    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(Db) -> Result<T, E>) -> Result<T, E> {
        let conn = lock(&self.reader);
        if !conn.is_autocommit() {
            // A reader that panicked left its transaction open.
            let _ = conn.execute_batch("ROLLBACK");
        }
        run_cached(&conn, "BEGIN").map_err(|e| E::from(e.into()))?;
        let result = f(Db::Sqlite(&conn));
        // Nothing was written: ending the snapshot either way is the same; a failure here leaves it open
        // for the next reader to roll back.
        let _ = run_cached(&conn, "ROLLBACK");
        result
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

/// Checks the write-ahead log every `every` while `store` gives a store (an idle server commits nothing that
/// would notice a deleted log otherwise).
pub(super) fn watch_wal_every(every: Duration, store: impl Fn(&dyn Fn(&SqliteStore)) -> Option<()> + Send + 'static) {
    let spawned = std::thread::Builder::new().name("kassa-wal-watch".into()).spawn(move || {
        loop {
            std::thread::sleep(every);
            if store(&|sqlite| sqlite.watch_wal_now()).is_none() {
                break;
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the write-ahead log watch");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    /// A store with a table of numbers, each written by one caller.
    fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("kassa.db")).unwrap();
        store.write(|db| db.exec("CREATE TABLE written (n INTEGER NOT NULL)", &[])).unwrap();
        (dir, Arc::new(store))
    }

    fn kept(store: &SqliteStore) -> Vec<i64> {
        store.read(|db| db.rows("SELECT n FROM written ORDER BY n", &[], |r| r.get::<_, i64>(0))).unwrap()
    }

    /// Writes `n`; `lost` then rolls the whole transaction back, as SQLite does by itself after a full disk
    /// or an I/O error, and carries on as if nothing happened.
    fn write(store: &SqliteStore, n: i64, hold: Duration, lost: bool) -> bool {
        store
            .write(|db| {
                db.exec("INSERT INTO written (n) VALUES (?1)", &[&n])?;
                std::thread::sleep(hold);
                if lost {
                    db.exec("ROLLBACK", &[])?;
                }
                Ok::<_, StoreError>(())
            })
            .is_ok()
    }

    #[test]
    fn a_write_whose_transaction_sqlite_rolled_back_is_not_told_it_was_kept() {
        let (_dir, store) = store();
        assert!(!write(&store, 1, Duration::ZERO, true));
        assert!(write(&store, 2, Duration::ZERO, false), "the next write begins a new transaction");
        assert_eq!(kept(&store), vec![2]);
    }

    /// The first caller holds the writer while two others queue and join its group; one of them loses the
    /// transaction. Whatever order they joined in, a caller is told its write was kept exactly when it was.
    #[test]
    fn when_sqlite_rolls_back_a_group_no_caller_of_it_is_told_its_write_was_kept() {
        let (_dir, store) = store();
        let started = Arc::new(Barrier::new(2));
        let first = {
            let (store, started) = (store.clone(), started.clone());
            std::thread::spawn(move || {
                started.wait();
                write(&store, 1, Duration::from_millis(300), false)
            })
        };
        started.wait();
        std::thread::sleep(Duration::from_millis(100));
        let others: Vec<_> = [(2, true), (3, false)]
            .into_iter()
            .map(|(n, lost)| {
                let store = store.clone();
                std::thread::spawn(move || (n, write(&store, n, Duration::ZERO, lost)))
            })
            .collect();
        let mut told = vec![(1, first.join().unwrap())];
        told.extend(others.into_iter().map(|h| h.join().unwrap()));
        let kept = kept(&store);
        for (n, ok) in told {
            assert_eq!(ok, kept.contains(&n), "write {n}: told {ok}, kept {kept:?}");
        }
        assert!(!kept.contains(&1) && !kept.contains(&2), "the lost transaction held 1 and 2: {kept:?}");
    }
}
