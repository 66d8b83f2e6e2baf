//! The spooler: owns the printers and a durable print queue, and moves opaque bytes
//! (ESC/POS for receipt printers, PNG for system printers). It never renders and never calls
//! back into the store; a reprint is a new job.
//!
//! # How a job moves
//! `queued → sending → done`, or `paused(reason)` while the printer reports paper out, cover
//! open, offline, or cannot be reached, or `sent` when every byte reached the printer but its
//! status after the job said it stopped (it prints from its buffer once it recovers).
//! `failed` with `max_attempts > 0` (sends, not refused connections), after `hold_unreachable_secs`
//! unreachable, or when its shift closed while the printer was unreachable ([`Spooler::close_shift`]);
//! `cancelled` by the caller. Each printer has one worker thread taking jobs strictly in id order.
//!
//! # Never lost, never twice unmarked
//! A job is committed to `<dir>/spool.db` (SQLite, WAL, `synchronous=FULL`) before
//! [`Spooler::enqueue`] returns, and `sending` is committed before its first byte, after the link
//! opened: a printer that is off refuses the link and nothing counts as sent. The final command
//! (the cut, or the feed past a tear bar) is held until the printer has taken the rest and
//! `tail_sent` is committed. If a send breaks off (timeout, dropped link, or the process died: the
//! job is found in `sending`), the printer may have printed some of it; it was whole only if the
//! final command left. A printer with a cut counter is asked; one without it gets the resend as
//! the original when the final command never left. Otherwise the job is flagged `is_copy`, the
//! worker waits until the printer answers `DLE EOT` as ready, and resends it as a copy:
//! the caller's `copy_data` if given, else the original ESC/POS bytes prefixed with a
//! centred "КОПИЯ / COPY (reprint)" line ([`worker::copy_banner`]; CP866 where the profile
//! has it). Text jobs get the line as text; PNG jobs without `copy_data` are resent as they
//! are and only the job record says copy. A failure that certainly delivered nothing (CUPS
//! refused the job or could not be reached) puts the job back as it was.
//!
//! ```
//! use kassa::spool::{JobKey, JobRequest, Spooler};
//! use kassa::spool::config::{DocFormat, Link, PrinterConfig, SpoolConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("out");
//! let mut config = SpoolConfig::default();
//! config.discover_cups = false;
//! config.printers.push(PrinterConfig {
//!     name: "virtual".into(),
//!     link: Link::Virtual { dir: out.clone() },
//!     profile: "generic-58".into(),
//!     query_status: true,
//! });
//! let spooler = Spooler::open(dir.path(), config)?;
//! let printer = spooler.printers()?[0].id;
//! let id = spooler.enqueue(JobRequest::new(
//!     printer,
//!     JobKey::Label("test page".into()),
//!     DocFormat::EscPos,
//!     b"\x1b@hello\n\x1dV\x00".to_vec(),
//! ))?; // durable from here on
//! spooler.wait_idle(std::time::Duration::from_secs(10));
//! assert_eq!(std::fs::read(out.join(format!("{id}.escpos")))?, b"\x1b@hello\n\x1dV\x00");
//! spooler.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
pub mod cli;
pub mod config;
pub mod discovery;
pub mod emulator;
pub mod error;
pub mod profile;
pub mod queue;
pub mod status;
pub mod transport;
pub mod worker;

pub use error::SpoolError;
pub use queue::{Job, JobFilter, JobId, JobKey, JobState, PrinterId};

use config::{DocFormat, Link, PrinterType, SpoolConfig, transfer_secs};
use profile::PrinterProfile;
use queue::{NewJob, Queue};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use worker::{Event, Worker, WorkerShared};

