//! The CUPS path against a tiny fake IPP server on 127.0.0.1: Print-Job carries the right
//! operation attributes and the exact document, a refusal is retried without marking a
//! copy, and CUPS-Get-Printers feeds discovery with stable ids.
//!
//! The fake parses requests with its own few lines of code (not the spooler's parser).
use crate::spool_util;

use kassa::spool::config::{DocFormat, Link};
use kassa::spool::discovery::Probe;
use kassa::spool::{JobKey, JobRequest, JobState, Spooler};
use spool_util::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
struct Received {
    path: String,
    operation: u16,
    attrs: BTreeMap<String, Vec<Vec<u8>>>,
    document: Vec<u8>,
}

/// Starts the fake; `refuse_first` makes the first Print-Job answer
/// server-error-not-accepting-jobs (0x0507).
fn fake_cups(refuse_first: bool) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        let mut refused = !refuse_first;
        'connections: for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the header, then exactly Content-Length bytes.
            let (head_end, len) = loop {
                let n = s.read(&mut chunk).expect("read");
                if n == 0 && buf.is_empty() {
                    // Kassa's check that the server takes connections, before it sends a job.
                    continue 'connections;
                }
                assert!(n > 0, "client closed early");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..p]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .expect("content-length");
                    break (p + 4, len);
                }
            };
            while buf.len() < head_end + len {
                let n = s.read(&mut chunk).expect("read body");
                assert!(n > 0);
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let body = &buf[head_end..];
            let mut r = Received {
                path: head.split(' ').nth(1).unwrap_or("").to_string(),
                operation: u16::from_be_bytes([body[2], body[3]]),
                ..Default::default()
            };
            // Attributes: tag, name length, name, value length, value; 0x03 ends them.
            let mut i = 8;
            let mut name = String::new();
            while body[i] != 0x03 {
                if body[i] < 0x10 {
                    i += 1;
                    continue;
                }
                let nl = u16::from_be_bytes([body[i + 1], body[i + 2]]) as usize;
                if nl > 0 {
                    name = String::from_utf8_lossy(&body[i + 3..i + 3 + nl]).to_string();
                }
                let j = i + 3 + nl;
                let vl = u16::from_be_bytes([body[j], body[j + 1]]) as usize;
                r.attrs.entry(name.clone()).or_default().push(body[j + 2..j + 2 + vl].to_vec());
                i = j + 2 + vl;
            }
            r.document = body[i + 1..].to_vec();
            let op = r.operation;
            seen.lock().expect("lock").push(r);

            let mut resp = vec![1, 1, 0, 0, 0, 0, 0, 1, 0x01];
            let attr = |resp: &mut Vec<u8>, tag: u8, name: &str, value: &[u8]| {
                resp.push(tag);
                resp.extend_from_slice(&(name.len() as u16).to_be_bytes());
                resp.extend_from_slice(name.as_bytes());
                resp.extend_from_slice(&(value.len() as u16).to_be_bytes());
                resp.extend_from_slice(value);
            };
            attr(&mut resp, 0x47, "attributes-charset", b"utf-8");
            attr(&mut resp, 0x48, "attributes-natural-language", b"en");
            if op == 0x0002 && !refused {
                refused = true;
                resp[2..4].copy_from_slice(&0x0507u16.to_be_bytes());
            } else if op == 0x0002 {
                resp.push(0x02);
                attr(&mut resp, 0x21, "job-id", &42i32.to_be_bytes());
            } else if op == 0x4002 {
                for q in ["Receipt_80", "Office"] {
                    resp.push(0x04);
                    attr(&mut resp, 0x42, "printer-name", q.as_bytes());
                }
            }
            resp.push(0x03);
            let http =
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\n\r\n", resp.len());
            let _ = s.write_all(http.as_bytes());
            let _ = s.write_all(&resp);
        }
    });
    (port, log)
}

fn ipp_spooler(dir: &std::path::Path, port: u16) -> (Spooler, i64) {
    let link = Link::Ipp { host: "127.0.0.1".into(), port, queue: "Receipt_80".into(), format: DocFormat::EscPos };
    let s = Spooler::open(dir, fast_config(vec![("cups", link)])).expect("open");
    let id = s.printers().expect("printers")[0].id;
    (s, id)
}

#[test]
fn print_job_reaches_cups_with_attributes_and_exact_document() {
    let (port, log) = fake_cups(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let (spooler, printer) = ipp_spooler(dir.path(), port);
    let data = raster_job(&test_bitmap(40), 40);
    let id = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("x".into()), DocFormat::EscPos, data.clone()))
        .expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE));
    let log = log.lock().expect("lock").clone();
    assert_eq!(log.len(), 1);
    let r = &log[0];
    assert_eq!(r.operation, 0x0002);
    assert_eq!(r.path, "/printers/Receipt_80");
    let one = |k: &str| String::from_utf8_lossy(&r.attrs[k][0]).to_string();
    assert_eq!(one("attributes-charset"), "utf-8");
    assert_eq!(one("printer-uri"), format!("ipp://127.0.0.1:{port}/printers/Receipt_80"));
    assert_eq!(one("document-format"), "application/vnd.cups-raw");
    assert_eq!(one("job-name"), format!("{id}.escpos"));
    assert_eq!(r.document, data);
    let job = spooler.job(id).expect("q").expect("job");
    assert_eq!(job.state, JobState::Done);
    assert!(!job.is_copy);
    spooler.shutdown();
}

#[test]
fn refused_print_job_is_retried_and_not_marked_copy() {
    let (port, log) = fake_cups(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let (spooler, printer) = ipp_spooler(dir.path(), port);
    let id = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("y".into()), DocFormat::EscPos, text_job("JOB 01", 2)))
        .expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE));
    let log = log.lock().expect("lock").clone();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].document, log[1].document);
    let job = spooler.job(id).expect("q").expect("job");
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 1, "a refused Print-Job sent nothing, so it is no attempt (max_attempts counts sends)");
    assert!(!job.is_copy, "a refused Print-Job printed nothing");
    assert!(job.last_error.is_none(), "the refusal is history once the job printed");
    spooler.shutdown();
}

#[test]
fn cups_queues_are_discovered_with_stable_ids() {
    let (port, log) = fake_cups(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = Probe {
        cups: true,
        cups_addr: ("127.0.0.1".into(), port),
        usblp_dir: dir.path().join("none").display().to_string(),
        rfcomm_dir: dir.path().join("none").display().to_string(),
        ..Default::default()
    };
    let find = |s: &Spooler| -> Vec<(String, i64)> {
        s.discover_with(&probe)
            .expect("discover")
            .into_iter()
            .filter(|p| p.printer_type.code() == 2)
            .map(|p| (p.name, p.id))
            .collect()
    };
    let s = Spooler::open(dir.path(), fast_config(vec![])).expect("open");
    let first = find(&s);
    s.shutdown();
    let names: Vec<_> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Receipt_80", "Office"]);
    let s = Spooler::open(dir.path(), fast_config(vec![])).expect("reopen");
    assert_eq!(find(&s), first);
    s.shutdown();
    let log = log.lock().expect("lock");
    assert!(log.iter().all(|r| r.operation == 0x4002));
    assert_eq!(log[0].attrs["requested-attributes"][0], b"printer-name".to_vec());
}
