//! The durable print queue: its own SQLite file (`spool.db`, WAL, `synchronous=FULL`), owned
//! by the spooler alone. A job row is committed before any byte goes to a printer, so a
//! crash can lose nothing; the `sending` state recorded before the first byte tells a
//! restarted spooler that the printer may already have printed the job.
//!
//! The connection sits behind a `std::sync::Mutex`: every statement is short and
//! synchronous, callers are the API thread and the per-printer worker threads, and SQLite
//! serialises writers anyway, so a channel to a database thread would add latency for no gain.
use super::config::{DocFormat, Link, PrinterType};
use super::error::SpoolError;
use super::status::PauseReason;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Creates an empty `path` readable by its owner only, unless it exists; never follows a link.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A job id; never reused (AUTOINCREMENT).
pub type JobId = i64;
/// A printer id; stable across restarts for the same device key.
pub type PrinterId = i64;

/// What the job prints, as the caller identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKey {
    /// A fiscal document: cash register, shift and document number.
    Document {
        /// Cash register (KKM) id.
        kkm: String,
        /// Shift number.
        shift: i64,
        /// Document number within the shift.
        number: i64,
    },
    /// Anything else (X report, test page).
    Label(String),
}

/// A job's state. `Paused` and `Failed` carry why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum JobState {
    /// Committed, waiting its turn.
    Queued,
    /// Bytes are (or were, before a crash) going to the printer.
    Sending,
    /// All bytes reached the printer, which then reported a stop (e.g. paper out); it will
    /// print them when it recovers.
    Sent,
    /// Printed (the printer answered after the job, or the link cannot answer).
    Done,
    /// Waiting for the printer to recover.
    Paused(PauseReason),
    /// Given up (only with `max_attempts`, or an unusable job).
    Failed(String),
    /// Cancelled by the caller before it printed.
    Cancelled,
}

impl JobState {
    fn to_db(&self) -> (&'static str, Option<String>) {
        match self {
            JobState::Queued => ("queued", None),
            JobState::Sending => ("sending", None),
            JobState::Sent => ("sent", None),
            JobState::Done => ("done", None),
            JobState::Paused(r) => ("paused", Some(r.as_str().into())),
            JobState::Failed(r) => ("failed", Some(r.clone())),
            JobState::Cancelled => ("cancelled", None),
        }
    }

    fn from_db(state: &str, reason: Option<String>) -> Result<Self, SpoolError> {
        Ok(match state {
            "queued" => JobState::Queued,
            "sending" => JobState::Sending,
            "sent" => JobState::Sent,
            "done" => JobState::Done,
            "paused" => {
                JobState::Paused(reason.as_deref().and_then(PauseReason::parse).unwrap_or(PauseReason::Unreachable))
            }
            "failed" => JobState::Failed(reason.unwrap_or_default()),
            "cancelled" => JobState::Cancelled,
            other => return Err(SpoolError::Corrupt(format!("job state {other:?}"))),
        })
    }

    /// The state's name as stored.
    pub fn name(&self) -> &'static str {
        self.to_db().0
    }

    /// Still needs work from a worker.
    pub fn is_active(&self) -> bool {
        matches!(self, JobState::Queued | JobState::Sending | JobState::Sent | JobState::Paused(_))
    }
}

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Id.
    pub id: JobId,
    /// Target printer.
    pub printer_id: PrinterId,
    /// What it is.
    pub key: JobKey,
    /// Byte format.
    pub format: DocFormat,
    /// The bytes for the first print.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Caller-supplied bytes for a copy (reprint), if any.
    #[serde(skip)]
    pub copy_data: Option<Vec<u8>>,
    /// The next (or last) send is, or may be, a duplicate and is marked as a copy.
    pub is_copy: bool,
    /// State, flattened into the job: `"state": "paused", "reason": "paper_out"`.
    #[serde(flatten)]
    pub state: JobState,
    /// Send attempts so far.
    pub attempts: u32,
    /// Estimated transfer time on the printer's link, when it is a slow link.
    pub est_transfer_ms: Option<u64>,
    /// The estimate exceeded `slow_job_secs`.
    pub slow: bool,
    /// Last transport error, for operators.
    pub last_error: Option<String>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// When the last send finished.
    pub sent_at: Option<String>,
    /// When it was confirmed printed.
    pub done_at: Option<String>,
    /// The last send broke off after bytes may have reached the printer; before anything is
    /// resent the printer is asked whether the receipt was cut.
    pub interrupted: bool,
    /// The printer's autocutter count (`GS g 2`) read just before the last send, where the
    /// profile has one.
    pub cuts_before: Option<u64>,
    /// The last send's final command (the cut, or the tear-off feed) may have left the host: a
    /// printer that cannot say otherwise may have printed the receipt whole. Committed before
    /// that command is written, so a crash can only err towards a copy.
    pub tail_sent: bool,
}

