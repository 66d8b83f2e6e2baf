//! What an operator reads in the log while the paper is out: one INFO line when the printer
//! stops, not one per status poll; and the job's `last_error` is gone once it printed.
// Its own test binary (Cargo.toml): the subscriber below is process-wide, so a spooler of another test in
// the same process would add its "printer stopped" lines to the count.
mod spool_util;

use kassa::spool::config::{DocFormat, Link};
use kassa::spool::emulator::Emulator;
use kassa::spool::status::{PauseReason, PrinterStatus};
use kassa::spool::{JobKey, JobRequest, JobState, Spooler};
use spool_util::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing_subscriber::layer::SubscriberExt;

/// Counts INFO-or-louder events whose message mentions "stopped".
struct CountStops(Arc<AtomicUsize>);

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStops {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() > tracing::Level::INFO {
            return;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        if m.0.contains("stopped") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn paper_out_is_logged_once_not_at_every_poll_and_the_error_clears_after_printing() {
    let stops = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(CountStops(stops.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber in this test binary");

    let emu = Emulator::new(profile58());
    let port = emu.listen_tcp("127.0.0.1:0").expect("listen").port();
    let dir = tempfile::tempdir().expect("tempdir");
    // Polls every 30 ms: two seconds of paper out are ~60 status polls.
    let spooler = Spooler::open(dir.path(), fast_config(vec![("net", Link::Tcp { host: "127.0.0.1".into(), port })]))
        .expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    emu.set_status(PrinterStatus { paper_out: true, offline: true, ..Default::default() });
    let id = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("JOB 01".into()), DocFormat::EscPos, text_job("JOB 01", 3)))
        .expect("enqueue");
    assert!(wait_until(
        || spooler.job(id).ok().flatten().map(|j| j.state) == Some(JobState::Paused(PauseReason::PaperOut))
    ));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let queries = emu.log().iter().filter(|e| **e == kassa::spool::emulator::EmuEvent::StatusQuery).count();
    assert!(queries > 20, "the printer was polled ({queries} queries)");
    assert_eq!(stops.load(Ordering::SeqCst), 1, "one INFO line for the stop");

    emu.set_status(PrinterStatus::default());
    assert!(spooler.wait_idle(PATIENCE));
    let job = spooler.job(id).expect("q").expect("job");
    assert_eq!(job.state, JobState::Done);
    assert!(job.last_error.is_none());
    spooler.shutdown();
    emu.stop();
}
