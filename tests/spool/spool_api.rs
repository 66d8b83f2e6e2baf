//! The lead-facing API without a printer: slow-link estimates, an unreachable printer
//! pausing its job with the transport error, cancel and retry, and jobs surviving a reopen.
use crate::spool_util;

use kassa::spool::config::{DocFormat, FlowControl, Link};
use kassa::spool::status::PauseReason;
use kassa::spool::{JobFilter, JobKey, JobRequest, JobState, SpoolError, Spooler};
use spool_util::*;

fn missing_serial(dir: &std::path::Path) -> Link {
    Link::Serial { path: dir.join("no-such-tty").display().to_string(), baud: 9600, flow: FlowControl::Hardware }
}

#[test]
fn slow_link_is_flagged_and_unreachable_printer_pauses_the_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spooler = Spooler::open(dir.path(), fast_config(vec![("com", missing_serial(dir.path()))])).expect("open");
    let p = spooler.printers().expect("printers")[0].clone();
    assert_eq!(p.baud, Some(9600));
    assert_eq!(p.printer_type.code(), 1);
    // A 200 mm raster receipt on 58 mm paper: 48 × 1600 bytes, 80 s at 9600 baud.
    let raster = raster_job(&test_bitmap(1600), 256);
    let big = spooler
        .enqueue(JobRequest::new(
            p.id,
            JobKey::Document { kkm: "K".into(), shift: 1, number: 1 },
            DocFormat::EscPos,
            raster.clone(),
        ))
        .expect("enqueue");
    let small = spooler
        .enqueue(JobRequest::new(p.id, JobKey::Label("text".into()), DocFormat::EscPos, text_job("JOB 01", 20)))
        .expect("enqueue");
    let job = spooler.job(big).expect("q").expect("job");
    assert!(job.slow);
    assert_eq!(job.est_transfer_ms, Some(raster.len() as u64 * 10_000 / 9600));
    let job = spooler.job(small).expect("q").expect("job");
    assert!(!job.slow);

    assert!(wait_until(
        || spooler.job(big).ok().flatten().map(|j| j.state) == Some(JobState::Paused(PauseReason::Unreachable))
    ));
    let job = spooler.job(big).expect("q").expect("job");
    assert!(job.last_error.expect("error kept").contains("no-such-tty"));
    assert!(!job.is_copy, "nothing was sent, so no copy");

    // Cancel the head; the next job becomes the head and is paused in turn.
    spooler.cancel(big).expect("cancel");
    assert_eq!(spooler.job(big).expect("q").expect("job").state, JobState::Cancelled);
    assert!(matches!(spooler.cancel(big), Err(SpoolError::InvalidState { .. })));
    assert!(matches!(spooler.cancel(9999), Err(SpoolError::UnknownJob(9999))));
    spooler.retry(big).expect("retry");
    let active = spooler.list_jobs(&JobFilter { active_only: true, ..Default::default() }).expect("list");
    assert_eq!(active.iter().map(|j| j.id).collect::<Vec<_>>(), [big, small]);
    spooler.shutdown();

    // Both jobs are still there after a reopen, in order.
    let spooler = Spooler::open(dir.path(), fast_config(vec![("com", missing_serial(dir.path()))])).expect("reopen");
    let ids: Vec<_> = spooler
        .list_jobs(&JobFilter { printer_id: Some(p.id), ..Default::default() })
        .expect("list")
        .into_iter()
        .map(|j| (j.id, j.data.len()))
        .collect();
    assert_eq!(ids, [(big, raster.len()), (small, text_job("JOB 01", 20).len())]);
    assert!(matches!(
        spooler.enqueue(JobRequest::new(4242, JobKey::Label("x".into()), DocFormat::Text, vec![])),
        Err(SpoolError::UnknownPrinter(4242))
    ));
    spooler.shutdown();
}

#[test]
fn config_mistakes_are_reported_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = fast_config(vec![("a", missing_serial(dir.path()))]);
    config.printers[0].profile = "no-such-model".into();
    let err = Spooler::open(dir.path(), config).err().expect("rejected");
    assert!(err.to_string().contains("no-such-model"), "{err}");
    let link = missing_serial(dir.path());
    let err = Spooler::open(dir.path(), fast_config(vec![("a", link.clone()), ("a", link)])).err().expect("rejected");
    assert!(err.to_string().contains("configured twice"), "{err}");
}

#[test]
fn serve_default_prints_to_the_virtual_folder_and_purge_removes_old_finished_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = kassa::spool::config::SpoolConfig::serve_default(dir.path());
    config.discover_cups = false;
    let spooler = Spooler::open(dir.path(), config).expect("open");
    let p = spooler.printers().expect("printers")[0].clone();
    assert_eq!((p.name.as_str(), p.printer_type.code()), ("virtual", 5));
    let id = spooler
        .enqueue(JobRequest::new(p.id, JobKey::Label("t".into()), DocFormat::Text, b"hello\n".to_vec()))
        .expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE));
    let file = dir.path().join("printed").join(format!("{id}.txt"));
    assert_eq!(std::fs::read(file).expect("printed file"), b"hello\n");
    // Too young to purge, then purged with age zero.
    assert_eq!(spooler.purge_finished(std::time::Duration::from_secs(3600)).expect("purge"), 0);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(spooler.purge_finished(std::time::Duration::ZERO).expect("purge"), 1);
    assert!(spooler.job(id).expect("q").is_none());
    spooler.shutdown();
}