/// A printer row of the name→ID table.
#[derive(Debug, Clone, Serialize)]
pub struct PrinterRow {
    /// Stable id.
    pub id: PrinterId,
    /// Device key (see [`Link::key`]).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Seed type.
    pub printer_type: PrinterType,
    /// How to reach it.
    pub link: Link,
    /// Profile id.
    pub profile: String,
    /// From configuration (true) or discovery (false).
    pub configured: bool,
    /// Whether to query DLE EOT.
    pub query_status: bool,
    /// What the printer showed of its status back-channel: `Some(true)` it answered `DLE EOT` at
    /// least once (a silence is then an unreachable printer), `Some(false)` it never answered while
    /// writes went through (printed without status), `None` not known yet.
    pub status_channel: Option<bool>,
}

/// Which jobs [`Queue::list_jobs`] returns.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this printer.
    pub printer_id: Option<PrinterId>,
    /// Only these state names (`queued`, `paused`, …).
    pub states: Vec<String>,
    /// Only active jobs (queued, sending, sent, paused).
    pub active_only: bool,
    /// At most this many, newest first when set; all in id order otherwise.
    pub limit: Option<u32>,
}

/// The queue database.
pub struct Queue {
    conn: Mutex<Connection>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS printers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type INTEGER NOT NULL,
    link TEXT NOT NULL,
    profile TEXT NOT NULL,
    configured INTEGER NOT NULL DEFAULT 0,
    query_status INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    printer_id INTEGER NOT NULL REFERENCES printers(id),
    kkm TEXT, shift INTEGER, doc_number INTEGER, label TEXT,
    format TEXT NOT NULL,
    data BLOB NOT NULL,
    copy_data BLOB,
    is_copy INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    est_transfer_ms INTEGER,
    slow INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT,
    done_at TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    cuts_before INTEGER,
    tail_sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_printer_state ON jobs(printer_id, state, id);
";

const JOB_COLS: &str = "id, printer_id, kkm, shift, doc_number, label, format, data, copy_data, \
     is_copy, state, reason, attempts, est_transfer_ms, slow, last_error, created_at, updated_at, \
     sent_at, done_at, interrupted, cuts_before, tail_sent";

const ACTIVE: &str = "('queued','sending','sent','paused')";

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Job, String, Option<String>, String)> {
    let kkm: Option<String> = r.get(2)?;
    let key = match kkm {
        Some(kkm) => JobKey::Document { kkm, shift: r.get(3)?, number: r.get(4)? },
        None => JobKey::Label(r.get::<_, Option<String>>(5)?.unwrap_or_default()),
    };
    let est: Option<i64> = r.get(13)?;
    let job = Job {
        id: r.get(0)?,
        printer_id: r.get(1)?,
        key,
        format: DocFormat::EscPos,
        data: r.get(7)?,
        copy_data: r.get(8)?,
        is_copy: r.get(9)?,
        state: JobState::Queued,
        attempts: r.get(12)?,
        est_transfer_ms: est.and_then(|v| u64::try_from(v).ok()),
        slow: r.get(14)?,
        last_error: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
        sent_at: r.get(18)?,
        done_at: r.get(19)?,
        interrupted: r.get(20)?,
        cuts_before: r.get::<_, Option<i64>>(21)?.and_then(|v| u64::try_from(v).ok()),
        tail_sent: r.get(22)?,
    };
    Ok((job, r.get(10)?, r.get(11)?, r.get(6)?))
}

fn finish_job(parts: (Job, String, Option<String>, String)) -> Result<Job, SpoolError> {
    let (mut job, state, reason, format) = parts;
    job.state = JobState::from_db(&state, reason)?;
    job.format = DocFormat::parse(&format).ok_or_else(|| SpoolError::Corrupt(format!("job format {format:?}")))?;
    Ok(job)
}

