//! Checkpoints off the commit path.
//!
//! SQLite's own automatic checkpoint runs inside the commit that pushes the write-ahead log past 1 000 pages:
//! that caller copies the log into `kassa.db` and syncs it while it still holds the writer, so every sale
//! queued behind it waits for two more fsyncs and a few megabytes of writes (the p99 of a sale under load).
//! Here the writer's log hook only notes the log's size, and a thread of its own runs the checkpoint on a
//! connection of its own. A PASSIVE checkpoint takes no writer lock, so commits go on appending to the log
//! while it copies. Should the thread fall far behind, the committing connection checkpoints itself as
//! SQLite would have, so the log never grows without bound.
//!
//! Under a steady stream of commits the thread never catches up by itself: the commits made while it copied
//! are past what it copied, so the log is never wholly in `kassa.db` and SQLite never starts it again from
//! its beginning. It grew to the inline mark, and the thread, asked again after each commit, copied the few
//! newest pages and synced `kassa.db` once per sale. So once the thread has copied, the next commit past the
//! mark copies the rest itself (the pages the commits wrote meanwhile: a small part of the log) and the
//! next write starts the log again. The thread is asked once per round.
use rusqlite::{Connection, hooks::Wal};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
#[cfg(test)]
use std::time::Duration;

/// Log pages after which the thread is asked to checkpoint: SQLite's default automatic checkpoint.
const WANTED_AT: i32 = 1_000;
/// Log pages after which the committing connection checkpoints itself (the thread is behind or stuck).
const INLINE_AT: i32 = 16 * WANTED_AT;

/// Where a round of checkpoints stands ([`Checkpointer::round`]).
const IDLE: u8 = 0;
/// The thread was asked and is copying.
const ASKED: u8 = 1;
/// The thread copied: the next commit past the mark copies the rest.
const COPIED: u8 = 2;

/// What the store and its checkpoint thread share.
pub(super) struct Checkpointer {
    /// The thread's own connection; `watch_wal` reopens it with the others.
    pub(super) conn: Mutex<Connection>,
    wanted: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
    /// [`IDLE`], [`ASKED`] or [`COPIED`].
    round: AtomicU8,
}

/// The running thread; joined when the store closes.
pub(super) struct CheckpointThread {
    pub(super) shared: Arc<Checkpointer>,
    handle: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Asks the thread for a checkpoint.
    fn want(&self) {
        *super::lock(&self.wanted) = true;
        self.wake.notify_one();
    }

    /// Runs one PASSIVE checkpoint: copies what no reader still needs, never waits for a lock.
    fn run(&self) {
        let conn = super::lock(&self.conn);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "a checkpoint of the write-ahead log failed; the next one tries again");
        }
        self.round.store(COPIED, Ordering::SeqCst);
    }
}

/// The writer's PASSIVE checkpoint, inside its commit. Its error is not returned: the commit has happened,
/// and an error from the hook would make the COMMIT report a failure (SQLite's own hook ignores it too).
fn checkpoint_here(wal: &mut Wal, pages: i32) {
    if let Err(e) = wal.checkpoint_v2(rusqlite::wal::CheckpointMode::PASSIVE) {
        tracing::warn!(error = %e, pages, "a checkpoint of the write-ahead log failed; the next one tries again");
    }
}

/// Installs on the writer the log hook that replaces SQLite's automatic checkpoint.
pub(super) fn hook_writer(conn: &mut Connection, shared: &Arc<Checkpointer>) -> rusqlite::Result<()> {
    let shared = Arc::clone(shared);
    conn.wal_hook(Some(move |wal: &mut Wal, pages: i32| {
        if pages >= INLINE_AT {
            // The same copy SQLite's automatic checkpoint makes; a busy reader only shortens it.
            checkpoint_here(wal, pages);
        } else if pages >= WANTED_AT {
            match shared.round.compare_exchange(IDLE, ASKED, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => shared.want(),
                Err(COPIED) => {
                    // The thread copied the log up to some commits ago: these copy the rest, and the
                    // next write starts the log again.
                    checkpoint_here(wal, pages);
                    shared.round.store(IDLE, Ordering::SeqCst);
                }
                Err(_) => {}
            }
        } else if shared.round.load(Ordering::Relaxed) == COPIED {
            // The thread copied the whole log and it started again (no commit came meanwhile): a new round.
            shared.round.store(IDLE, Ordering::SeqCst);
        }
        Ok(())
    }))
}

