//! The writer thread (SQLite): the write transactions of async callers ([`Store::write_queued`]) run back to
//! back on one thread, as many as are waiting in one transaction, each in a savepoint of its own; each caller
//! is woken once the commit that carries its changes is on disk. Nothing sleeps on the write connection's lock
//! or on its group's commit, and no transaction hops to the blocking pool and back.
//!
//! The batch is one caller of [`Store::write`]: it commits in a group with the synchronous writers, and a
//! commit that fails, or a transaction SQLite rolled back by itself, fails every caller of the batch whose own
//! changes were to be kept.
use super::{Store, StoreError, Tx};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

/// Most callers in one batch, so a long queue is committed in parts and its first callers answered sooner.
const MAX_BATCH: usize = 64;

/// A caller's transaction: it runs on the writer thread and says what to tell its caller after the commit.
pub(super) type Job = Box<dyn FnOnce(&Tx) -> Ran + Send>;

/// What a job did: whether its changes are to be kept, and how to answer its caller once the batch's commit
/// succeeded (`None`) or failed.
pub(super) struct Ran {
    kept: bool,
    answer: Box<dyn FnOnce(Option<&StoreError>) + Send>,
}

/// A job for `f`, whose result goes to `reply` after the commit: a kept result the commit lost becomes the
/// commit's error.
pub(super) fn job<T, E>(
    f: impl FnOnce(&Tx) -> Result<T, E> + Send + 'static,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
) -> Job
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    Box::new(move |tx: &Tx| {
        // A panic is this caller's failure alone: its changes are rolled back, the batch goes on.
        let result = catch_unwind(AssertUnwindSafe(|| f(tx))).unwrap_or_else(|panic| {
            let why = panic.downcast_ref::<&str>().copied().or(panic.downcast_ref::<String>().map(String::as_str));
            tracing::error!(panic = why.unwrap_or("?"), "a write transaction panicked: its changes are rolled back");
            Err(E::from(StoreError::Commit(format!(
                "the write panicked ({}): nothing of it was kept",
                why.unwrap_or("?")
            ))))
        });
        Ran {
            kept: result.is_ok(),
            answer: Box::new(move |failed: Option<&StoreError>| {
                let result = match (result, failed) {
                    (Ok(_), Some(e)) => Err(E::from(StoreError::Commit(e.to_string()))),
                    (result, _) => result,
                };
                let _ = reply.send(result);
            }),
        }
    })
}

/// Starts the writer thread; `store` gives it a handle on the database for each batch (none once the database
/// is closed). The thread ends with the queue's last sender.
pub(super) fn start(store: impl Fn() -> Option<Store> + Send + 'static) -> std::io::Result<mpsc::Sender<Job>> {
    let (send, jobs) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("kassa-writer".into()).spawn(move || {
        while let Ok(first) = jobs.recv() {
            let Some(store) = store() else { break };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            // Every job catches its own panic; one from the batch's own steps must not end the thread, or
            // every later write would be refused.
            let ran = catch_unwind(AssertUnwindSafe(|| run_batch(&store, batch)));
            // The database is let go before anyone is answered: a caller that drops its last handle once it
            // has its answer closes the database then, not when this thread gets round to it.
            drop(store);
            match ran {
                Ok((ran, failed)) => {
                    for done in ran {
                        (done.answer)(failed.as_ref());
                    }
                }
                Err(_) => {
                    tracing::error!("a batch of the writer thread panicked: its callers were told nothing was kept")
                }
            }
        }
    })?;
    Ok(send)
}

/// Runs `batch` in one write transaction, each job in a savepoint that its failure rolls back; returns what
/// each job did and the batch's failure, to answer each caller after the commit.
fn run_batch(store: &Store, batch: Vec<Job>) -> (Vec<Ran>, Option<StoreError>) {
    let mut ran = Vec::with_capacity(batch.len());
    let outcome = store.write(|tx| -> Result<(), StoreError> {
        for job in batch {
            tx.exec_batch("SAVEPOINT job")?;
            let done = job(tx);
            let kept = done.kept;
            ran.push(done);
            // SQLite rolled the whole transaction back by itself: a next job would run with no transaction
            // around it, so the jobs left are dropped (their callers hear it), and `write` fails the batch.
            if !tx.in_transaction() {
                break;
            }
            if !kept {
                tx.exec_batch("ROLLBACK TO job")?;
            }
            tx.exec_batch("RELEASE job")?;
        }
        Ok(())
    });
    (ran, outcome.err())
}

