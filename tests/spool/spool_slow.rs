//! Slow and flaky printers: the emulator reads at a serial link's speed (11 520 B/s = 115 200
//! baud, 960 B/s = 9 600 baud, 8 000 B/s = a printer slower than its link) over TCP and over a
//! pseudo-terminal. Every job prints exactly once, none as a copy, in order; the spooler's
//! default status timeout (1 s) is kept, so a fixed wait would fail these tests.
//!
//! Time: the 50 KB raster at 960 B/s takes ~52 s and runs once (over the pty); the other cases
//! take a few seconds each, and the tests run in parallel.
use crate::spool_util;

use kassa::spool::config::{DocFormat, FlowControl, Link, SpoolConfig};
use kassa::spool::emulator::Emulator;
use kassa::spool::profile::PrinterProfile;
use kassa::spool::{JobKey, JobRequest, JobState, Spooler};
use spool_util::*;

/// About 50 KB: 1 050 raster rows of 48 bytes, in bands of 64 rows (3 KB per command).
fn raster_50k() -> Vec<u8> {
    raster_job(&test_bitmap(1050), 64)
}

/// The spooler defaults a shop runs with (1 s status timeout), with short poll intervals.
fn shop_config(link: Link, profile: &str) -> SpoolConfig {
    let mut c = fast_config(vec![("slow", link)]);
    c.printers[0].profile = profile.into();
    c.status_timeout_ms = SpoolConfig::default().status_timeout_ms;
    c
}

fn epson() -> PrinterProfile {
    kassa::spool::profile::embedded().expect("profiles")["epson-tm-t20"].clone()
}

/// Enqueues `jobs` (label, bytes) and checks that each printed exactly once, as sent, in order,
/// with one send each and nothing torn or marked as a copy.
fn prints_each_once(emu: &Emulator, link: Link, profile: &str, jobs: &[(&str, Vec<u8>)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spooler = Spooler::open(dir.path(), shop_config(link, profile)).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    let ids: Vec<_> = jobs
        .iter()
        .map(|(label, data)| {
            spooler
                .enqueue(JobRequest::new(printer, JobKey::Label((*label).into()), DocFormat::EscPos, data.clone()))
                .expect("enqueue")
        })
        .collect();
    assert!(emu.wait_jobs(jobs.len(), PATIENCE * 2), "only {} of {} jobs printed", emu.jobs().len(), jobs.len());
    assert!(spooler.wait_idle(PATIENCE));
    let printed = emu.jobs();
    assert_eq!(printed.len(), jobs.len(), "a job printed more than once");
    for ((label, data), got) in jobs.iter().zip(&printed) {
        assert_eq!(&got.bytes, data, "{label} printed other bytes (a copy or out of order)");
        assert!(!is_copy_print(got));
    }
    assert!(emu.torn().is_empty());
    for id in ids {
        let job = spooler.job(id).expect("q").expect("job");
        assert_eq!(job.state, JobState::Done, "job {id}: {:?}", job.last_error);
        assert_eq!(job.attempts, 1, "job {id} was sent again");
        assert!(!job.is_copy && job.last_error.is_none());
    }
    spooler.shutdown();
}

fn tcp_emulator(bytes_per_sec: u32, profile: PrinterProfile) -> (Emulator, Link) {
    let emu = Emulator::new(profile);
    emu.set_throttle(Some(bytes_per_sec));
    let port = emu.listen_tcp("127.0.0.1:0").expect("listen").port();
    (emu, Link::Tcp { host: "127.0.0.1".into(), port })
}

fn pty_emulator(bytes_per_sec: u32, baud: u32) -> (Emulator, Link) {
    let emu = Emulator::new(profile58());
    emu.set_throttle(Some(bytes_per_sec));
    let path = emu.open_pty().expect("pty");
    (emu, Link::Serial { path, baud, flow: FlowControl::None })
}

#[test]
fn tcp_printer_reading_at_115200_baud_prints_a_50k_raster_and_the_text_behind_it_once() {
    let (emu, link) = tcp_emulator(11_520, profile58());
    prints_each_once(
        &emu,
        link,
        "generic-58",
        &[("raster", raster_50k()), ("JOB 01", text_job("JOB 01", 20)), ("JOB 02", text_job("JOB 02", 20))],
    );
    emu.stop();
}

#[test]
fn tcp_printer_reading_at_9600_baud_prints_text_receipts_once() {
    let (emu, link) = tcp_emulator(960, profile58());
    prints_each_once(
        &emu,
        link,
        "generic-58",
        &[("JOB 01", text_job("JOB 01", 40)), ("JOB 02", text_job("JOB 02", 5))],
    );
    emu.stop();
}

#[test]
fn serial_printer_slower_than_its_115200_link_prints_once() {
    // The host paces to 11 520 B/s; the printer takes 8 000 B/s, so the pty's buffer fills up.
    let (emu, link) = pty_emulator(8_000, 115_200);
    prints_each_once(&emu, link, "generic-58", &[("raster", raster_50k()), ("JOB 01", text_job("JOB 01", 20))]);
    emu.stop();
}

#[test]
fn serial_9600_prints_a_50k_raster_once_then_the_text_behind_it() {
    let (emu, link) = pty_emulator(960, 9_600);
    prints_each_once(&emu, link, "generic-58", &[("raster", raster_50k()), ("JOB 01", text_job("JOB 01", 10))]);
    emu.stop();
}

#[test]
fn cancel_stops_a_job_being_sent_at_a_command_boundary_and_says_how_far_it_got() {
    // A paced serial link: a loopback socket would take all 50 KB at once.
    let (emu, link) = pty_emulator(960, 9_600);
    let dir = tempfile::tempdir().expect("tempdir");
    let spooler = Spooler::open(dir.path(), shop_config(link, "epson-tm-t20")).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    let big = raster_50k();
    let first = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("raster".into()), DocFormat::EscPos, big.clone()))
        .expect("enqueue");
    let second = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("JOB 02".into()), DocFormat::EscPos, text_job("JOB 02", 3)))
        .expect("enqueue");
    assert!(wait_until(|| spooler.job(first).ok().flatten().is_some_and(|j| j.state == JobState::Sending)));
    assert!(wait_until(|| emu.received_bytes() > 2_000), "the job started printing");
    let outcome = spooler.cancel(first);
    match outcome {
        Ok(o) => {
            // Stopped part-way: the printed part ends with the cancel line and a cut.
            assert_eq!(o.state, "cancelled", "{o:?}");
            let sent = o.bytes_sent.expect("bytes sent");
            assert!(sent < big.len(), "{o:?}");
            assert_eq!(o.bytes_total, Some(big.len()));
            assert!(o.note.contains(&format!("{sent} of {}", big.len())), "{}", o.note);
            assert!(emu.wait_jobs(2, PATIENCE * 2));
            let jobs = emu.jobs();
            assert!(jobs[0].has_line("CANCELLED"), "{:?}", jobs[0].lines);
            assert!(big.starts_with(&jobs[0].bytes[..sent]));
            assert_eq!(jobs[1].bytes, text_job("JOB 02", 3));
        }
        Err(e) => panic!("cancel failed: {e}"),
    }
    assert!(spooler.wait_idle(PATIENCE));
    assert_eq!(spooler.job(second).expect("q").expect("job").state, JobState::Done);
    // A finished job cannot be cancelled, and the error says why.
    let err = spooler.cancel(second).expect_err("done");
    assert!(err.to_string().contains("done"), "{err}");
    spooler.shutdown();
    emu.stop();
}