/// What a new job row holds.
pub struct NewJob<'a> {
    /// Target printer.
    pub printer_id: PrinterId,
    /// Key.
    pub key: &'a JobKey,
    /// Format.
    pub format: DocFormat,
    /// Bytes.
    pub data: &'a [u8],
    /// Copy bytes.
    pub copy_data: Option<&'a [u8]>,
    /// Caller marks it a reprint.
    pub is_copy: bool,
    /// Estimated transfer time.
    pub est_transfer_ms: Option<u64>,
    /// Over the slow threshold.
    pub slow: bool,
}

impl Queue {
    /// Opens (creating if needed) the database at `path`: created 0600 (its log and shared memory then get
    /// the same mode from SQLite), never through a symbolic link.
    pub fn open(path: &Path) -> Result<Self, SpoolError> {
        create_private(path).map_err(|source| SpoolError::Io { path: path.display().to_string(), source })?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        // Files from before these columns existed gain them in place.
        for (table, col, decl) in [
            ("jobs", "interrupted", "INTEGER NOT NULL DEFAULT 0"),
            ("jobs", "cuts_before", "INTEGER"),
            ("jobs", "tail_sent", "INTEGER NOT NULL DEFAULT 0"),
            ("printers", "status_channel", "INTEGER"),
        ] {
            let has: bool = conn.query_row(
                &format!("SELECT COUNT(*) > 0 FROM pragma_table_info('{table}') WHERE name = ?1"),
                [col],
                |r| r.get(0),
            )?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {col} {decl}"))?;
            }
        }
        // A printer found without a status back-channel is asked again once per start: the shop may
        // have replaced it. One that ever answered keeps that: its silence means it is unreachable.
        conn.execute("UPDATE printers SET status_channel = NULL WHERE status_channel = 0", [])?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (it rolls back),
        // so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns the stable id for `link`, creating it on first sight and refreshing the
    /// name, profile and flags.
    pub fn assign_printer(
        &self,
        name: &str,
        link: &Link,
        profile: &str,
        configured: bool,
        query_status: bool,
    ) -> Result<PrinterId, SpoolError> {
        let link_json = serde_json::to_string(link).map_err(|e| SpoolError::Corrupt(e.to_string()))?;
        let t = now();
        let db = self.db();
        // A discovered entry must not overwrite what the integrator configured.
        db.execute(
            "INSERT INTO printers (key, name, type, link, profile, configured, query_status, first_seen, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT(key) DO UPDATE SET
               name = CASE WHEN excluded.configured OR NOT printers.configured THEN excluded.name ELSE printers.name END,
               link = CASE WHEN excluded.configured OR NOT printers.configured THEN excluded.link ELSE printers.link END,
               profile = CASE WHEN excluded.configured OR NOT printers.configured THEN excluded.profile ELSE printers.profile END,
               query_status = CASE WHEN excluded.configured OR NOT printers.configured THEN excluded.query_status ELSE printers.query_status END,
               configured = MAX(printers.configured, excluded.configured),
               last_seen = excluded.last_seen",
            params![link.key(), name, link.printer_type().code(), link_json, profile, configured, query_status, t],
        )?;
        Ok(db.query_row("SELECT id FROM printers WHERE key = ?1", [link.key()], |r| r.get(0))?)
    }

    /// Clears the `configured` flag on printers no longer in the configuration.
    pub fn unconfigure_others(&self, keep: &[PrinterId]) -> Result<(), SpoolError> {
        let db = self.db();
        let list = keep.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        db.execute(&format!("UPDATE printers SET configured = 0 WHERE id NOT IN ({list})"), [])?;
        Ok(())
    }

    fn printer_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(PrinterRow, String, u8)> {
        Ok((
            PrinterRow {
                id: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                printer_type: PrinterType::Com,
                link: Link::UsbLp { path: String::new() },
                profile: r.get(5)?,
                configured: r.get(6)?,
                query_status: r.get(7)?,
                status_channel: r.get(8)?,
            },
            r.get(4)?,
            r.get(3)?,
        ))
    }