impl Tx<'_> {
    /// Whether a transaction is open on the connection (SQLite may have rolled it back by itself).
    fn in_transaction(&self) -> bool {
        match &self.db {
            super::sql::Db::Sqlite(conn) => !conn.is_autocommit(),
            super::sql::Db::Postgres(_) => true,
        }
    }

    /// Runs one statement without parameters (a savepoint's), from the connection's statement cache.
    fn exec_batch(&self, sql: &str) -> Result<(), StoreError> {
        self.db.exec(sql, &[]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::StoreError;
    use std::time::Duration;

    /// A store with a table of numbers, each written by one caller.
    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("kassa.db")).unwrap();
        store.write(|tx| tx.exec("CREATE TABLE written (n INTEGER NOT NULL)", &[])).unwrap();
        (dir, store)
    }

    fn kept(store: &Store) -> Vec<i64> {
        store.read(|tx| tx.db.rows("SELECT n FROM written ORDER BY n", &[], |r| r.get::<_, i64>(0))).unwrap()
    }

    /// Writes `n` on the writer thread, holding it for `hold`; then fails, panics or loses the whole
    /// transaction (as SQLite does by itself after an I/O error) when told to.
    async fn write(store: &Store, n: i64, hold: Duration, end: &'static str) -> Result<(), StoreError> {
        store
            .write_queued(move |tx| {
                tx.exec("INSERT INTO written (n) VALUES (?1)", &[&n])?;
                std::thread::sleep(hold);
                match end {
                    "fail" => Err(StoreError::Corrupt(format!("write {n} refused"))),
                    "panic" => panic!("write {n} panicked"),
                    "lose" => tx.exec("ROLLBACK", &[]).map(|_| ()),
                    _ => Ok(()),
                }
            })
            .await
    }

    /// Write 1 holds the writer for 300 ms; `queued` are sent while it does, so they wait and run as one batch
    /// after it. Returns each write's answer, write 1's first.
    async fn behind_a_long_write(store: &Store, queued: &[(i64, &'static str)]) -> Vec<Result<(), StoreError>> {
        let long = write(store, 1, Duration::from_millis(300), "keep");
        let rest = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            futures::future::join_all(queued.iter().map(|&(n, end)| write(store, n, Duration::ZERO, end))).await
        };
        let (first, rest) = tokio::join!(long, rest);
        std::iter::once(first).chain(rest).collect()
    }

    /// A write that fails or panics in a batch is rolled back alone, and its neighbours are kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_or_panicking_write_is_rolled_back_alone_in_its_batch() {
        let (_dir, store) = store();
        let told = behind_a_long_write(&store, &[(2, "keep"), (3, "fail"), (4, "panic"), (5, "keep")]).await;
        let [first, two, three, four, five] = &told[..] else { panic!("{told:?}") };
        assert!(first.is_ok() && two.is_ok() && five.is_ok(), "{told:?}");
        assert!(matches!(three, Err(StoreError::Corrupt(_))), "{three:?}");
        assert!(matches!(four, Err(StoreError::Commit(why)) if why.contains("write 4 panicked")), "{four:?}");
        assert_eq!(kept(&store), vec![1, 2, 5]);
    }

    /// When SQLite rolls a batch's transaction back by itself, no caller of that batch is told its write was
    /// kept, whichever order they ran in, and the writer goes on with a new transaction.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn when_sqlite_rolls_back_a_batch_no_caller_of_it_is_told_its_write_was_kept() {
        let (_dir, store) = store();
        let told = behind_a_long_write(&store, &[(2, "keep"), (3, "lose"), (4, "keep")]).await;
        assert!(told[0].is_ok(), "{told:?}");
        for (n, answer) in [2, 3, 4].into_iter().zip(&told[1..]) {
            assert!(answer.is_err(), "write {n} was told it was kept");
        }
        assert_eq!(kept(&store), vec![1]);
        write(&store, 6, Duration::ZERO, "keep").await.unwrap();
        assert_eq!(kept(&store), vec![1, 6]);
    }

    /// A write alone in its batch (one caller at a time) fails, panics or loses its transaction without
    /// leaving anything, is told so, and the writer goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_alone_in_its_batch_is_kept_exactly_when_it_is_told_so() {
        let (_dir, store) = store();
        assert!(matches!(write(&store, 1, Duration::ZERO, "fail").await, Err(StoreError::Corrupt(_))));
        assert!(matches!(write(&store, 2, Duration::ZERO, "panic").await, Err(StoreError::Commit(_))));
        assert!(write(&store, 3, Duration::ZERO, "lose").await.is_err(), "a lost transaction is not kept");
        write(&store, 4, Duration::ZERO, "keep").await.unwrap();
        assert_eq!(kept(&store), vec![4]);
    }

    /// The writer thread lets the database go with the last handle: the file can be opened again at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_database_closes_with_its_last_handle_though_the_writer_ran() {
        let (dir, store) = store();
        write(&store, 1, Duration::ZERO, "keep").await.unwrap();
        let closed = store.closed_flag();
        drop(store);
        assert!(closed.load(std::sync::atomic::Ordering::SeqCst), "the writer thread kept the database open");
        let again = Store::open(&dir.path().join("kassa.db")).unwrap();
        assert_eq!(kept(&again), vec![1]);
        write(&again, 2, Duration::ZERO, "keep").await.unwrap();
        assert_eq!(kept(&again), vec![1, 2]);
    }
}