#[test]
fn a_printer_that_counts_cuts_is_asked_after_a_break_and_nothing_prints_twice() {
    let (emu, link) = tcp_emulator(200_000, epson());
    let dir = tempfile::tempdir().expect("tempdir");
    let spooler = Spooler::open(dir.path(), shop_config(link, "epson-tm-t20")).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    let enqueue = |label: &str| {
        spooler
            .enqueue(JobRequest::new(printer, JobKey::Label(label.into()), DocFormat::EscPos, text_job(label, 20)))
            .expect("enqueue")
    };
    // 1. The receipt prints and is cut, then the link drops before the printer's answer.
    emu.drop_after_cut();
    let j1 = enqueue("JOB 01");
    // 2. The link drops mid-receipt: no cut, no complete receipt.
    assert!(wait_until(|| spooler.job(j1).ok().flatten().is_some_and(|j| j.state == JobState::Done)));
    emu.drop_after(300);
    let j2 = enqueue("JOB 02");
    assert!(spooler.wait_idle(PATIENCE));
    // JOB 01 printed once (the cut counter said so: nothing resent); JOB 02's only complete
    // receipt is the original, not a copy.
    assert_eq!(emu.jobs().len(), 2);
    assert_eq!(emu.jobs()[0].bytes, text_job("JOB 01", 20));
    assert_eq!(emu.jobs()[1].bytes, text_job("JOB 02", 20));
    assert!(emu.jobs().iter().all(|j| !is_copy_print(j)));
    assert_eq!(emu.torn().len(), 1);
    let one = spooler.job(j1).expect("q").expect("job");
    assert_eq!((one.attempts, one.is_copy), (1, false));
    let two = spooler.job(j2).expect("q").expect("job");
    assert_eq!((two.attempts, two.is_copy, two.state), (2, false, JobState::Done));
    spooler.shutdown();
    emu.stop();
}

#[test]
fn without_a_cut_counter_a_receipt_whose_answer_was_lost_is_resent_once_as_a_copy() {
    // The limit of printers that cannot tell: the spooler cannot know the receipt printed.
    let (emu, link) = tcp_emulator(200_000, profile58());
    let dir = tempfile::tempdir().expect("tempdir");
    let spooler = Spooler::open(dir.path(), shop_config(link, "generic-58")).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    emu.drop_after_cut();
    let id = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("JOB 01".into()), DocFormat::EscPos, text_job("JOB 01", 5)))
        .expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE));
    let jobs = emu.jobs();
    assert_eq!(jobs.len(), 2);
    assert!(!is_copy_print(&jobs[0]) && is_copy_print(&jobs[1]));
    let job = spooler.job(id).expect("q").expect("job");
    assert_eq!((job.attempts, job.is_copy), (2, true));
    spooler.shutdown();
    emu.stop();
}

#[test]
fn a_job_the_printer_never_confirms_fails_with_its_reason_and_is_not_resent() {
    // The printer prints the receipt, then its back-channel goes quiet.
    let (emu, link) = tcp_emulator(200_000, profile58());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = shop_config(link, "generic-58");
    config.status_timeout_ms = 200;
    let spooler = Spooler::open(dir.path(), config).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    emu.mute_after_cut();
    let id = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("JOB 01".into()), DocFormat::EscPos, text_job("JOB 01", 5)))
        .expect("enqueue");
    assert!(wait_until(|| spooler.job(id).ok().flatten().is_some_and(|j| !j.state.is_active())));
    let job = spooler.job(id).expect("q").expect("job");
    match &job.state {
        JobState::Failed(why) => assert!(why.contains("unconfirmed") && why.contains("3 status queries"), "{why}"),
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(job.attempts, 1, "an unconfirmed job is not resent");
    assert_eq!(emu.jobs().len(), 1);
    spooler.shutdown();
    emu.stop();
}
