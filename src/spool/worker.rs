//! One worker thread per printer. Its loop consumes one closed enum of [`Event`]s, so every
//! cause of a print attempt is visible in a single `match`.
//!
//! Per job: query `DLE EOT` (where the link answers) → open the link → commit `sending` → write
//! (the final command once the printer has taken the rest) → query again → `done`. A stop
//! condition before a job pauses it with the reason, and so does a link that cannot be opened
//! (no send); a stop after a job leaves it `sent` until the printer recovers. A write or status
//! failure after `sending` marks the job interrupted: once the printer answers again it is resent
//! as the original when it cannot have come out whole (its cut counter says so, or its final
//! command never left), else as a copy (the copy bytes, or the copy banner). Jobs are taken
//! strictly in id order, so a paused head job holds the ones behind it.
use super::config::{DocFormat, Link, SpoolConfig};
use super::profile::PrinterProfile;
use super::queue::{Job, JobId, JobState, PrinterId, PrinterRow, Queue};
use super::status::PauseReason;
use super::transport::{self, Transport, TransportError};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Everything that can make a worker act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A job was committed for this printer.
    JobQueued,
    /// Time to ask a paused printer whether it recovered.
    StatusTick,
    /// Time to retry after a link error.
    RetryTimer,
    /// Stop after the current step.
    Shutdown,
}

/// What the worker waits for after a pump.
enum Next {
    /// Nothing to do until a job arrives.
    Idle,
    /// Fire `Event` after the delay.
    After(Event, Duration),
}

/// The text of the copy banner. Cyrillic goes in CP866 when the profile lists it.
pub const COPY_BANNER_TEXT: &str = "КОПИЯ / COPY (reprint)";
/// The ASCII banner used when the printer has no CP866.
pub const COPY_BANNER_ASCII: &str = "COPY (reprint)";

/// The bytes printed before a resent ESC/POS job that has no caller-supplied copy bytes:
/// cancel Kanji mode, select CP866 if the profile has it, a bold centred banner line, then
/// `ESC @` so the job starts from a clean printer state.
pub fn copy_banner(profile: &PrinterProfile) -> Vec<u8> {
    let mut b = vec![0x1C, 0x2E]; // FS . : no double-byte mode
    match profile.esc_t("cp866") {
        Some(n) => {
            b.extend_from_slice(&[0x1B, 0x74, n]);
            let (text, _, _) = encoding_rs::IBM866.encode(COPY_BANNER_TEXT);
            b.extend_from_slice(&[0x1B, 0x61, 1, 0x1B, 0x45, 1]);
            b.extend_from_slice(&text);
        }
        None => {
            b.extend_from_slice(&[0x1B, 0x61, 1, 0x1B, 0x45, 1]);
            b.extend_from_slice(COPY_BANNER_ASCII.as_bytes());
        }
    }
    b.extend_from_slice(&[b'\n', 0x1B, 0x45, 0, 0x1B, 0x61, 0, 0x1B, 0x40]);
    b
}

/// The bytes to send for `job`: the original, or for a copy the caller's copy bytes, else
/// the banner + original (ESC/POS), a text line + original (text), or the original (PNG,
/// where only the job record says it is a copy).
pub fn bytes_for(job: &Job, copy: bool, profile: &PrinterProfile) -> Vec<u8> {
    if !copy {
        return job.data.clone();
    }
    if let Some(c) = &job.copy_data {
        return c.clone();
    }
    match job.format {
        DocFormat::EscPos => {
            let mut b = copy_banner(profile);
            b.extend_from_slice(&job.data);
            b
        }
        DocFormat::Text => {
            let mut b = format!("{COPY_BANNER_TEXT}\n").into_bytes();
            b.extend_from_slice(&job.data);
            b
        }
        DocFormat::Png => job.data.clone(),
    }
}

/// What a worker shares with the spooler handle: the job the caller wants stopped and how far
/// the current send has got.
#[derive(Debug, Default)]
pub struct WorkerShared {
    /// Id of a job to stop at the next command boundary (0: none).
    pub cancel: AtomicI64,
    /// The job being written: (id, bytes handed to the link, total bytes).
    pub progress: Mutex<Option<(JobId, usize, usize)>>,
    /// The last job stopped by a cancel: (id, bytes sent, total bytes).
    stopped: Mutex<Option<(JobId, usize, usize)>>,
}