/// A print request from the caller.
#[derive(Debug, Clone)]
pub struct JobRequest {
    /// Target printer id (from [`Spooler::printers`] or [`Spooler::discover`]).
    pub printer_id: PrinterId,
    /// Document key or free label.
    pub key: JobKey,
    /// Format of `data`.
    pub format: DocFormat,
    /// The bytes, already rendered for this printer.
    pub data: Vec<u8>,
    /// Bytes to print instead when the job has to be resent as a copy (e.g. rendered with a
    /// "КОПИЯ" header). Without them an ESC/POS job gets the copy banner prefixed.
    pub copy_data: Option<Vec<u8>>,
    /// The caller prints a reprint; it is marked a copy from the start.
    pub is_copy: bool,
}

impl JobRequest {
    /// A first print with no copy bytes.
    pub fn new(printer_id: PrinterId, key: JobKey, format: DocFormat, data: Vec<u8>) -> Self {
        Self { printer_id, key, format, data, copy_data: None, is_copy: false }
    }
}

/// A printer as `GetPrinterList` needs it, plus what render needs to choose a mode.
#[derive(Debug, Clone, Serialize)]
pub struct PrinterInfo {
    /// Stable id (seed `ID`).
    pub id: PrinterId,
    /// Display name.
    pub name: String,
    /// Seed type code (1, 2, 3; 4 network and 5 virtual are Kassa extensions).
    #[serde(rename = "type")]
    pub printer_type: PrinterType,
    /// How it is reached.
    pub link: Link,
    /// Profile id.
    pub profile: String,
    /// Link speed in baud for serial/Bluetooth links (slow: prefer text rendering).
    pub baud: Option<u32>,
    /// From configuration (true) or discovery (false).
    pub configured: bool,
    /// Something the shop should know about the printer (e.g. it has no status back-channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

struct WorkerHandle {
    tx: Sender<Event>,
    join: JoinHandle<()>,
    shared: Arc<WorkerShared>,
}

/// What `CancelPrintJob` did.
#[derive(Debug, Clone, Serialize)]
pub struct CancelOutcome {
    /// The job.
    pub id: JobId,
    /// The job's state now: `cancelled`, or `sending` while it runs to the next command boundary.
    pub state: String,
    /// For a job stopped while sending: bytes that had gone to the printer, and the job's size.
    pub bytes_sent: Option<usize>,
    /// The job's size in bytes, when it was being sent.
    pub bytes_total: Option<usize>,
    /// What was printed, in words.
    pub note: String,
}

struct Inner {
    dir: PathBuf,
    queue: Arc<Queue>,
    config: Arc<SpoolConfig>,
    profiles: BTreeMap<String, PrinterProfile>,
    workers: Mutex<HashMap<PrinterId, WorkerHandle>>,
    closed: std::sync::atomic::AtomicBool,
}

/// The spooler handle. Cheap to clone; all methods are blocking and short except
/// [`Spooler::discover`] (probes devices and CUPS) — call them from `spawn_blocking` in async code.
#[derive(Clone)]
pub struct Spooler {
    inner: Arc<Inner>,
}

impl Spooler {
    /// Opens `<dir>/spool.db`, records the configured printers and starts a worker for each
    /// of them and for every printer with unfinished jobs (which then resume by themselves).
    pub fn open(dir: &Path, config: SpoolConfig) -> Result<Self, SpoolError> {
        Self::open_with(dir, config, true)
    }

    /// Opens the queue to list and discover printers only (`kassa printers`): no worker starts, so
    /// no waiting job is sent from here.
    pub fn open_for_listing(dir: &Path, config: SpoolConfig) -> Result<Self, SpoolError> {
        Self::open_with(dir, config, false)
    }

