//! One worker thread per printer. Its loop consumes one closed enum of [`Event`]s, so every
//! cause of a print attempt is visible in a single `match`.
//!
//! Per job: query `DLE EOT` (where the link answers) → commit `sending` → write → query
//! again → `done`. A stop condition before a job pauses it with the reason; a stop after a
//! job leaves it `sent` until the printer recovers. A write or status failure after
//! `sending` marks the job as a copy, because the printer may have printed some or all of
//! it; the resend then carries the copy bytes (or the copy banner) once the printer answers
//! again. Jobs are taken strictly in id order, so a paused head job holds the ones behind it.
use super::config::{DocFormat, Link, SpoolConfig};
use super::profile::PrinterProfile;
use super::queue::{Job, JobState, PrinterId, Queue};
use super::status::PauseReason;
use super::transport::{self, Transport, TransportError};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
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

/// A printer's worker.
pub struct Worker {
    printer: PrinterId,
    link: Link,
    query_status: bool,
    profile: PrinterProfile,
    config: Arc<SpoolConfig>,
    queue: Arc<Queue>,
    rx: Receiver<Event>,
    transport: Option<Box<dyn Transport>>,
}

impl Worker {
    /// Builds a worker; [`Worker::run`] drives it.
    pub fn new(
        printer: PrinterId,
        link: Link,
        query_status: bool,
        profile: PrinterProfile,
        config: Arc<SpoolConfig>,
        queue: Arc<Queue>,
        rx: Receiver<Event>,
    ) -> Self {
        Self { printer, link, query_status, profile, config, queue, rx, transport: None }
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
            match self.process(&job) {
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
        self.query_status && self.link.answers_status()
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
        let t = self.transport()?;
        Ok(t.read_status(timeout)?.and_then(|s| s.blocking_reason()))
    }

    /// Handles the head job once. `Ok(None)` means: go on with the next job.
    fn process(&mut self, job: &Job) -> Result<Option<Next>, super::error::SpoolError> {
        let retry = Next::After(Event::RetryTimer, self.config.retry_interval());
        let poll = Next::After(Event::StatusTick, self.config.poll_interval());
        // 1. Ask the printer first: before a send, and before any resend.
        match self.printer_stop() {
            Ok(None) => {}
            Ok(Some(reason)) => {
                if job.state != JobState::Sent {
                    self.queue.set_state(job.id, &JobState::Paused(reason), None)?;
                }
                tracing::info!(job = job.id, reason = reason.as_str(), "printer stopped");
                return Ok(Some(poll));
            }
            Err(e) => return self.link_failed(job, &e, false).map(|()| Some(retry)),
        }
        // 2. A `sent` job reached the printer, which has now recovered: it printed.
        if job.state == JobState::Sent {
            self.queue.set_state(job.id, &JobState::Done, None)?;
            return Ok(None);
        }
        if self.config.max_attempts > 0 && job.attempts >= self.config.max_attempts {
            let why = format!("gave up after {} attempts", job.attempts);
            self.queue.set_state(job.id, &JobState::Failed(why), None)?;
            return Ok(None);
        }
        // 3. Found in `sending`: the previous process died mid-job. Resend as a copy.
        let copy = job.is_copy || job.state == JobState::Sending;
        let bytes = bytes_for(job, copy, &self.profile);
        self.queue.mark_sending(job.id, copy)?;
        if let Some(ms) = job.est_transfer_ms.filter(|_| job.slow) {
            tracing::warn!(
                job = job.id,
                est_secs = ms / 1000,
                "slow link: job transfer estimated above the configured limit"
            );
        }
        let file_name = format!("{}.{}", job.id, job.format.extension());
        let sent = self.transport().and_then(|t| t.write_all(&bytes).and_then(|()| t.end_job(&file_name)));
        if let Err(e) = sent {
            let started = !e.delivered_nothing();
            return self.link_failed(job, &e, started).map(|()| Some(retry));
        }
        // 4. Ask again: the answer also proves every byte before it reached the printer.
        match self.printer_stop() {
            Ok(None) => {
                self.queue.set_state(job.id, &JobState::Done, None)?;
                tracing::info!(job = job.id, copy, "printed");
                Ok(None)
            }
            Ok(Some(reason)) => {
                self.queue.set_state(job.id, &JobState::Sent, None)?;
                tracing::info!(job = job.id, reason = reason.as_str(), "printer stopped after job");
                Ok(Some(poll))
            }
            Err(e) => self.link_failed(job, &e, true).map(|()| Some(retry)),
        }
    }

    /// Records a link failure. `started`: bytes may have reached the printer.
    fn link_failed(&mut self, job: &Job, e: &TransportError, started: bool) -> Result<(), super::error::SpoolError> {
        self.transport = None;
        tracing::warn!(job = job.id, kind = ?e.kind(), "printer link: {e}");
        let msg = e.to_string();
        if started || (job.state == JobState::Sending && !e.delivered_nothing()) {
            self.queue.mark_interrupted(job.id, PauseReason::Unreachable, &msg)
        } else if job.state == JobState::Sent {
            // Bytes are at the printer; only the confirmation is missing.
            self.queue.set_state(job.id, &JobState::Sent, Some(&msg))
        } else {
            self.queue.set_state(job.id, &JobState::Paused(PauseReason::Unreachable), Some(&msg))
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