    fn finish_printer(parts: (PrinterRow, String, u8)) -> Result<PrinterRow, SpoolError> {
        let (mut p, link, t) = parts;
        p.link = serde_json::from_str(&link).map_err(|e| SpoolError::Corrupt(format!("printer {} link: {e}", p.id)))?;
        p.printer_type = PrinterType::try_from(t).map_err(SpoolError::Corrupt)?;
        Ok(p)
    }

    /// One printer.
    pub fn printer(&self, id: PrinterId) -> Result<Option<PrinterRow>, SpoolError> {
        let row = self
            .db()
            .query_row(
                "SELECT id, key, name, type, link, profile, configured, query_status, status_channel FROM printers
                 WHERE id = ?1",
                [id],
                Self::printer_from_row,
            )
            .optional()?;
        row.map(Self::finish_printer).transpose()
    }

    /// All known printers in id order.
    pub fn printers(&self) -> Result<Vec<PrinterRow>, SpoolError> {
        let db = self.db();
        let mut st = db.prepare(
            "SELECT id, key, name, type, link, profile, configured, query_status, status_channel FROM printers
             ORDER BY id",
        )?;
        let rows = st.query_map([], Self::printer_from_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(Self::finish_printer).collect()
    }

    /// Commits a new job and returns its id. Durable when this returns (WAL + FULL sync).
    pub fn insert_job(&self, j: &NewJob<'_>) -> Result<JobId, SpoolError> {
        let (kkm, shift, number, label) = match j.key {
            JobKey::Document { kkm, shift, number } => (Some(kkm.as_str()), Some(*shift), Some(*number), None),
            JobKey::Label(l) => (None, None, None, Some(l.as_str())),
        };
        let t = now();
        let db = self.db();
        db.execute(
            "INSERT INTO jobs (printer_id, kkm, shift, doc_number, label, format, data, copy_data,
                               is_copy, state, est_transfer_ms, slow, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?10, ?11, ?12, ?12)",
            params![
                j.printer_id,
                kkm,
                shift,
                number,
                label,
                j.format.as_str(),
                j.data,
                j.copy_data,
                j.is_copy,
                j.est_transfer_ms.and_then(|v| i64::try_from(v).ok()),
                j.slow,
                t
            ],
        )?;
        Ok(db.last_insert_rowid())
    }

