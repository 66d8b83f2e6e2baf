//! `kassa printer self-test NAME` through the binary, against the printer emulator: one page shows how the
//! printer gets Kazakh letters (downloaded glyphs on a CP866 clone, read back as the letters they draw), every
//! code page's sample, whether each capability was verified, and a QR code (the printer's own where the profile
//! says it has one). A downloaded glyph reads as a letter only when it is that letter of the receipt font, dot
//! for dot.
use crate::common;
use crate::spool_util;

use kassa::spool::emulator::Emulator;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A printer emulated with `profile` and the receipt font; the config file naming it `till`.
fn printer(profile: &str, dir: &std::path::Path) -> (Emulator, std::path::PathBuf) {
    let p = kassa::spool::profile::embedded().expect("profiles")[profile].clone();
    let font = kassa::rom_font::ReceiptRomFont::new(&kassa::receipt::render_profile(&p));
    let emulator = Emulator::with_font(p, Some(Arc::new(font)));
    let addr = emulator.listen_tcp("127.0.0.1:0").expect("listen");
    let config = dir.join("kassa.toml");
    std::fs::write(
        &config,
        format!(
            "[spool]\nstatus_timeout_ms = 2000\n[[spool.printers]]\nname = \"till\"\nprofile = \"{profile}\"\nlink = {{ kind = \"tcp\", host = \"127.0.0.1\", port = {} }}\n",
            addr.port()
        ),
    )
    .expect("config");
    (emulator, config)
}

fn self_test(config: &std::path::Path, name: &str) -> (bool, String) {
    let out = common::kassa().args(["printer", "self-test", name, "--config"]).arg(config).output().expect("run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn printed_page(emulator: &Emulator) -> kassa::spool::emulator::escpos::ReceivedJob {
    let deadline = Instant::now() + spool_util::PATIENCE;
    while emulator.jobs().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(emulator.torn().is_empty(), "nothing torn");
    let jobs = emulator.jobs();
    assert_eq!(jobs.len(), 1, "one page");
    jobs[0].clone()
}

#[test]
fn a_cp866_clone_prints_the_kazakh_letters_as_downloaded_glyphs_drawn_exactly_as_the_receipt_font() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emulator, config) = printer("generic-58", dir.path());
    let (ok, report) = self_test(&config, "till");
    assert!(ok, "{report}");
    assert!(report.contains("downloaded glyphs") && report.contains("sent over tcp"), "{report}");
    let page = printed_page(&emulator);
    assert!(page.bytes.windows(2).any(|w| w == [0x1B, b'&']), "glyphs are downloaded with ESC &");
    // Raster bands one text line (24 dots) tall would be lines sent as pictures: there are none.
    let line_bands = page
        .bytes
        .windows(8)
        .filter(|w| w[..3] == [0x1D, b'v', b'0'] && u16::from_le_bytes([w[6], w[7]]) == 24)
        .count();
    assert_eq!(line_bands, 0, "every text line is text");
    // The emulator reads a downloaded glyph as a letter only when it is exactly the receipt font's letter.
    for line in ["ӘҒҚҢӨҰҮҺІ әғқңөұүһі", "Қазақстан Республикасы, Астана"] {
        assert!(page.has_line(line), "{line:?} printed as text: {:?}", page.lines);
    }
    assert!(page.has_line("NOT VERIFIED"), "an unverified capability says so: {:?}", page.lines);
}

#[test]
fn a_printer_with_its_own_qr_prints_the_page_qr_itself_and_says_where_each_capability_comes_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emulator, config) = printer("rongta-rpp02", dir.path());
    let (ok, report) = self_test(&config, "till");
    assert!(ok, "{report}");
    let page = printed_page(&emulator);
    assert_eq!(page.qr, vec!["https://kassa.local/self-test?ҚАЗ=1".as_bytes().to_vec()], "GS ( k, not raster");
    assert!(page.has_line("per the maker's manual"), "{:?}", page.lines);
    assert!(page.has_line("ӘҒҚҢӨҰҮҺІ әғқңөұүһі"), "{:?}", page.lines);

    let (ok, report) = self_test(&config, "kitchen");
    assert!(!ok && report.contains("no printer \"kitchen\"") && report.contains("till"), "{report}");
}
