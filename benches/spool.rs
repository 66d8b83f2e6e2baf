//! Seconds-to-paper per receipt and transport, measured end to end through the spooler
//! (enqueue → DLE EOT → paced write → DLE EOT → the emulator has the cut job), for a text
//! receipt (~1.5 KB) and a ~130 mm raster receipt on 58 mm paper (48 × 1050 bytes, ~50 KB).
//! The emulated printer reads at the link's speed: over a pty at the baud rate, and over TCP
//! also throttled to 11 520 B/s and 960 B/s (a network printer behind a serial converter),
//! with the spooler's default 1 s status timeout.
//!
//! "link floor" is bytes × 10 / baud (8N1). Run: `cargo bench --bench spool` (each 9600-baud raster case takes ~53 s; set
//! `SPOOL_BENCH_QUICK=1` to skip them).
//!
//! A second table prints the 20-item Kazakh ticket (58 mm, `tests/fixtures/ticket_20_items_kk.json`) in
//! four encodings: KZ-1048 text (₸ as a user-defined character), CP866 with user-defined characters,
//! CP866 with raster lines (those three with native QR) and all raster; bytes and seconds-to-paper over a pty at 115 200 and 9 600
//! baud (~2.5 min in all). `SPOOL_BENCH_ONLY=kazakh` or `=transport` runs one table.
use kassa::spool::config::{DocFormat, FlowControl, Link, PrinterConfig, SpoolConfig};
use kassa::spool::emulator::Emulator;
use kassa::spool::{JobKey, JobRequest, Spooler};
use std::time::{Duration, Instant};

fn text_receipt() -> Vec<u8> {
    let mut b = vec![0x1B, b'@', 0x1C, b'.', 0x1B, b't', 17, 0x1B, b'a', 1, 0x1B, b'E', 1];
    let (title, _, _) = encoding_rs::IBM866.encode("ТОО \"Касса\"  ФИСКАЛЬНЫЙ ЧЕК\n");
    b.extend_from_slice(&title);
    b.extend_from_slice(&[0x1B, b'E', 0, 0x1B, b'a', 0]);
    for i in 0..24 {
        let line = format!("{:<2} Товар номер {:<10} 1 x 1 250,00 = 1 250,00\n", i + 1, i);
        let (enc, _, _) = encoding_rs::IBM866.encode(&line);
        b.extend_from_slice(&enc);
    }
    let qr = b"https://consumer.oofd.kz?i=1234567890&f=010101012345&s=30000.00&t=20261123T120000";
    let n = (qr.len() + 3) as u16;
    b.extend_from_slice(&[0x1D, b'(', b'k']);
    b.extend_from_slice(&n.to_le_bytes());
    b.extend_from_slice(&[49, 80, 48]);
    b.extend_from_slice(qr);
    b.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, 49, 81, 48, 0x1B, b'd', 4, 0x1D, b'V', 1]);
    b
}

fn raster_receipt() -> Vec<u8> {
    let (rb, rows) = (48usize, 1050usize);
    let mut b = vec![0x1B, b'@'];
    let mut y = 0;
    while y < rows {
        let h = 256.min(rows - y);
        b.extend_from_slice(&[0x1D, b'v', b'0', 0]);
        b.extend_from_slice(&(rb as u16).to_le_bytes());
        b.extend_from_slice(&(h as u16).to_le_bytes());
        b.extend((0..rb * h).map(|i| if (i / rb + y) % 24 < 3 { 0xFF } else { 0x11 }));
        y += h;
    }
    b.extend_from_slice(&[0x1B, b'd', 4, 0x1D, b'V', 1]);
    b
}