    /// One job.
    pub fn job(&self, id: JobId) -> Result<Option<Job>, SpoolError> {
        let row = self
            .db()
            .query_row(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"), [id], job_from_row)
            .optional()?;
        row.map(finish_job).transpose()
    }

    /// The head of a printer's queue: the oldest job that still needs work.
    pub fn next_job(&self, printer: PrinterId) -> Result<Option<Job>, SpoolError> {
        let row = self
            .db()
            .query_row(
                &format!("SELECT {JOB_COLS} FROM jobs WHERE printer_id = ?1 AND state IN {ACTIVE} ORDER BY id LIMIT 1"),
                [printer],
                job_from_row,
            )
            .optional()?;
        row.map(finish_job).transpose()
    }

    /// Printers that have unfinished jobs (to start their workers after a restart).
    pub fn printers_with_work(&self) -> Result<Vec<PrinterId>, SpoolError> {
        let db = self.db();
        let mut st =
            db.prepare(&format!("SELECT DISTINCT printer_id FROM jobs WHERE state IN {ACTIVE} ORDER BY printer_id"))?;
        let ids = st.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Jobs matching `filter`.
    pub fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, SpoolError> {
        let mut sql = format!("SELECT {JOB_COLS} FROM jobs WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(p) = filter.printer_id {
            args.push(p.into());
            sql.push_str(&format!(" AND printer_id = ?{}", args.len()));
        }
        if filter.active_only {
            sql.push_str(&format!(" AND state IN {ACTIVE}"));
        }
        if !filter.states.is_empty() {
            let mut marks = Vec::new();
            for s in &filter.states {
                args.push(s.clone().into());
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" AND state IN ({})", marks.join(",")));
        }
        match filter.limit {
            Some(n) => sql.push_str(&format!(" ORDER BY id DESC LIMIT {n}")),
            None => sql.push_str(" ORDER BY id"),
        }
        let db = self.db();
        let mut st = db.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), job_from_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish_job).collect()
    }

    /// Sets the state (and clears or keeps the error text).
    pub fn set_state(&self, id: JobId, state: &JobState, error: Option<&str>) -> Result<(), SpoolError> {
        let (s, reason) = state.to_db();
        let t = now();
        // A printed job has no error left to show; the log keeps the history.
        let stamp = match state {
            JobState::Sent => ", sent_at = ?4",
            JobState::Done => ", done_at = ?4, sent_at = COALESCE(sent_at, ?4), interrupted = 0",
            _ => "",
        };
        self.db().execute(
            &format!(
                "UPDATE jobs SET state = ?2, reason = ?3, updated_at = ?4{stamp},
                 last_error = CASE WHEN ?2 = 'done' THEN NULL ELSE COALESCE(?5, last_error) END WHERE id = ?1"
            ),
            params![id, s, reason, t, error],
        )?;
        Ok(())
    }

    /// Records that bytes are about to go out: `sending`, one more attempt, and whether
    /// this send is a copy. Committed before the first byte is written.
    /// `cuts_before` is the printer's autocutter count read just before, if it has one.
    pub fn mark_sending(&self, id: JobId, is_copy: bool, cuts_before: Option<u64>) -> Result<(), SpoolError> {
        self.db().execute(
            "UPDATE jobs SET state = 'sending', reason = NULL, attempts = attempts + 1,
             is_copy = ?2, interrupted = 0, tail_sent = 0, cuts_before = ?4, updated_at = ?3 WHERE id = ?1",
            params![id, is_copy, now(), cuts_before.and_then(|c| i64::try_from(c).ok())],
        )?;
        Ok(())
    }

    /// A send broke off: some bytes may have printed. Before a resend the worker asks the printer
    /// whether the receipt was cut; a printer that cannot tell gets the resend as a copy.
    pub fn mark_interrupted(&self, id: JobId, reason: PauseReason, error: &str) -> Result<(), SpoolError> {
        self.db().execute(
            "UPDATE jobs SET state = 'paused', reason = ?2, interrupted = 1, last_error = ?3,
             updated_at = ?4 WHERE id = ?1",
            params![id, reason.as_str(), error, now()],
        )?;
        Ok(())
    }

    /// The final command of the job being sent is about to be written (see [`Job::tail_sent`]).
    pub fn mark_tail_sent(&self, id: JobId) -> Result<(), SpoolError> {
        self.db().execute("UPDATE jobs SET tail_sent = 1, updated_at = ?2 WHERE id = ?1", params![id, now()])?;
        Ok(())
    }

    /// A send that certainly delivered nothing (the spooler refused it, the link dropped before its
    /// first byte left): the job is back as it was before [`Queue::mark_sending`], paused with the
    /// reason; the attempt is not counted and the job is no copy because of it.
    pub fn mark_unsent(&self, before: &Job, error: &str) -> Result<(), SpoolError> {
        self.db().execute(
            "UPDATE jobs SET state = 'paused', reason = 'unreachable', attempts = ?2, is_copy = ?3,
             interrupted = ?4, tail_sent = ?5, cuts_before = ?6, last_error = ?7, updated_at = ?8 WHERE id = ?1",
            params![
                before.id,
                before.attempts,
                before.is_copy,
                before.interrupted,
                before.tail_sent,
                before.cuts_before.and_then(|c| i64::try_from(c).ok()),
                error,
                now()
            ],
        )?;
        Ok(())
    }

    /// Fails the jobs of device `kkm` from shifts up to `shift` that wait for a printer nobody can
    /// reach (its head job is paused `unreachable`), with `why`; jobs on reachable printers go on.
    /// Returns how many.
    pub fn expire_unreachable_shift(&self, kkm: &str, shift: i64, why: &str) -> Result<usize, SpoolError> {
        Ok(self.db().execute(
            "UPDATE jobs SET state = 'failed', reason = ?3, updated_at = ?4
             WHERE kkm = ?1 AND shift <= ?2 AND state IN ('queued','paused')
               AND printer_id IN (SELECT printer_id FROM jobs WHERE state = 'paused' AND reason = 'unreachable')",
            params![kkm, shift, why, now()],
        )?)
    }

    /// Records what the printer showed of its status back-channel (see [`PrinterRow::status_channel`]).
    pub fn set_status_channel(&self, printer: PrinterId, answers: bool) -> Result<(), SpoolError> {
        self.db().execute("UPDATE printers SET status_channel = ?2 WHERE id = ?1", params![printer, answers])?;
        Ok(())
    }

    /// Moves a failed, cancelled or paused job back to `queued`; returns the old state.
    pub fn requeue(&self, id: JobId) -> Result<JobState, SpoolError> {
        let job = self.job(id)?.ok_or(SpoolError::UnknownJob(id))?;
        match job.state {
            JobState::Failed(_) | JobState::Cancelled | JobState::Paused(_) => {
                self.db().execute(
                    "UPDATE jobs SET state = 'queued', reason = NULL, updated_at = ?2 WHERE id = ?1",
                    params![id, now()],
                )?;
                Ok(job.state)
            }
            s => Err(SpoolError::InvalidState { id, state: s.name().into(), operation: "retry" }),
        }
    }

    /// Deletes finished jobs (done, cancelled, failed) last changed before `before`
    /// (RFC 3339); returns how many. Active jobs are never deleted.
    pub fn purge_finished(&self, before: &str) -> Result<usize, SpoolError> {
        Ok(self.db().execute(
            "DELETE FROM jobs WHERE state IN ('done','cancelled','failed')
             AND COALESCE(done_at, updated_at) < ?1",
            [before],
        )?)
    }

    /// Records that the worker stopped a job it was sending because the caller cancelled it.
    pub fn mark_cancelled_while_sending(&self, id: JobId, note: &str) -> Result<(), SpoolError> {
        self.db().execute(
            "UPDATE jobs SET state = 'cancelled', reason = NULL, last_error = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, note, now()],
        )?;
        Ok(())
    }

    /// Cancels a job that has not started sending.
    pub fn cancel(&self, id: JobId) -> Result<(), SpoolError> {
        let db = self.db();
        let n = db.execute(
            "UPDATE jobs SET state = 'cancelled', reason = NULL, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued','paused','failed')",
            params![id, now()],
        )?;
        if n == 1 {
            return Ok(());
        }
        let state: Option<String> =
            db.query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        match state {
            None => Err(SpoolError::UnknownJob(id)),
            Some(state) => Err(SpoolError::InvalidState { id, state, operation: "cancel" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link::Tcp { host: "127.0.0.1".into(), port: 9100 }
    }

    #[test]
    fn jobs_survive_reopen_in_order_and_ids_are_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spool.db");
        let (p, a, b) = {
            let q = Queue::open(&path).expect("open");
            let p = q.assign_printer("net", &link(), "generic-80", true, true).expect("printer");
            let key = JobKey::Document { kkm: "K1".into(), shift: 3, number: 17 };
            let new = |data: &'static [u8]| NewJob {
                printer_id: p,
                key: &key,
                format: DocFormat::EscPos,
                data,
                copy_data: None,
                is_copy: false,
                est_transfer_ms: None,
                slow: false,
            };
            let a = q.insert_job(&new(b"one")).expect("insert");
            let b = q.insert_job(&new(b"two")).expect("insert");
            q.mark_sending(a, false, Some(7)).expect("sending");
            (p, a, b)
        };
        let q = Queue::open(&path).expect("reopen");
        assert_eq!(q.assign_printer("renamed", &link(), "generic-80", true, true).expect("printer"), p);
        let head = q.next_job(p).expect("query").expect("a job");
        assert_eq!(head.id, a);
        assert_eq!(head.state, JobState::Sending);
        assert_eq!(head.data, b"one");
        assert_eq!(head.attempts, 1);
        q.mark_interrupted(a, PauseReason::Unreachable, "boom").expect("interrupt");
        let head = q.job(a).expect("query").expect("job");
        assert!(head.interrupted && !head.is_copy);
        assert_eq!(head.cuts_before, Some(7));
        assert_eq!(head.state, JobState::Paused(PauseReason::Unreachable));
        q.set_state(a, &JobState::Done, None).expect("done");
        assert_eq!(q.next_job(p).expect("query").map(|j| j.id), Some(b));
        assert!(q.cancel(a).is_err());
        q.cancel(b).expect("cancel");
        assert_eq!(q.requeue(b).expect("retry"), JobState::Cancelled);
        assert_eq!(q.printers_with_work().expect("query"), vec![p]);
    }
}
