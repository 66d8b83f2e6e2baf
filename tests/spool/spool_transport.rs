//! A job through each emulated transport (TCP, pty serial, virtual folder) arrives
//! byte-exact, and the emulator's decoded raster equals the bitmap that was sent.
use crate::spool_util;

use kassa::spool::config::{DocFormat, FlowControl, Link};
use kassa::spool::emulator::Emulator;
use kassa::spool::{JobKey, JobRequest, JobState, Spooler};
use spool_util::*;

/// Enqueues `data` on the only configured printer and waits until the queue is idle.
fn print_one(dir: &std::path::Path, link: Link, data: &[u8], format: DocFormat) -> (Spooler, i64) {
    let spooler = Spooler::open(dir, fast_config(vec![("p", link)])).expect("open spooler");
    let printer = spooler.printers().expect("printers")[0].id;
    let id = spooler
        .enqueue(JobRequest::new(
            printer,
            JobKey::Document { kkm: "KKM-1".into(), shift: 4, number: 12 },
            format,
            data.to_vec(),
        ))
        .expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE), "queue did not drain");
    let job = spooler.job(id).expect("query").expect("job exists");
    assert_eq!(job.state, JobState::Done);
    assert!(!job.is_copy);
    assert_eq!(job.attempts, 1);
    (spooler, id)
}

fn check_raster_arrival(emu: &Emulator, sent: &[u8], bitmap: &kassa::spool::emulator::escpos::Bitmap) {
    assert!(emu.wait_jobs(1, PATIENCE));
    let jobs = emu.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].bytes, sent, "bytes differ");
    assert_eq!(&jobs[0].raster, bitmap, "decoded raster differs");
    assert!(jobs[0].complete);
    assert_eq!(emu.cuts(), 1);
    assert!(emu.torn().is_empty());
}

#[test]
fn tcp_raster_job_arrives_byte_exact() {
    let emu = Emulator::new(profile58());
    let addr = emu.listen_tcp("127.0.0.1:0").expect("listen");
    let bitmap = test_bitmap(600);
    let data = raster_job(&bitmap, 256);
    let dir = tempfile::tempdir().expect("tempdir");
    let link = Link::Tcp { host: "127.0.0.1".into(), port: addr.port() };
    let (spooler, _) = print_one(dir.path(), link, &data, DocFormat::EscPos);
    check_raster_arrival(&emu, &data, &bitmap);
    spooler.shutdown();
    emu.stop();
}

#[test]
fn pty_serial_raster_job_arrives_byte_exact() {
    let emu = Emulator::new(profile58());
    let path = emu.open_pty().expect("pty");
    let bitmap = test_bitmap(120);
    let data = raster_job(&bitmap, 50);
    let dir = tempfile::tempdir().expect("tempdir");
    let link = Link::Serial { path, baud: 115_200, flow: FlowControl::None };
    let (spooler, _) = print_one(dir.path(), link, &data, DocFormat::EscPos);
    check_raster_arrival(&emu, &data, &bitmap);
    spooler.shutdown();
    emu.stop();
}

#[test]
fn virtual_folder_writes_each_job_as_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("printed");
    let bitmap = test_bitmap(64);
    let data = raster_job(&bitmap, 64);
    let link = Link::Virtual { dir: out.clone() };
    let (spooler, id) = print_one(dir.path(), link, &data, DocFormat::EscPos);
    let file = std::fs::read(out.join(format!("{id}.escpos"))).expect("job file");
    assert_eq!(file, data);
    // The file decodes back to the same raster.
    let mut interp = kassa::spool::emulator::escpos::Interpreter::new(profile58());
    let decoded = interp.feed(&file, Default::default());
    assert_eq!(decoded.jobs.len(), 1);
    assert_eq!(decoded.jobs[0].raster, bitmap);
    // A PNG job gets the .png extension.
    let printer = spooler.printers().expect("printers")[0].id;
    let png = bitmap.to_png().expect("png");
    let id2 = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("reprint".into()), DocFormat::Png, png.clone()))
        .expect("enqueue");
    assert!(spooler.wait_idle(PATIENCE));
    assert_eq!(std::fs::read(out.join(format!("{id2}.png"))).expect("png file"), png);
    spooler.shutdown();
}

#[test]
fn bluetooth_rfcomm_tty_link_is_serial_with_type_3() {
    let emu = Emulator::new(profile58());
    let path = emu.open_pty().expect("pty"); // stands in for a bound /dev/rfcommN
    let dir = tempfile::tempdir().expect("tempdir");
    let data = text_job("JOB 01", 10);
    let link = Link::Bluetooth { path, baud: 115_200 };
    assert_eq!(link.printer_type().code(), 3);
    let (spooler, _) = print_one(dir.path(), link, &data, DocFormat::EscPos);
    assert!(emu.wait_jobs(1, PATIENCE));
    assert_eq!(emu.jobs()[0].bytes, data);
    spooler.shutdown();
    emu.stop();
}

#[test]
fn usblp_device_file_receives_the_exact_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let device = dir.path().join("lp0"); // a plain file stands in for /dev/usb/lp0
    std::fs::write(&device, b"").expect("create");
    let data = raster_job(&test_bitmap(30), 16);
    let link = Link::UsbLp { path: device.display().to_string() };
    let (spooler, _) = print_one(dir.path(), link, &data, DocFormat::EscPos);
    assert_eq!(std::fs::read(&device).expect("read"), data);
    spooler.shutdown();
}

#[test]
fn serial_software_flow_control_stops_the_sender_during_xoff() {
    let emu = Emulator::new(profile58());
    let path = emu.open_pty().expect("pty");
    // At 9600 baud the spooler sends ~960 bytes a second in 256-byte chunks. During a
    // one-second XOFF a sender ignoring flow control would deliver ~960 more bytes; one that
    // honours it delivers at most the chunk already in flight.
    emu.xoff_after(600, std::time::Duration::from_secs(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let data = text_job("JOB 01", 40);
    let link = Link::Serial { path, baud: 9600, flow: FlowControl::Software };
    let (spooler, _) = print_one(dir.path(), link, &data, DocFormat::EscPos);
    assert!(emu.wait_jobs(1, PATIENCE));
    assert_eq!(emu.jobs()[0].bytes, data, "XON/XOFF bytes must not leak into the job");
    let during = emu
        .log()
        .iter()
        .find_map(|e| match e {
            kassa::spool::emulator::EmuEvent::XonSent(n) => Some(*n),
            _ => None,
        })
        .expect("XON was sent");
    eprintln!("bytes during XOFF: {during}");
    assert!(during <= 300, "{during} bytes arrived during XOFF");
    spooler.shutdown();
    emu.stop();
}