impl WorkerShared {
    fn set_progress(&self, p: Option<(JobId, usize, usize)>) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }

    /// The last job stopped by a cancel: (id, bytes sent, total bytes).
    pub fn stopped(&self) -> Option<(JobId, usize, usize)> {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current send's progress, if one is running.
    pub fn progress(&self) -> Option<(JobId, usize, usize)> {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How a write ended.
enum Written {
    /// Every byte went to the link.
    All,
    /// The caller cancelled; the job stopped after this many bytes (at a command boundary).
    Cancelled(usize),
}

/// What the log and `GetPrinterList` say about a printer found without a status back-channel.
pub const NO_STATUS_WARNING: &str = "the printer never answered a status query (DLE EOT) although it takes data";

/// The line printed under a receipt stopped by `CancelPrintJob`, so nobody takes it for whole.
pub const CANCELLED_LINE: &str = "*** CANCELLED / ОТМЕНЕНО ***";

/// A printer's worker.
pub struct Worker {
    printer: PrinterId,
    name: String,
    link: Link,
    query_status: bool,
    /// See [`super::queue::PrinterRow::status_channel`].
    status_channel: Option<bool>,
    profile: PrinterProfile,
    config: Arc<SpoolConfig>,
    queue: Arc<Queue>,
    rx: Receiver<Event>,
    transport: Option<Box<dyn Transport>>,
    shared: Arc<WorkerShared>,
}

impl Worker {
    /// Builds a worker for the printer `row`; [`Worker::run`] drives it.
    pub fn new(
        row: PrinterRow,
        profile: PrinterProfile,
        config: Arc<SpoolConfig>,
        queue: Arc<Queue>,
        rx: Receiver<Event>,
        shared: Arc<WorkerShared>,
    ) -> Self {
        Self {
            printer: row.id,
            name: row.name,
            link: row.link,
            query_status: row.query_status,
            status_channel: row.status_channel,
            profile,
            config,
            queue,
            rx,
            transport: None,
            shared,
        }
    }

    /// The loop. Starts with a pump so jobs left from before a restart go out.
    pub fn run(mut self) {
        let mut timer: Option<(Instant, Event)> = None;
        let mut event = Event::JobQueued;
        loop {
            match event {
                Event::Shutdown => break,
                // While waiting out a pause or a retry delay, new jobs just join the queue.
                Event::JobQueued if timer.is_some() => {}
                Event::JobQueued | Event::StatusTick | Event::RetryTimer => {
                    timer = match self.pump() {
                        Next::Idle => None,
                        Next::After(ev, d) => Some((Instant::now() + d, ev)),
                    };
                }
            }
            event = match timer {
                None => self.rx.recv().unwrap_or(Event::Shutdown),
                Some((at, ev)) => match self.rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(e) => e,
                    Err(RecvTimeoutError::Timeout) => {
                        timer = None;
                        ev
                    }
                    Err(RecvTimeoutError::Disconnected) => Event::Shutdown,
                },
            };
        }
        tracing::debug!(printer = self.printer, "spool worker stopped");
    }

    fn pump(&mut self) -> Next {
        loop {
            let job = match self.queue.next_job(self.printer) {
                Ok(Some(job)) => job,
                Ok(None) => {
                    self.transport = None; // release the device between bursts
                    return Next::Idle;
                }
                Err(e) => {
                    tracing::error!(printer = self.printer, "spool queue read failed: {e}");
                    return Next::After(Event::RetryTimer, self.config.retry_interval());
                }
            };
            let done = self.process(&job);
            self.shared.set_progress(None);
            match done {
                Ok(None) => {}
                Ok(Some(next)) => return next,
                Err(e) => {
                    tracing::error!(job = job.id, "spool queue write failed: {e}");
                    return Next::After(Event::RetryTimer, self.config.retry_interval());
                }
            }
        }
    }

    fn answers_status(&self) -> bool {
        self.query_status && self.link.answers_status() && self.status_channel != Some(false)
    }

    fn transport(&mut self) -> Result<&mut Box<dyn Transport>, TransportError> {
        if self.transport.is_none() {
            let opts = transport::LinkOptions {
                io_timeout: self.config.io_timeout(),
                chunk_bytes: self.config.chunk_bytes,
                pace: self.config.pace_serial,
            };
            self.transport = Some(transport::open(&self.link, &opts)?);
        }
        self.transport
            .as_mut()
            .ok_or_else(|| TransportError::new(transport::ErrorKind::Other, self.link.key(), "transport vanished"))
    }

    /// Asks for status. `Ok(None)`: printer can print (or cannot tell).
    fn printer_stop(&mut self) -> Result<Option<PauseReason>, TransportError> {
        if !self.answers_status() {
            return Ok(None);
        }
        let timeout = self.config.status_timeout();
        let first = self.transport()?.read_status(timeout);
        let answer = match first {
            // A printer that never answered may have no back-channel at all (many clones and Bluetooth
            // modules): asked twice on a link that took both queries, it is printed to without status.
            Err(e) if e.kind() == transport::ErrorKind::TimedOut && self.status_channel.is_none() => {
                match self.transport()?.read_status(timeout) {
                    Err(e) if e.kind() == transport::ErrorKind::TimedOut => {
                        self.no_status_channel()?;
                        return Ok(None);
                    }
                    other => other,
                }
            }
            other => other,
        }?;
        if answer.is_some() && self.status_channel != Some(true) {
            self.status_channel = Some(true);
            self.remember_status_channel(true);
        }
        Ok(answer.and_then(|s| s.blocking_reason()))
    }

    /// The printer takes data but never answered `DLE EOT`: print without status from now on, saying so
    /// once in the log and in `GetPrinterList`.
    fn no_status_channel(&mut self) -> Result<(), TransportError> {
        self.status_channel = Some(false);
        self.remember_status_channel(false);
        tracing::warn!(
            printer = self.printer,
            name = self.name,
            "{}; printing without status (set query_status = false for this printer to skip the check)",
            NO_STATUS_WARNING
        );
        Ok(())
    }

    fn remember_status_channel(&self, answers: bool) {
        if let Err(e) = self.queue.set_status_channel(self.printer, answers) {
            tracing::error!(printer = self.printer, "spool queue write failed: {e}");
        }
    }

    /// The printer's autocutter count, where its profile has one and the link answers.
    fn cut_count(&mut self) -> Result<Option<u64>, TransportError> {
        if !(self.answers_status() && self.profile.cut_counter) {
            return Ok(None);
        }
        let timeout = self.config.status_timeout();
        match self.transport()?.read_cut_count(timeout) {
            // A printer profiled with a counter it does not have must not stop the queue: it
            // is treated as one that cannot tell.
            Err(e) if e.kind() == transport::ErrorKind::TimedOut => {
                tracing::warn!(printer = self.printer, "no answer to GS g 2; is cut_counter right for this profile?");
                Ok(None)
            }
            other => other,
        }
    }

    /// How long the printer may take to answer a status query sent right after `bytes`: the
    /// whole transfer again at the link's speed (the printer answers only once it has read
    /// them) plus the time to print them, plus the plain answer timeout.
    pub fn confirm_budget(&self, bytes: &[u8]) -> Duration {
        let bytes_per_sec = self.link.baud().map(|b| b / 10).unwrap_or(self.config.assumed_bytes_per_sec).max(1);
        let transfer = bytes.len() as f64 / f64::from(bytes_per_sec);
        let print = self.profile.print_secs_at_most(bytes);
        self.config.status_timeout() + Duration::from_secs_f64(1.5 * transfer + print)
    }

    /// Handles the head job once. `Ok(None)` means: go on with the next job.
    fn process(&mut self, job: &Job) -> Result<Option<Next>, super::error::SpoolError> {
        let retry = Next::After(Event::RetryTimer, self.config.retry_interval());
        let poll = Next::After(Event::StatusTick, self.config.poll_interval());
        // 0. A receipt that waited longer than the shop holds one for an unreachable printer is given up,
        // with the reason; RetryPrintJob still prints it.
        if let Some(why) = self.held_too_long(job) {
            tracing::warn!(job = job.id, "{why}");
            self.queue.set_state(job.id, &JobState::Failed(why), None)?;
            return Ok(None);
        }
        // 1. Ask the printer first: before a send, and before any resend.
        match self.printer_stop() {
            Ok(None) => {}
            Ok(Some(reason)) => {
                // Said once when the printer stops; the polls while it stays stopped are quiet.
                let known = job.state == JobState::Sent || job.state == JobState::Paused(reason);
                if known {
                    tracing::debug!(job = job.id, reason = reason.as_str(), "printer still stopped");
                } else {
                    self.queue.set_state(job.id, &JobState::Paused(reason), None)?;
                    tracing::info!(job = job.id, reason = reason.as_str(), "printer stopped");
                }
                return Ok(Some(poll));
            }
            Err(e) => return self.link_failed(job, &e, false).map(|()| Some(retry)),
        }
        // 2. A `sent` job reached the printer, which has now recovered: it printed.
        if job.state == JobState::Sent {
            self.queue.set_state(job.id, &JobState::Done, None)?;
            return Ok(None);
        }
        if self.shared.cancel.load(Ordering::SeqCst) == job.id {
            self.shared.cancel.store(0, Ordering::SeqCst);
            self.queue.mark_cancelled_while_sending(job.id, "cancelled before it was sent again")?;
            return Ok(None);
        }
        // 3. A send broke off (or the process died mid-job): before sending anything again, find out
        // whether the receipt can have come out whole.
        let mut copy = job.is_copy;
        if job.interrupted || job.state == JobState::Sending {
            match self.cut_count() {
                Ok(Some(now)) if job.cuts_before.is_some_and(|before| now > before) => {
                    self.queue.set_state(job.id, &JobState::Done, None)?;
                    tracing::info!(job = job.id, "the printer counted the job's cut: printed, not resent");
                    return Ok(None);
                }
                // Not cut: no complete receipt reached the customer, so the resend is the
                // original (or the reprint it already was).
                Ok(Some(_)) if job.cuts_before.is_some() => {}
                // The printer cannot tell, but its final command (the cut or the tear-off feed) never
                // left the host: the receipt never came out whole, so the resend is the original.
                Ok(_) if !job.tail_sent => {}
                // It may have printed whole: the resend is marked a copy.
                Ok(_) => copy = true,
                Err(e) => return self.link_failed(job, &e, false).map(|()| Some(retry)),
            }
        }
        if self.config.max_attempts > 0 && job.attempts >= self.config.max_attempts {
            let why = format!(
                "gave up after {} sends; last error: {}",
                job.attempts,
                job.last_error.as_deref().unwrap_or("none")
            );
            self.queue.set_state(job.id, &JobState::Failed(why), None)?;
            return Ok(None);
        }
        let cuts_before = match self.cut_count() {
            Ok(c) => c,
            Err(e) => return self.link_failed(job, &e, false).map(|()| Some(retry)),
        };
        // 4. Open the link before `sending` is committed: a printer that is off, unplugged or behind a
        // stopped spooler refuses the connection or the device, and a refused open sends nothing. The
        // job waits, paused with the reason, and is neither a copy nor a counted attempt for it.
        if let Err(e) = self.transport() {
            return self.link_failed(job, &e, false).map(|()| Some(retry));
        }
        let bytes = bytes_for(job, copy, &self.profile);
        self.queue.mark_sending(job.id, copy, cuts_before)?;
        if let Some(ms) = job.est_transfer_ms.filter(|_| job.slow) {
            tracing::warn!(
                job = job.id,
                est_secs = ms / 1000,
                "slow link: job transfer estimated above the configured limit"
            );
        }
        let file_name = format!("{}.{}", job.id, job.format.extension());
        let written = self.write_job(job.id, job.format, &bytes);
        let sent = written.and_then(|w| match w {
            Written::All => self.transport().and_then(|t| t.end_job(&file_name)).map(|()| None),
            Written::Cancelled(at) => Ok(Some(at)),
        });
        match sent {
            Ok(None) => {}
            Ok(Some(at)) => return self.stopped_by_cancel(job.id, at, bytes.len()).map(|()| None),
            Err(e) if e.delivered_nothing() => {
                // Nothing left the host (CUPS refused or could not be reached): as if never tried.
                self.transport = None;
                self.log_unreachable(job, &e);
                self.queue.mark_unsent(job, &e.to_string())?;
                return Ok(Some(retry));
            }
            Err(e) => return self.link_failed(job, &e, true).map(|()| Some(retry)),
        }
        // 5. Ask again: the answer also proves every byte before it reached the printer.
        self.confirm(job, &bytes, copy)
    }

    /// Why `job` is given up for an unreachable printer, when it waited longer than `hold_unreachable_secs`.
    fn held_too_long(&self, job: &Job) -> Option<String> {
        let hold = self.config.hold_unreachable_secs;
        if hold == 0 || job.state != JobState::Paused(PauseReason::Unreachable) {
            return None;
        }
        let created = chrono::DateTime::parse_from_rfc3339(&job.created_at).ok()?;
        let waited = chrono::Utc::now().signed_duration_since(created).num_seconds();
        (waited > i64::try_from(hold).unwrap_or(i64::MAX)).then(|| {
            format!(
                "not printed: the printer was unreachable for {waited} s, longer than hold_unreachable_secs = {hold} \
                 (last error: {}); RetryPrintJob prints it when the printer is back",
                job.last_error.as_deref().unwrap_or("none")
            )
        })
    }

    /// Writes `bytes` in pieces that end on ESC/POS command boundaries, checking between
    /// pieces whether the caller cancelled the job. The final command (the cut, or the tear-off feed
    /// of a printer without a cutter) goes alone, after [`Queue::mark_tail_sent`] is committed.
    fn write_job(&mut self, id: JobId, format: DocFormat, bytes: &[u8]) -> Result<Written, TransportError> {
        let mut ends = match format {
            DocFormat::EscPos => super::emulator::escpos::piece_ends(bytes, 1024),
            _ => vec![bytes.len()],
        };
        let tail = match format {
            DocFormat::EscPos => super::emulator::escpos::last_command_start(bytes),
            _ => 0,
        };
        if tail > 0 && !ends.contains(&tail) {
            let at = ends.partition_point(|&e| e < tail);
            ends.insert(at, tail);
        }
        let shared = self.shared.clone();
        let mut from = 0;
        shared.set_progress(Some((id, 0, bytes.len())));
        for end in ends {
            if shared.cancel.load(Ordering::SeqCst) == id {
                return Ok(Written::Cancelled(from));
            }
            if end == bytes.len() {
                // The cut goes only once the printer has taken the rest: if it is switched off or
                // unplugged before, the receipt never came out whole and its resend is the original.
                let budget = self.confirm_budget(bytes);
                match self.transport()?.drain(budget) {
                    Err(e) if e.kind() != transport::ErrorKind::TimedOut => return Err(e),
                    _ => {}
                }
                if let Err(e) = self.queue.mark_tail_sent(id) {
                    return Err(TransportError::new(transport::ErrorKind::Other, "spool queue", e.to_string()));
                }
            }
            self.transport()?.write_all(&bytes[from..end])?;
            from = end;
            shared.set_progress(Some((id, from, bytes.len())));
        }
        Ok(Written::All)
    }

    /// Ends a receipt stopped part-way: a line saying so and a cut, so the next job starts on
    /// a fresh piece of paper. Nothing is printed if nothing had been sent.
    fn stopped_by_cancel(&mut self, id: JobId, at: usize, total: usize) -> Result<(), super::error::SpoolError> {
        self.shared.cancel.store(0, Ordering::SeqCst);
        *self.shared.stopped.lock().unwrap_or_else(|e| e.into_inner()) = Some((id, at, total));
        let note = if at == 0 {
            "cancelled while sending, before any byte reached the printer".to_string()
        } else {
            let mut tail = vec![b'\n', 0x1B, b'@', 0x1B, b'a', 1];
            match self.profile.esc_t("cp866") {
                Some(n) => {
                    tail.extend_from_slice(&[0x1B, b't', n]);
                    tail.extend_from_slice(&encoding_rs::IBM866.encode(CANCELLED_LINE).0);
                }
                None => tail.extend_from_slice(b"*** CANCELLED ***"),
            }
            tail.extend_from_slice(&[b'\n', 0x1B, b'a', 0, 0x1B, b'd', 3]);
            tail.extend_from_slice(if self.profile.cutter { &[0x1D, b'V', 66, 0] } else { &[0x1B, b'd', 2] });
            if let Err(e) = self.transport().and_then(|t| t.write_all(&tail)) {
                self.transport = None;
                tracing::warn!(job = id, "printer link while ending a cancelled receipt: {e}");
            }
            format!(
                "cancelled while sending: {at} of {total} bytes had gone to the printer; the part printed ends with \
                 {CANCELLED_LINE:?}"
            )
        };
        tracing::info!(job = id, "{note}");
        self.queue.mark_cancelled_while_sending(id, &note)
    }

    /// Waits for the printer's answer after a job: in proportion to what may still be in its
    /// buffer, and a late answer is waited for again (up to `confirm_attempts`), never taken
    /// as a lost job. A job that stays unconfirmed is `failed` with the reason, not resent.
    fn confirm(&mut self, job: &Job, bytes: &[u8], copy: bool) -> Result<Option<Next>, super::error::SpoolError> {
        let retry = Next::After(Event::RetryTimer, self.config.retry_interval());
        let poll = Next::After(Event::StatusTick, self.config.poll_interval());
        if !self.answers_status() {
            self.queue.set_state(job.id, &JobState::Done, None)?;
            tracing::info!(job = job.id, copy, "sent (the link cannot confirm)");
            return Ok(None);
        }
        let budget = self.confirm_budget(bytes);
        let attempts = self.config.confirm_attempts.max(1);
        let started = Instant::now();
        for attempt in 1..=attempts {
            let answer = self.transport().and_then(|t| t.read_status(budget));
            match answer {
                Ok(status) => match status.and_then(|s| s.blocking_reason()) {
                    None => {
                        self.queue.set_state(job.id, &JobState::Done, None)?;
                        tracing::info!(job = job.id, copy, secs = started.elapsed().as_secs_f64(), "printed");
                        return Ok(None);
                    }
                    Some(reason) => {
                        self.queue.set_state(job.id, &JobState::Sent, None)?;
                        tracing::info!(job = job.id, reason = reason.as_str(), "printer stopped after job");
                        return Ok(Some(poll));
                    }
                },
                Err(e) if e.kind() == transport::ErrorKind::TimedOut => {
                    let msg = format!(
                        "late: no status answer {:.0} s after the job (query {attempt} of {attempts}); the printer may \
                         still be printing",
                        budget.as_secs_f64()
                    );
                    tracing::warn!(job = job.id, "{msg}");
                    self.queue.set_state(job.id, &JobState::Sent, Some(&msg))?;
                }
                Err(e) => return self.link_failed(job, &e, true).map(|()| Some(retry)),
            }
        }
        self.transport = None;
        let why = format!(
            "unconfirmed: the printer did not answer {attempts} status queries over {:.0} s after the whole job was \
             sent; it may have printed, so it is not resent (check the paper; RetryPrintJob prints it again)",
            started.elapsed().as_secs_f64()
        );
        tracing::error!(job = job.id, "{why}");
        self.queue.set_state(job.id, &JobState::Failed(why), None)?;
        Ok(None)
    }

    /// Records a link failure. `started`: bytes may have reached the printer.
    fn link_failed(&mut self, job: &Job, e: &TransportError, started: bool) -> Result<(), super::error::SpoolError> {
        self.transport = None;
        let msg = e.to_string();
        if started || (job.state == JobState::Sending && !e.delivered_nothing()) {
            tracing::warn!(job = job.id, kind = ?e.kind(), "printer link broke during the job: {e}");
            self.queue.mark_interrupted(job.id, PauseReason::Unreachable, &msg)
        } else if job.state == JobState::Sent {
            // Bytes are at the printer; only the confirmation is missing.
            tracing::warn!(job = job.id, kind = ?e.kind(), "printer link: {e}");
            self.queue.set_state(job.id, &JobState::Sent, Some(&msg))
        } else {
            self.log_unreachable(job, e);
            self.queue.set_state(job.id, &JobState::Paused(PauseReason::Unreachable), Some(&msg))
        }
    }

    /// Says once that the printer cannot be reached; the retries while it stays so are quiet.
    fn log_unreachable(&self, job: &Job, e: &TransportError) {
        if job.state == JobState::Paused(PauseReason::Unreachable) {
            tracing::debug!(job = job.id, kind = ?e.kind(), "printer still unreachable: {e}");
        } else {
            tracing::warn!(job = job.id, kind = ?e.kind(), "printer unreachable; the job waits for it: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spool::emulator::escpos::Interpreter;

    fn decode(profile: &PrinterProfile, bytes: &[u8]) -> Vec<String> {
        let mut i = Interpreter::new(profile.clone());
        let mut all = bytes.to_vec();
        all.extend_from_slice(&[0x1D, b'V', 0]);
        let out = i.feed(&all, Default::default());
        out.jobs.into_iter().flat_map(|j| j.lines).collect()
    }

    #[test]
    fn copy_banner_decodes_in_cp866_or_falls_back_to_ascii() {
        let profiles = crate::spool::profile::embedded().expect("profiles");
        let epson = &profiles["epson-tm-t20"];
        assert_eq!(decode(epson, &copy_banner(epson)), [COPY_BANNER_TEXT]);
        let mut bare = epson.clone();
        bare.code_pages.retain(|c| c.encoding != "cp866");
        assert_eq!(decode(&bare, &copy_banner(&bare)), [COPY_BANNER_ASCII]);
        // The banner ends with ESC @ so the job after it starts from a clean state.
        assert!(copy_banner(epson).ends_with(&[0x1B, 0x40]));
    }
}
