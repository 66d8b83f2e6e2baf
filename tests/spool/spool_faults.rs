//! Faults without hardware: paper out in the middle of a queue, a connection dropped in
//! the middle of a job (the original is resent) or after it (a copy), and stable printer ids across a reopen.
use crate::spool_util;

use kassa::spool::config::{DocFormat, Link};
use kassa::spool::emulator::{EmuEvent, Emulator};
use kassa::spool::status::{PauseReason, PrinterStatus};
use kassa::spool::{JobKey, JobRequest, JobState, Spooler};
use spool_util::*;

fn tcp_setup(dir: &std::path::Path) -> (Emulator, Spooler, i64) {
    let emu = Emulator::new(profile58());
    let addr = emu.listen_tcp("127.0.0.1:0").expect("listen");
    let link = Link::Tcp { host: "127.0.0.1".into(), port: addr.port() };
    let spooler = Spooler::open(dir, fast_config(vec![("net", link)])).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    (emu, spooler, printer)
}

fn enqueue(spooler: &Spooler, printer: i64, label: &str) -> i64 {
    spooler
        .enqueue(JobRequest::new(printer, JobKey::Label(label.into()), DocFormat::EscPos, text_job(label, 20)))
        .expect("enqueue")
}

fn labels(emu: &Emulator) -> Vec<String> {
    emu.jobs().iter().map(|j| label_of(j).unwrap_or_default()).collect()
}

#[test]
fn paper_out_pauses_the_queue_and_everything_prints_once_in_order_after_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emu, spooler, printer) = tcp_setup(dir.path());
    enqueue(&spooler, printer, "JOB 01");
    enqueue(&spooler, printer, "JOB 02");
    assert!(emu.wait_jobs(2, PATIENCE));
    assert!(spooler.wait_idle(PATIENCE));

    emu.set_status(PrinterStatus { paper_out: true, offline: true, ..Default::default() });
    let j3 = enqueue(&spooler, printer, "JOB 03");
    let j4 = enqueue(&spooler, printer, "JOB 04");
    let j5 = enqueue(&spooler, printer, "JOB 05");
    assert!(
        wait_until(|| spooler.job(j3).ok().flatten().map(|j| j.state) == Some(JobState::Paused(PauseReason::PaperOut))),
        "head job not paused for paper"
    );
    // Nothing was sent while the paper was out, and the rest wait behind the head.
    assert_eq!(emu.jobs().len(), 2);
    assert!(emu.held().is_empty());
    for id in [j4, j5] {
        assert_eq!(spooler.job(id).expect("q").expect("job").state, JobState::Queued);
    }

    emu.set_status(PrinterStatus::default()); // paper loaded
    assert!(emu.wait_jobs(5, PATIENCE));
    assert!(spooler.wait_idle(PATIENCE));
    assert_eq!(labels(&emu), ["JOB 01", "JOB 02", "JOB 03", "JOB 04", "JOB 05"]);
    assert!(emu.jobs().iter().all(|j| !is_copy_print(j)));
    assert!(emu.torn().is_empty() && emu.held().is_empty());
    for id in [j3, j4, j5] {
        let job = spooler.job(id).expect("q").expect("job");
        assert_eq!(job.state, JobState::Done);
        assert!(!job.is_copy);
    }
    spooler.shutdown();
    emu.stop();
}

#[test]
fn dropped_connection_mid_job_resends_the_original_after_a_status_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emu, spooler, printer) = tcp_setup(dir.path());
    emu.drop_after(300); // the first job is cut after 300 bytes
    let j1 = enqueue(&spooler, printer, "JOB 01");
    let j2 = enqueue(&spooler, printer, "JOB 02");
    assert!(spooler.wait_idle(PATIENCE));

    let original = text_job("JOB 01", 20);
    let torn = emu.torn();
    assert_eq!(torn.len(), 1, "exactly one job was cut off");
    assert!(original.starts_with(&torn[0].bytes));
    assert!(torn[0].bytes.len() < original.len());

    // The link broke before the receipt's cut left the host (the spooler holds it until the printer has
    // taken the rest): it never came out whole, so the customer's receipt is the original, not a copy.
    let jobs = emu.jobs();
    assert_eq!(jobs.len(), 2);
    assert!(!is_copy_print(&jobs[0]));
    assert_eq!(jobs[0].bytes, original);
    assert_eq!(jobs[1].bytes, text_job("JOB 02", 20));

    // The printer was asked for its status between the break and the resend.
    let log = emu.log();
    let torn_at = log.iter().position(|e| *e == EmuEvent::Torn(0)).expect("torn");
    let printed_at = log.iter().position(|e| *e == EmuEvent::Printed(0)).expect("printed");
    assert!(torn_at < printed_at);
    assert!(log[torn_at..printed_at].contains(&EmuEvent::StatusQuery));

    let first = spooler.job(j1).expect("q").expect("job");
    assert_eq!(first.state, JobState::Done);
    assert!(!first.is_copy);
    assert_eq!(first.attempts, 2);
    assert!(first.last_error.is_none(), "a printed job shows no error");
    let second = spooler.job(j2).expect("q").expect("job");
    assert!(!second.is_copy && second.state == JobState::Done);
    spooler.shutdown();
    emu.stop();
}

