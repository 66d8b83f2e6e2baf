//! The `kassa printer-emulator` and `kassa printers` subcommands as separate processes:
//! the emulator writes what it printed (bytes, text, PNG of the whole receipt) and takes status
//! switches on stdin; `printers` prints GetPrinterList JSON with ids stable across runs.
use crate::spool_util;

use kassa::spool::config::{DocFormat, Link};
use kassa::spool::status::PauseReason;
use kassa::spool::{JobKey, JobRequest, JobState, Spooler};
use spool_util::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.bit_depth, png::BitDepth::One);
    buf.truncate(info.buffer_size());
    // PNG greyscale: 1 is white; ESC/POS raster: 1 is black.
    (info.width, info.height, buf.iter().map(|b| !b).collect())
}

#[test]
fn printer_emulator_subcommand_prints_saves_and_switches_status() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut emu = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["printer-emulator", "--tcp", "127.0.0.1:0", "--pty", "--profile", "generic-58", "--out"])
        .arg(out.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn emulator");
    let mut lines = BufReader::new(emu.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().expect("a line").expect("utf-8");
    let tcp = next();
    let addr = tcp.strip_prefix("tcp ").expect("tcp line").to_string();
    assert!(next().starts_with("pty /dev/"));
    let port: u16 = addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let mut stdin = emu.stdin.take().expect("stdin");

    let dir = tempfile::tempdir().expect("tempdir");
    let link = Link::Tcp { host: "127.0.0.1".into(), port };
    let spooler = Spooler::open(dir.path(), fast_config(vec![("net", link)])).expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    let bitmap = test_bitmap(100);
    let data = raster_job(&bitmap, 64);
    spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("r".into()), DocFormat::EscPos, data.clone()))
        .expect("enqueue");
    let first = out.path().join("0001.png");
    assert!(wait_until(|| first.exists() && out.path().join("0001.escpos").exists()));
    assert!(wait_until(|| std::fs::read(out.path().join("0001.escpos")).ok().as_deref() == Some(&data[..])));
    // The PNG is the paper: the raster, then the feed before the cut (4 lines of 30 dots).
    let (w, h, pixels) = decode_png(&std::fs::read(&first).expect("png"));
    assert_eq!((w, h), (bitmap.width, bitmap.height + 120));
    assert_eq!(pixels[..bitmap.data.len()], bitmap.data[..]);
    assert!(pixels[bitmap.data.len()..].iter().all(|b| *b == 0));

    writeln!(stdin, "paper-out").expect("stdin");
    assert!(next().starts_with("status "));
    let j2 = spooler
        .enqueue(JobRequest::new(printer, JobKey::Label("JOB 02".into()), DocFormat::EscPos, text_job("JOB 02", 5)))
        .expect("enqueue");
    assert!(wait_until(
        || spooler.job(j2).ok().flatten().map(|j| j.state) == Some(JobState::Paused(PauseReason::PaperOut))
    ));
    writeln!(stdin, "paper-ok").expect("stdin");
    assert!(next().starts_with("status "));
    assert!(spooler.wait_idle(PATIENCE));
    let text = out.path().join("0002.txt");
    assert!(wait_until(|| text.exists()));
    assert!(wait_until(|| std::fs::read_to_string(&text).unwrap_or_default().starts_with("JOB 02")));
    writeln!(stdin, "stats").expect("stdin");
    assert!(next().starts_with("jobs 2 held 0 torn 0 cuts 2"));
    writeln!(stdin, "quit").expect("stdin");
    assert!(emu.wait().expect("exit").success());
    spooler.shutdown();
}

#[test]
fn printers_subcommand_lists_with_stable_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A server's data folder (`kassa printers` never makes one).
    drop(kassa::store::Store::open(&dir.path().join("kassa.db")).expect("kassa.db"));
    let run = || -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
            .args(["printers", "--no-cups", "--data-dir"])
            .arg(dir.path())
            .output()
            .expect("run printers");
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let first = run();
    let list = first.as_array().expect("array");
    for p in list {
        assert!(p["ID"].is_i64() && p["name"].is_string() && p["type"].is_u64(), "{p}");
    }
    assert_eq!(run(), first);
}

#[test]
fn printer_emulator_saves_the_whole_receipt_with_downloaded_glyphs_at_a_named_link_speed() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut emu = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["printer-emulator", "--tcp", "127.0.0.1:0", "--link", "serial-115200", "--profile", "generic-58"])
        .arg("--out")
        .arg(out.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn emulator");
    let mut lines = BufReader::new(emu.stdout.take().expect("stdout")).lines();
    let addr = lines.next().expect("a line").expect("utf-8");
    let port: u16 = addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let mut stdin = emu.stdin.take().expect("stdin");

    // The 20-item Kazakh ticket for a CP866 printer with user-defined characters.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/fixtures/ticket_20_items_kk.json")).unwrap())
            .unwrap();
    let profile =
        kassa::render::PrinterProfile { user_defined_chars: true, ..kassa::render::PrinterProfile::generic_58mm() };
    let opts = kassa::render::RenderOptions { profile, lang: "kk".into(), ..Default::default() };
    let bytes = kassa::render::Renderer::new(Default::default())
        .render(kassa::render::TemplateKey::TICKET, &doc, &opts, kassa::render::Format::EscPos)
        .unwrap()
        .bytes;
    let dir = tempfile::tempdir().expect("tempdir");
    let spooler = Spooler::open(dir.path(), fast_config(vec![("net", Link::Tcp { host: "127.0.0.1".into(), port })]))
        .expect("open");
    let printer = spooler.printers().expect("printers")[0].id;
    let started = std::time::Instant::now();
    spooler.enqueue(JobRequest::new(printer, JobKey::Label("kk".into()), DocFormat::EscPos, bytes.clone())).unwrap();
    assert!(spooler.wait_idle(PATIENCE));
    // Read at 11 520 B/s: the receipt cannot have taken less than its bytes / that rate.
    assert!(started.elapsed().as_secs_f64() >= bytes.len() as f64 / 11_520.0 * 0.9, "{:?}", started.elapsed());
    let png = out.path().join("0001.png");
    assert!(wait_until(|| png.exists()));
    let (w, h, pixels) = decode_png(&std::fs::read(&png).expect("png"));
    let golden = decode_png(&std::fs::read(root.join("golden/ticket/ticket_20_items_kk.384.png")).unwrap());
    assert_eq!(w, golden.0);
    assert!(h >= golden.1);
    assert_eq!(pixels[..golden.2.len()], golden.2[..], "the saved PNG is the receipt's PNG");
    writeln!(stdin, "quit").expect("stdin");
    assert!(emu.wait().expect("exit").success());
    spooler.shutdown();
}
