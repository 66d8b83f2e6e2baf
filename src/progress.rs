//! Progress of long work: the start-up integrity check, migrations, delivering a queue after an OFD outage,
//! a copy of the store. On a terminal (stderr, text logs) an `indicatif` bar or spinner; otherwise a log line
//! every few seconds, so a journal shows the work is alive without a line per step. Work that ends within the
//! interval leaves no trace at info.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a log line reports work that goes on.
pub const EVERY: Duration = Duration::from_secs(5);

static JSON_LOGS: AtomicBool = AtomicBool::new(false);

/// Called by `logging::init`: JSON logs go to a collector, never to a person watching a bar.
pub fn set_log_format(format: crate::logging::LogFormat) {
    JSON_LOGS.store(format == crate::logging::LogFormat::Json, Ordering::Relaxed);
}

/// Whether progress is drawn as a bar: stderr is a terminal and the logs are text.
pub fn on_terminal() -> bool {
    std::io::stderr().is_terminal() && !JSON_LOGS.load(Ordering::Relaxed)
}

/// Work counted in steps (documents, migrations, pages).
pub struct Progress {
    what: String,
    unit: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_line: Instant,
    every: Duration,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `what` names the work ("delivering KKM 6923's queue to the OFD"), `unit` its steps ("documents").
    pub fn new(what: impl Into<String>, total: Option<u64>, unit: &'static str) -> Progress {
        Progress::with_interval(what, total, unit, EVERY, on_terminal())
    }

    /// As [`Progress::new`], with the interval of the log lines and whether to draw a bar.
    pub fn with_interval(
        what: impl Into<String>,
        total: Option<u64>,
        unit: &'static str,
        every: Duration,
        terminal: bool,
    ) -> Progress {
        let what = what.into();
        let bar = terminal.then(|| {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            };
            let template = if total.is_some() {
                "{msg} [{bar:30}] {pos}/{len} {prefix} ({elapsed}, {eta} left)"
            } else {
                "{spinner} {msg}: {pos} {prefix} ({elapsed})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what.clone());
            bar.set_prefix(unit);
            bar
        });
        let now = Instant::now();
        Progress { what, unit, total, done: 0, started: now, last_line: now, every, bar }
    }

    /// `n` more steps done.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.last_line.elapsed() >= self.every => {
                self.last_line = Instant::now();
                tracing::info!(done = self.done, total = self.total, "{}: {}", self.what, self.counted());
            }
            None => {}
        }
    }

    /// Steps done so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    fn counted(&self) -> String {
        let secs = self.started.elapsed().as_secs();
        match self.total {
            Some(total) => format!("{} of {total} {} ({secs} s so far)", self.done, self.unit),
            None => format!("{} {} ({secs} s so far)", self.done, self.unit),
        }
    }

    /// The work is over: the bar is cleared; the log says how long it took when that was longer than the
    /// interval (one line at debug otherwise).
    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let took = self.started.elapsed();
        let secs = format!("{:.1}", took.as_secs_f64());
        if took >= self.every {
            tracing::info!(done = self.done, secs, "{}: done, {} {}", self.what, self.done, self.unit);
        } else {
            tracing::debug!(done = self.done, secs, "{}: done, {} {}", self.what, self.done, self.unit);
        }
    }
}

/// Runs `work`, which cannot count its steps (one long SQLite statement), with a spinner on a terminal or
/// a log line every [`EVERY`] otherwise.
pub fn while_running<T>(what: &str, work: impl FnOnce() -> T) -> T {
    while_running_every(what, EVERY, on_terminal(), work)
}

/// [`while_running`] with its interval and display chosen by the caller.
pub fn while_running_every<T>(what: &str, every: Duration, terminal: bool, work: impl FnOnce() -> T) -> T {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let what_owned = what.to_owned();
    // The ticker logs where the caller would: the same subscriber and span.
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    let span = tracing::Span::current();
    let ticker = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            let _entered = span.enter();
            let started = Instant::now();
            // Quick work shows nothing: the spinner appears after a second, the first log line after `every`.
            let first = if terminal { Duration::from_secs(1) } else { every };
            if wait.recv_timeout(first).is_ok() {
                return;
            }
            let spinner = terminal.then(|| {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                    bar.set_style(style);
                }
                bar.set_message(what_owned.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            loop {
                if spinner.is_none() {
                    tracing::info!(secs = started.elapsed().as_secs(), "{what_owned}: still running");
                }
                match wait.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            }
            if let Some(bar) = spinner {
                bar.finish_and_clear();
            }
            tracing::info!(secs = started.elapsed().as_secs(), "{what_owned}: done");
        })
    });
    let result = work();
    let _ = done.send(());
    let _ = ticker.join();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Captures log lines written while `f` runs.
    fn logged(f: impl FnOnce()) -> String {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Writer(sink.clone()))
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn without_a_terminal_long_work_logs_a_line_every_interval_and_one_at_the_end() {
        let text = logged(|| {
            let mut p =
                Progress::with_interval("delivering the queue", Some(6), "documents", Duration::from_millis(40), false);
            for _ in 0..6 {
                std::thread::sleep(Duration::from_millis(25));
                p.advance(1);
            }
            p.finish();
        });
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.iter().any(|l| l.contains(" of 6 documents (")), "{text}");
        assert!(lines.last().is_some_and(|l| l.contains("delivering the queue: done, 6 documents")), "{text}");
        assert!(lines.len() <= 5, "not one line per step: {text}");
    }

    #[test]
    fn quick_work_leaves_no_line_at_info() {
        let text = logged(|| {
            let mut p = Progress::with_interval("copying", Some(3), "pages", Duration::from_secs(5), false);
            p.advance(3);
            p.finish();
            while_running_every("checking", Duration::from_secs(5), false, || ());
        });
        assert_eq!(text, "");
    }

    #[test]
    fn work_without_steps_says_it_is_still_running() {
        let text = logged(|| {
            let answer = while_running_every("integrity check", Duration::from_millis(30), false, || {
                std::thread::sleep(Duration::from_millis(100));
                42
            });
            assert_eq!(answer, 42);
        });
        assert!(text.contains("integrity check: still running"), "{text}");
        assert!(text.lines().last().is_some_and(|l| l.contains("integrity check: done")), "{text}");
    }
}