#[test]
fn caller_supplied_copy_bytes_replace_the_banner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emu, spooler, printer) = tcp_setup(dir.path());
    // The receipt prints whole and is cut, then the link drops before the printer answers: without a cut
    // counter it may have printed, so the resend is a copy, made of the caller's copy bytes.
    emu.drop_after_cut();
    let mut req = JobRequest::new(printer, JobKey::Label("JOB 07".into()), DocFormat::EscPos, text_job("JOB 07", 10));
    let copy = text_job("JOB 07", 3);
    req.copy_data = Some(copy.clone());
    let id = spooler.enqueue(req).expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE));
    assert!(emu.torn().is_empty());
    assert_eq!(emu.jobs().len(), 2);
    assert_eq!(emu.jobs()[0].bytes, text_job("JOB 07", 10));
    assert_eq!(emu.jobs()[1].bytes, copy);
    assert!(!is_copy_print(&emu.jobs()[1]), "the caller's copy bytes, no banner added");
    assert!(spooler.job(id).expect("q").expect("job").is_copy);
    spooler.shutdown();
    emu.stop();
}

#[test]
fn discovered_printers_keep_their_ids_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dev = tempfile::tempdir().expect("tempdir");
    for f in ["lp0", "lp1", "rfcomm0"] {
        std::fs::write(dev.path().join(f), b"").expect("fake device");
    }
    let probe = kassa::spool::discovery::Probe {
        cups: false,
        usblp_dir: dev.path().display().to_string(),
        rfcomm_dir: dev.path().display().to_string(),
        ..Default::default()
    };
    let virt = Link::Virtual { dir: dir.path().join("out") };
    let ids = |s: &Spooler| -> Vec<(String, i64, u8)> {
        let mut v: Vec<_> = s
            .discover_with(&probe)
            .expect("discover")
            .into_iter()
            .map(|p| (p.name, p.id, p.printer_type.code()))
            .collect();
        v.sort();
        v
    };
    let first = {
        let s = Spooler::open(dir.path(), fast_config(vec![("virtual", virt.clone())])).expect("open");
        let v = ids(&s);
        s.shutdown();
        v
    };
    let lp0 = dev.path().join("lp0").display().to_string();
    let rf = dev.path().join("rfcomm0").display().to_string();
    assert!(first.iter().any(|(n, _, t)| *n == lp0 && *t == 1));
    assert!(first.iter().any(|(n, _, t)| *n == rf && *t == 3));
    assert!(first.iter().any(|(n, _, t)| n == "virtual" && *t == 5));

    // A new device appears between runs; the old ones keep their ids.
    std::fs::write(dev.path().join("lp2"), b"").expect("fake device");
    let s = Spooler::open(dir.path(), fast_config(vec![("virtual", virt)])).expect("reopen");
    let second = ids(&s);
    for entry in &first {
        assert!(second.contains(entry), "{entry:?} changed id");
    }
    let lp2 = dev.path().join("lp2").display().to_string();
    let new_id = second.iter().find(|(n, _, _)| *n == lp2).expect("lp2 found").1;
    assert!(first.iter().all(|(_, id, _)| *id != new_id));
    // A vanished device is no longer listed but its id is not reused.
    std::fs::remove_file(dev.path().join("lp1")).expect("unplug");
    let third = ids(&s);
    let lp1 = dev.path().join("lp1").display().to_string();
    assert!(third.iter().all(|(n, _, _)| *n != lp1));
    s.shutdown();
}

#[test]
fn paper_running_out_after_a_job_keeps_it_sent_until_reload_then_the_rest_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emu, spooler, printer) = tcp_setup(dir.path());
    emu.run_out_after(1);
    let j1 = enqueue(&spooler, printer, "JOB 01");
    let j2 = enqueue(&spooler, printer, "JOB 02");
    let j3 = enqueue(&spooler, printer, "JOB 03");
    // The post-job status says paper end: the job reached the printer but is not confirmed.
    assert!(wait_until(|| spooler.job(j1).ok().flatten().map(|j| j.state) == Some(JobState::Sent)));
    assert_eq!(emu.jobs().len(), 1);
    for id in [j2, j3] {
        assert_eq!(spooler.job(id).expect("q").expect("job").state, JobState::Queued);
    }
    emu.set_status(PrinterStatus::default());
    assert!(spooler.wait_idle(PATIENCE));
    assert_eq!(labels(&emu), ["JOB 01", "JOB 02", "JOB 03"]);
    assert!(emu.jobs().iter().all(|j| !is_copy_print(j)));
    for id in [j1, j2, j3] {
        let job = spooler.job(id).expect("q").expect("job");
        assert_eq!(job.state, JobState::Done);
        assert_eq!(job.attempts, 1, "nothing was resent");
    }
    spooler.shutdown();
    emu.stop();
}

#[test]
fn serial_link_reads_status_and_resumes_after_cover_closed() {
    let emu = Emulator::new(profile58());
    let path = emu.open_pty().expect("pty");
    emu.set_status(PrinterStatus { cover_open: true, offline: true, ..Default::default() });
    let dir = tempfile::tempdir().expect("tempdir");
    let link = Link::Serial { path, baud: 115_200, flow: kassa::spool::config::FlowControl::None };
    let spooler = Spooler::open(dir.path(), fast_config(vec![("com", link)])).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    let j1 = enqueue(&spooler, printer, "JOB 01");
    assert!(wait_until(
        || spooler.job(j1).ok().flatten().map(|j| j.state) == Some(JobState::Paused(PauseReason::CoverOpen))
    ));
    assert!(emu.jobs().is_empty() && emu.held().is_empty());
    emu.set_status(PrinterStatus::default());
    assert!(spooler.wait_idle(PATIENCE));
    assert_eq!(labels(&emu), ["JOB 01"]);
    assert_eq!(emu.jobs()[0].bytes, text_job("JOB 01", 20));
    spooler.shutdown();
    emu.stop();
}