/// Prints `data` `runs` times on `link` and returns the median seconds from enqueue to the
/// emulator's cut (or to the queue being idle for the virtual printer).
fn measure(link: Link, emu: Option<&Emulator>, data: &[u8], runs: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SpoolConfig {
        printers: vec![PrinterConfig { name: "bench".into(), link, profile: "generic-58".into(), query_status: true }],
        poll_interval_ms: 20,
        retry_interval_ms: 20,
        io_timeout_ms: 10_000,
        discover_cups: false,
        ..Default::default()
    };
    let spooler = Spooler::open(dir.path(), config).expect("open spooler");
    let printer = spooler.printers().expect("printers")[0].id;
    let mut times = Vec::new();
    for _ in 0..runs {
        let before = emu.map(|e| e.jobs().len()).unwrap_or(0);
        let start = Instant::now();
        spooler
            .enqueue(JobRequest::new(printer, JobKey::Label("bench".into()), DocFormat::EscPos, data.to_vec()))
            .expect("enqueue");
        match emu {
            Some(e) => assert!(e.wait_jobs(before + 1, Duration::from_secs(600))),
            None => assert!(spooler.wait_idle(Duration::from_secs(600))),
        }
        times.push(start.elapsed().as_secs_f64());
        assert!(spooler.wait_idle(Duration::from_secs(600)));
    }
    spooler.shutdown();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

/// The 20-item Kazakh ticket for a 58 mm printer, as `mode` encodes it.
fn kazakh_ticket(mode: &str) -> Vec<u8> {
    use kassa::render::{CodePageSlot, Format, PrinterProfile, RenderOptions, Renderer, RendererConfig, TemplateKey};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ticket_20_items_kk.json");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let base = PrinterProfile { native_qr: true, ..PrinterProfile::generic_58mm() };
    let profile = match mode {
        "KZ-1048 text" => PrinterProfile {
            code_pages: vec![
                CodePageSlot { page: kassa::render::codepage::CodePage::Kz1048, esc_t: 53 },
                CodePageSlot { page: kassa::render::codepage::CodePage::Cp866, esc_t: 17 },
            ],
            // An Epson: ₸ (not in KZ-1048) is a downloaded glyph.
            user_defined_chars: true,
            ..base
        },
        "CP866 + user chars" => PrinterProfile { user_defined_chars: true, ..base },
        "CP866 + raster lines" => base,
        _ => PrinterProfile { raster_everything: true, native_qr: false, ..base },
    };
    let opts = RenderOptions { profile, lang: "kk".into(), ..RenderOptions::default() };
    Renderer::new(RendererConfig::default())
        .render(TemplateKey::TICKET, &doc, &opts, Format::EscPos)
        .expect("render")
        .bytes
}

fn kazakh_table(profile: &kassa::spool::profile::PrinterProfile) {
    println!();
    println!("20-item Kazakh ticket, 58 mm, over a pty with the printer reading at the link's speed");
    println!("{:<22} {:>9} {:>14} {:>14} {:>13}", "encoding", "bytes", "s @ 115200", "s @ 9600", "floor @ 9600");
    for mode in ["KZ-1048 text", "CP866 + user chars", "CP866 + raster lines", "all raster"] {
        let data = kazakh_ticket(mode);
        let mut secs = Vec::new();
        for baud in [115_200u32, 9600] {
            let emu = Emulator::new(profile.clone());
            emu.set_throttle(Some(baud / 10));
            let path = emu.open_pty().expect("pty");
            let link = Link::Serial { path, baud, flow: FlowControl::None };
            secs.push(measure(link, Some(&emu), &data, 1));
            assert_eq!(emu.jobs().len(), 1, "printed exactly once");
            emu.stop();
        }
        let floor = data.len() as f64 * 10.0 / 9600.0;
        println!("{:<22} {:>9} {:>14.2} {:>14.2} {:>13.2}", mode, data.len(), secs[0], secs[1], floor);
    }
}

fn main() {
    let quick = std::env::var_os("SPOOL_BENCH_QUICK").is_some();
    let only = std::env::var("SPOOL_BENCH_ONLY").unwrap_or_default();
    let profile = kassa::spool::profile::embedded().expect("profiles")["generic-58"].clone();
    let profile = kassa::spool::profile::PrinterProfile { cutter: true, ..profile };
    if only != "transport" {
        kazakh_table(&profile);
    }
    if only == "kazakh" {
        return;
    }
    let receipts = [("text", text_receipt()), ("raster", raster_receipt())];
    println!("{:<22} {:>7} {:>9} {:>13} {:>12}", "transport", "receipt", "bytes", "s-to-paper", "link floor s");
    for (name, data) in &receipts {
        // TCP 9100 on loopback.
        let emu = Emulator::new(profile.clone());
        let port = emu.listen_tcp("127.0.0.1:0").expect("listen").port();
        let link = Link::Tcp { host: "127.0.0.1".into(), port };
        let s = measure(link, Some(&emu), data, 5);
        println!("{:<22} {:>7} {:>9} {:>13.3} {:>12}", "tcp 9100", name, data.len(), s, "-");
        emu.stop();

        // TCP to a printer that reads at a serial link's speed.
        for bytes_per_sec in [11_520u32, 960] {
            let label = format!("tcp @ {bytes_per_sec} B/s");
            let floor = data.len() as f64 / f64::from(bytes_per_sec);
            if quick && bytes_per_sec == 960 && *name == "raster" {
                println!("{:<22} {:>7} {:>9} {:>13} {:>12.1}", label, name, data.len(), "skipped", floor);
                continue;
            }
            let emu = Emulator::new(profile.clone());
            emu.set_throttle(Some(bytes_per_sec));
            let port = emu.listen_tcp("127.0.0.1:0").expect("listen").port();
            let link = Link::Tcp { host: "127.0.0.1".into(), port };
            let runs = if *name == "raster" { 1 } else { 3 };
            let s = measure(link, Some(&emu), data, runs);
            assert_eq!(emu.jobs().len(), runs, "each receipt printed exactly once");
            println!("{:<22} {:>7} {:>9} {:>13.3} {:>12.3}", label, name, data.len(), s, floor);
            emu.stop();
        }

        // Serial over a pty, paced to the baud rate.
        for baud in [115_200u32, 9600] {
            if quick && baud == 9600 && *name == "raster" {
                println!(
                    "{:<22} {:>7} {:>9} {:>13} {:>12.1}",
                    format!("pty serial {baud}"),
                    name,
                    data.len(),
                    "skipped",
                    data.len() as f64 * 10.0 / f64::from(baud)
                );
                continue;
            }
            let emu = Emulator::new(profile.clone());
            // The emulated printer drains its input at the UART rate, as real hardware does;
            // the spooler paces its writes to the same rate.
            emu.set_throttle(Some(baud / 10));
            let path = emu.open_pty().expect("pty");
            let link = Link::Serial { path, baud, flow: FlowControl::None };
            let runs = if *name == "raster" { 1 } else { 3 };
            let s = measure(link, Some(&emu), data, runs);
            assert_eq!(emu.jobs().len(), runs, "each receipt printed exactly once");
            let floor = data.len() as f64 * 10.0 / f64::from(baud);
            println!("{:<22} {:>7} {:>9} {:>13.3} {:>12.3}", format!("pty serial {baud}"), name, data.len(), s, floor);
            emu.stop();
        }

        // Virtual folder (file written and synced).
        let out = tempfile::tempdir().expect("tempdir");
        let link = Link::Virtual { dir: out.path().to_path_buf() };
        let s = measure(link, None, data, 5);
        println!("{:<22} {:>7} {:>9} {:>13.3} {:>12}", "virtual folder", name, data.len(), s, "-");
    }
}