impl CheckpointThread {
    /// Starts the thread on `conn`, a connection of its own to the database.
    pub(super) fn start(conn: Connection) -> std::io::Result<CheckpointThread> {
        let shared = Arc::new(Checkpointer {
            conn: Mutex::new(conn),
            wanted: Mutex::new(false),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            round: AtomicU8::new(IDLE),
        });
        let thread = Arc::clone(&shared);
        let handle = std::thread::Builder::new().name("kassa-checkpoint".into()).spawn(move || {
            loop {
                let mut wanted = super::lock(&thread.wanted);
                while !*wanted && !thread.stop.load(Ordering::SeqCst) {
                    wanted = thread.wake.wait(wanted).unwrap_or_else(|p| p.into_inner());
                }
                if thread.stop.load(Ordering::SeqCst) {
                    break;
                }
                *wanted = false;
                drop(wanted);
                thread.run();
            }
        })?;
        Ok(CheckpointThread { shared, handle: Some(handle) })
    }

    /// Stops the thread and waits for a checkpoint in progress to end (before the store closes its connections,
    /// so the writer's close is the last and removes the log).
    pub(super) fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// A database in WAL mode whose writer has the hook, and the checkpoint thread beside it.
    fn hooked(dir: &Path) -> (PathBuf, Connection, CheckpointThread) {
        let path = dir.join("k.db");
        let mut writer = super::super::sqlite::open(&path).unwrap();
        let thread = CheckpointThread::start(super::super::sqlite::open(&path).unwrap()).unwrap();
        hook_writer(&mut writer, &thread.shared).unwrap();
        writer.execute_batch("CREATE TABLE t (b BLOB)").unwrap();
        (path, writer, thread)
    }

    fn db_len(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    /// Whether `done` turns true within 5 s (the thread works on its own time).
    fn within_5s(done: impl Fn() -> bool) -> bool {
        (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            done()
        })
    }

    #[test]
    fn the_commit_leaves_the_copy_to_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, mut thread) = hooked(dir.path());
        // The thread cannot checkpoint until the commit is checked.
        let held = super::super::lock(&thread.shared.conn);
        // About 1 250 pages into the log in one commit.
        writer.execute("INSERT INTO t VALUES (zeroblob(5000000))", []).unwrap();
        assert!(db_len(&path) < 1_000_000, "the commit copied its log into the database itself");
        drop(held);
        assert!(within_5s(|| db_len(&path) > 5_000_000), "the thread did not checkpoint the log");
        thread.stop();
    }

    #[test]
    fn once_the_thread_copied_a_commit_copies_the_rest_and_the_log_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, mut thread) = hooked(dir.path());
        let held = super::super::lock(&thread.shared.conn);
        // About 1 250 pages: the thread is asked.
        writer.execute("INSERT INTO t VALUES (zeroblob(5000000))", []).unwrap();
        // A reader's snapshot keeps the thread from copying the commit that comes next, as a commit made while
        // the thread copies is left out of its copy.
        let reader = super::super::sqlite::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        writer.execute("INSERT INTO t VALUES (zeroblob(100))", []).unwrap();
        drop(held);
        let copied = || thread.shared.round.load(Ordering::SeqCst) == COPIED;
        assert!(within_5s(copied), "the thread did not checkpoint the log");
        reader.execute_batch("COMMIT").unwrap();
        // From here the thread cannot copy: the commits past the mark copy the rest themselves, and the
        // write after starts the log again from its beginning.
        let held = super::super::lock(&thread.shared.conn);
        writer.execute("INSERT INTO t VALUES (zeroblob(100))", []).unwrap();
        writer.execute("INSERT INTO t VALUES (zeroblob(100))", []).unwrap();
        let frames: i64 = writer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)).unwrap();
        assert!(frames < 100, "the log did not start again: {frames} frames in it");
        drop(held);
        thread.stop();
    }

    #[test]
    fn a_log_far_past_the_mark_is_copied_by_the_commit_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, mut thread) = hooked(dir.path());
        let held = super::super::lock(&thread.shared.conn);
        // About 17 000 pages in one commit: past INLINE_AT, while the thread cannot run.
        writer.execute("INSERT INTO t VALUES (zeroblob(70000000))", []).unwrap();
        assert!(db_len(&path) > 60_000_000, "a stuck thread let the log grow without bound");
        drop(held);
        thread.stop();
    }
}
