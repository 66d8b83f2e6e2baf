//! Checkpoints off the commit path.
//!
//! SQLite's own automatic checkpoint runs inside the commit that pushes the write-ahead log past 1 000 pages:
//! that caller copies the log into `kassa.db` and syncs it while it still holds the writer, so every sale
//! queued behind it waits for two more fsyncs and a few megabytes of writes (the p99 of a sale under load).
//! Here the writer's log hook only notes the log's size, and a thread of its own runs the checkpoint on a
//! connection of its own. A PASSIVE checkpoint takes no writer lock, so commits go on appending to the log
//! while it copies. Should the thread fall far behind, the committing connection checkpoints itself as
//! SQLite would have, so the log never grows without bound.
use rusqlite::{Connection, hooks::Wal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
#[cfg(test)]
use std::time::Duration;

/// Log pages after which the thread is asked to checkpoint: SQLite's default automatic checkpoint.
const WANTED_AT: i32 = 1_000;
/// Log pages after which the committing connection checkpoints itself (the thread is behind or stuck).
const INLINE_AT: i32 = 16 * WANTED_AT;

/// What the store and its checkpoint thread share.
pub(super) struct Checkpointer {
    /// The thread's own connection; `watch_wal` reopens it with the others.
    pub(super) conn: Mutex<Connection>,
    wanted: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
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
    }
}

/// Installs on the writer the log hook that replaces SQLite's automatic checkpoint.
pub(super) fn hook_writer(conn: &mut Connection, shared: &Arc<Checkpointer>) -> rusqlite::Result<()> {
    let shared = Arc::clone(shared);
    conn.wal_hook(Some(move |wal: &mut Wal, pages: i32| {
        if pages >= INLINE_AT {
            // PASSIVE: the same copy SQLite's automatic checkpoint makes; a busy reader only shortens it. Its
            // error is not returned: the commit has happened, and an error from the hook would make the COMMIT
            // report a failure (SQLite's own hook ignores it too).
            if let Err(e) = wal.checkpoint_v2(rusqlite::wal::CheckpointMode::PASSIVE) {
                tracing::warn!(error = %e, pages, "a checkpoint of the write-ahead log failed; the next one tries again");
            }
        } else if pages >= WANTED_AT {
            shared.want();
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
        let copied = (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            db_len(&path) > 5_000_000
        });
        assert!(copied, "the thread did not checkpoint the log");
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
