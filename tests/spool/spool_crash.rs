//! SIGKILL while printing: a `kassa spool-drive` process holding 20 queued jobs is killed
//! mid-queue; after a restart every job prints exactly once as an original, and any job that
//! was in flight is printed again only as a marked copy.
use crate::spool_util;

use kassa::spool::config::SpoolConfig;
use kassa::spool::emulator::Emulator;
use kassa::spool::{JobFilter, JobKey, JobState, Spooler};
use spool_util::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const JOBS: usize = 20;

fn drive(dir: &std::path::Path, port: u16, jobs: usize) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kassa"));
    c.args(["spool-drive", "--dir"])
        .arg(dir)
        .args(["--tcp", &format!("127.0.0.1:{port}")])
        .args(["--jobs", &jobs.to_string(), "--lines", "40"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    c
}

#[test]
fn sigkill_mid_queue_then_restart_prints_each_job_once_with_copies_marked() {
    let emu = Emulator::new(profile58());
    // About 2 KB per job at 20 kB/s: the queue takes ~2 s, so the kill lands mid-queue.
    emu.set_throttle(Some(20_000));
    let port = emu.listen_tcp("127.0.0.1:0").expect("listen").port();
    let dir = tempfile::tempdir().expect("tempdir");

    let mut first = drive(dir.path(), port, JOBS).spawn().expect("spawn spool-drive");
    let mut line = String::new();
    let stdout = first.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert_eq!(line.trim(), format!("enqueued {JOBS}"));
    // Kill while the fourth job is half-way through the printer's input.
    let job_len = text_job("JOB 00", 40).len() as u64;
    assert!(wait_until(|| emu.received_bytes() >= 3 * job_len + job_len / 2), "printing never started");
    first.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
    let status = first.wait().expect("reap");
    assert!(!status.success());
    let printed_before = emu.jobs().len();
    assert!(printed_before < JOBS, "the kill came too late to test anything");

    let second = drive(dir.path(), port, 0).output().expect("restart");
    assert!(second.status.success(), "restart did not drain the queue");
    assert!(String::from_utf8_lossy(&second.stdout).contains("idle"));

    // Count originals and copies per label at the printer.
    let mut seen: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for job in emu.jobs() {
        let label = label_of(&job).expect("every printed job has its label");
        let e = seen.entry(label).or_default();
        if is_copy_print(&job) {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    eprintln!("printed before kill: {printed_before}; per label (originals, copies): {seen:?}");
    assert_eq!(seen.len(), JOBS, "some job never printed: {seen:?}");
    for (label, (originals, copies)) in &seen {
        assert!(*originals <= 1, "{label} printed twice unmarked");
        assert!(originals + copies >= 1);
    }
    // The kill landed while the fourth job's bytes were arriving, so that job was committed
    // as `sending` and not yet confirmed: it, and only it, is printed again as a copy.
    let copies: u32 = seen.values().map(|(_, c)| c).sum();
    assert_eq!(copies, 1, "{seen:?}");
    // Every job cut off by the kill reappears complete.
    for torn in emu.torn() {
        if let Some(label) = label_of(&torn) {
            assert!(seen.contains_key(&label));
        }
    }

    // The queue agrees with the paper: all done, and `is_copy` exactly where a copy printed.
    let spooler =
        Spooler::open(dir.path(), SpoolConfig { discover_cups: false, ..Default::default() }).expect("reopen");
    let jobs = spooler.list_jobs(&JobFilter::default()).expect("list");
    assert_eq!(jobs.len(), JOBS);
    for job in jobs {
        assert_eq!(job.state, JobState::Done);
        let JobKey::Label(label) = &job.key else { panic!("unexpected key {:?}", job.key) };
        let (_, copies) = seen[label];
        assert_eq!(job.is_copy, copies > 0, "{label}");
    }
    spooler.shutdown();
    emu.stop();
}