    fn open_with(dir: &Path, config: SpoolConfig, start_workers: bool) -> Result<Self, SpoolError> {
        std::fs::create_dir_all(dir).map_err(|source| SpoolError::Io { path: dir.display().to_string(), source })?;
        let profiles = profile::load(config.profiles_dir.as_deref())?;
        let mut names = std::collections::HashSet::new();
        for p in &config.printers {
            if !names.insert(p.name.as_str()) {
                return Err(SpoolError::Config(format!(
                    "printer name {:?} is configured twice; names must be unique",
                    p.name
                )));
            }
            if !profiles.contains_key(&p.profile) {
                return Err(SpoolError::Config(format!(
                    "printer {:?} names profile {:?}, which is neither embedded nor in the profiles folder",
                    p.name, p.profile
                )));
            }
        }
        let queue = Arc::new(Queue::open(&dir.join("spool.db"))?);
        let mut configured = Vec::new();
        for p in &config.printers {
            configured.push(queue.assign_printer(&p.name, &p.link, &p.profile, true, p.query_status)?);
        }
        queue.unconfigure_others(&configured)?;
        let spooler = Self {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                queue,
                config: Arc::new(config),
                profiles,
                workers: Mutex::new(HashMap::new()),
                closed: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        if !start_workers {
            return Ok(spooler);
        }
        let mut start = configured;
        start.extend(spooler.inner.queue.printers_with_work()?);
        for id in start {
            spooler.worker(id)?;
        }
        Ok(spooler)
    }

    /// The folder holding `spool.db`.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Starts (once) and returns the event sender of a printer's worker.
    fn worker(&self, id: PrinterId) -> Result<Sender<Event>, SpoolError> {
        let mut workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = workers.get(&id) {
            return Ok(w.tx.clone());
        }
        if self.inner.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SpoolError::ShutDown);
        }
        let row = self.inner.queue.printer(id)?.ok_or(SpoolError::UnknownPrinter(id))?;
        let profile = self.profile_of(&row.profile);
        let (tx, rx) = channel();
        let shared = Arc::new(WorkerShared::default());
        let w = Worker::new(row, profile, self.inner.config.clone(), self.inner.queue.clone(), rx, shared.clone());
        let join = std::thread::Builder::new()
            .name(format!("spool-{id}"))
            .spawn(move || w.run())
            .map_err(|source| SpoolError::Io { path: "worker thread".into(), source })?;
        workers.insert(id, WorkerHandle { tx: tx.clone(), join, shared });
        Ok(tx)
    }

    fn profile_of(&self, id: &str) -> PrinterProfile {
        self.inner.profiles.get(id).cloned().unwrap_or_default()
    }

    /// Commits a job and wakes its printer's worker. The job is durable when this returns.
    /// After [`Spooler::shutdown`] the job is still committed but `Err(ShutDown)` says it
    /// waits for the next open.
    /// A slow link (estimated bytes × 10 / baud above `slow_job_secs`) is logged and flagged.
    pub fn enqueue(&self, req: JobRequest) -> Result<JobId, SpoolError> {
        let printer = self.inner.queue.printer(req.printer_id)?.ok_or(SpoolError::UnknownPrinter(req.printer_id))?;
        let est = printer.link.baud().map(|b| (transfer_secs(req.data.len(), b) * 1000.0) as u64);
        let slow = est.is_some_and(|ms| ms > self.inner.config.slow_job_secs * 1000);
        let id = self.inner.queue.insert_job(&NewJob {
            printer_id: req.printer_id,
            key: &req.key,
            format: req.format,
            data: &req.data,
            copy_data: req.copy_data.as_deref(),
            is_copy: req.is_copy,
            est_transfer_ms: est,
            slow,
        })?;
        if slow {
            tracing::warn!(
                job = id,
                printer = printer.name,
                bytes = req.data.len(),
                est_ms = est,
                "job will take long on this link; consider text rendering"
            );
        }
        // The job is committed; a dead worker is restarted on the next open.
        let _ = self.worker(req.printer_id)?.send(Event::JobQueued);
        Ok(id)
    }

    /// One job.
    pub fn job(&self, id: JobId) -> Result<Option<Job>, SpoolError> {
        self.inner.queue.job(id)
    }

    /// Jobs matching `filter`.
    pub fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, SpoolError> {
        self.inner.queue.list_jobs(filter)
    }

    /// Puts a failed, cancelled or paused job back in the queue and wakes its worker.
    pub fn retry(&self, id: JobId) -> Result<(), SpoolError> {
        self.inner.queue.requeue(id)?;
        let job = self.inner.queue.job(id)?.ok_or(SpoolError::UnknownJob(id))?;
        let _ = self.worker(job.printer_id)?.send(Event::JobQueued);
        Ok(())
    }

    /// Cancels a job. A queued, paused or failed job is simply dropped. A job being sent stops
    /// at the next ESC/POS command boundary, prints a line saying it was cancelled and is cut;
    /// the outcome says how many bytes had gone out. A job whose bytes are all at the printer
    /// already (`sent`, or `sending` and waiting for the printer's answer) cannot be stopped,
    /// nor can a finished one: [`SpoolError::InvalidState`] says why.
    pub fn cancel(&self, id: JobId) -> Result<CancelOutcome, SpoolError> {
        let job = self.inner.queue.job(id)?.ok_or(SpoolError::UnknownJob(id))?;
        if job.state != JobState::Sending {
            self.inner.queue.cancel(id)?;
            let note = "cancelled before it was sent".to_string();
            return Ok(CancelOutcome { id, state: "cancelled".into(), bytes_sent: None, bytes_total: None, note });
        }
        let shared = {
            let workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            workers.get(&job.printer_id).map(|w| w.shared.clone())
        };
        let Some(shared) = shared else {
            return Err(SpoolError::InvalidState { id, state: "sending".into(), operation: "cancel" });
        };
        if let Some((pid, sent, total)) = shared.progress()
            && pid == id
            && sent == total
        {
            return Err(SpoolError::AlreadyAtPrinter { id, bytes: total });
        }
        shared.cancel.store(id, std::sync::atomic::Ordering::SeqCst);
        // The worker stops at the next boundary, at most one piece (~1 KB, or one raster band) later.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let now = self.inner.queue.job(id)?.ok_or(SpoolError::UnknownJob(id))?;
            let progress = shared.progress().filter(|p| p.0 == id);
            match now.state {
                JobState::Cancelled => {
                    let note = now.last_error.unwrap_or_default();
                    let (sent, total) = match shared.stopped() {
                        Some((pid, s, t)) if pid == id => (Some(s), Some(t)),
                        _ => (None, None),
                    };
                    return Ok(CancelOutcome {
                        id,
                        state: "cancelled".into(),
                        bytes_sent: sent,
                        bytes_total: total,
                        note,
                    });
                }
                JobState::Sending if progress.is_some_and(|(_, s, t)| s == t) => {
                    shared.cancel.store(0, std::sync::atomic::Ordering::SeqCst);
                    return Err(SpoolError::AlreadyAtPrinter { id, bytes: progress.map(|p| p.2).unwrap_or(0) });
                }
                JobState::Sending if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                JobState::Sending => {
                    let (sent, total) = progress.map(|(_, s, t)| (Some(s), Some(t))).unwrap_or((None, None));
                    let note = "stopping at the next command boundary; GetPrintJobs shows the outcome".to_string();
                    return Ok(CancelOutcome {
                        id,
                        state: "sending".into(),
                        bytes_sent: sent,
                        bytes_total: total,
                        note,
                    });
                }
                other => {
                    shared.cancel.store(0, std::sync::atomic::Ordering::SeqCst);
                    return Err(SpoolError::InvalidState { id, state: other.name().into(), operation: "cancel" });
                }
            }
        }
    }

    /// Shift `shift` of device `kkm` (the `kkm` of its jobs' [`JobKey::Document`]) has closed: its receipts
    /// still waiting for a printer nobody can reach are `failed` with the reason, so they do not come out
    /// hours later in front of the next customers (with `hold_until_shift_close`; RetryPrintJob and a
    /// reprint still print them). Receipts on printers that work are left to print. Returns how many.
    pub fn close_shift(&self, kkm: &str, shift: i64) -> Result<usize, SpoolError> {
        if !self.inner.config.hold_until_shift_close {
            return Ok(0);
        }
        let why = format!(
            "not printed: the printer was unreachable until shift {shift} closed; RetryPrintJob or a reprint prints it"
        );
        let n = self.inner.queue.expire_unreachable_shift(kkm, shift, &why)?;
        if n > 0 {
            tracing::warn!(kkm, shift, jobs = n, "shift closed with receipts its printer never took; given up");
        }
        Ok(n)
    }

    /// Deletes finished jobs (done, cancelled, failed) older than `age`, keeping the queue
    /// file small; returns how many were removed. Unfinished jobs are never touched.
    pub fn purge_finished(&self, age: Duration) -> Result<usize, SpoolError> {
        let age = chrono::Duration::from_std(age).map_err(|e| SpoolError::Config(format!("purge age: {e}")))?;
        let before = (chrono::Utc::now() - age).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.inner.queue.purge_finished(&before)
    }

    /// Every printer known to the database (configured and previously discovered), in id
    /// order. Ids are stable across restarts.
    pub fn printers(&self) -> Result<Vec<PrinterInfo>, SpoolError> {
        Ok(self
            .inner
            .queue
            .printers()?
            .into_iter()
            .map(|r| PrinterInfo {
                id: r.id,
                warning: (r.status_channel == Some(false)).then(|| {
                    format!(
                        "{}: printed without status (no paper-out pause, no confirmation)",
                        worker::NO_STATUS_WARNING
                    )
                }),
                baud: r.link.baud(),
                name: r.name,
                printer_type: r.printer_type,
                link: r.link,
                profile: r.profile,
                configured: r.configured,
            })
            .collect())
    }

    /// Probes for attached printers, records new ones, and returns the configured printers
    /// plus the ones found now (the `GetPrinterList` data).
    pub fn discover(&self) -> Result<Vec<PrinterInfo>, SpoolError> {
        let probe = discovery::Probe { cups: self.inner.config.discover_cups, ..Default::default() };
        self.discover_with(&probe)
    }

    /// [`Spooler::discover`] with explicit probe settings.
    pub fn discover_with(&self, probe: &discovery::Probe) -> Result<Vec<PrinterInfo>, SpoolError> {
        let mut present = std::collections::HashSet::new();
        for f in discovery::discover(probe) {
            let profile = if matches!(f.link, Link::Bluetooth { .. }) { "generic-58" } else { "generic-80" };
            present.insert(self.inner.queue.assign_printer(&f.name, &f.link, profile, false, true)?);
        }
        Ok(self.printers()?.into_iter().filter(|p| p.configured || present.contains(&p.id)).collect())
    }

    /// The profile of a printer (for the caller's render-mode choice).
    pub fn profile(&self, printer: PrinterId) -> Result<PrinterProfile, SpoolError> {
        let row = self.inner.queue.printer(printer)?.ok_or(SpoolError::UnknownPrinter(printer))?;
        Ok(self.profile_of(&row.profile))
    }

    /// All loaded profiles.
    pub fn profiles(&self) -> &BTreeMap<String, PrinterProfile> {
        &self.inner.profiles
    }

    /// Waits until no job is queued, sending or sent, or `timeout` passes; returns whether
    /// the queue is idle. Paused jobs count as busy. For tools and tests.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let busy = self
                .list_jobs(&JobFilter { active_only: true, ..Default::default() })
                .map(|v| !v.is_empty())
                .unwrap_or(true);
            if !busy {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops every worker after its current step and waits for them. A job cut off here is
    /// resumed (as a copy if it was being sent) by the next [`Spooler::open`].
    pub fn shutdown(&self) {
        self.inner.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        let workers: Vec<_> = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        for (_, w) in &workers {
            let _ = w.tx.send(Event::Shutdown);
        }
        for (_, w) in workers {
            let _ = w.join.join();
        }
    }
}
