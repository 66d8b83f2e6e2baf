//! Shared helpers for the spooler tests: fast spooler settings, job builders (text and a
//! known raster), and a bounded wait for asynchronous outcomes.
#![allow(dead_code)] // each test file uses a different subset

use kassa::spool::config::{Link, PrinterConfig, SpoolConfig};
use kassa::spool::emulator::escpos::{Bitmap, ReceivedJob};
use kassa::spool::profile::PrinterProfile;
use std::time::{Duration, Instant};

/// Generous upper bound for anything asynchronous; reaching it is a failure, not a timing check.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Spooler settings with short poll and retry intervals and no CUPS probing.
pub fn fast_config(printers: Vec<(&str, Link)>) -> SpoolConfig {
    SpoolConfig {
        printers: printers
            .into_iter()
            .map(|(name, link)| PrinterConfig {
                name: name.into(),
                link,
                profile: "generic-58".into(),
                query_status: true,
            })
            .collect(),
        poll_interval_ms: 30,
        retry_interval_ms: 30,
        status_timeout_ms: 3000,
        io_timeout_ms: 5000,
        discover_cups: false,
        ..Default::default()
    }
}

/// The generic 58 mm profile.
pub fn profile58() -> PrinterProfile {
    kassa::spool::profile::embedded().expect("embedded profiles")["generic-58"].clone()
}

/// Polls `cond` until true or [`PATIENCE`] runs out; returns the last result.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// A text job: `ESC @`, the label line, `n` filler lines, feed and cut.
pub fn text_job(label: &str, n: usize) -> Vec<u8> {
    kassa::spool::cli::drive_job(label, n)
}

/// A deterministic test bitmap: 48 bytes wide, `rows` high, a mix of diagonal lines,
/// a border and pseudo-random bytes so any misplaced byte changes it.
pub fn test_bitmap(rows: u32) -> Bitmap {
    let row_bytes = 48usize;
    let mut data = Vec::with_capacity(row_bytes * rows as usize);
    let mut seed: u32 = 0x1234_5678;
    for y in 0..rows as usize {
        for x in 0..row_bytes {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let mut b = (seed >> 24) as u8;
            if x == (y / 8) % row_bytes {
                b |= 0x80 >> (y % 8);
            }
            if y == 0 || x == 0 {
                b = 0xFF;
            }
            data.push(b);
        }
    }
    Bitmap { width: (row_bytes * 8) as u32, height: rows, data }
}

/// `ESC @` + the bitmap as `GS v 0` bands of at most `band` rows + feed + cut.
pub fn raster_job(bitmap: &Bitmap, band: u32) -> Vec<u8> {
    let rb = bitmap.row_bytes();
    let mut b = vec![0x1B, b'@'];
    let mut y = 0u32;
    while y < bitmap.height {
        let h = band.min(bitmap.height - y);
        b.extend_from_slice(&[0x1D, b'v', b'0', 0]);
        b.extend_from_slice(&(rb as u16).to_le_bytes());
        b.extend_from_slice(&(h as u16).to_le_bytes());
        let start = y as usize * rb;
        b.extend_from_slice(&bitmap.data[start..start + h as usize * rb]);
        y += h;
    }
    b.extend_from_slice(&[0x1B, b'd', 4, 0x1D, b'V', 1]);
    b
}

/// The `JOB nn` label of a printed job (first line starting with `JOB `).
pub fn label_of(job: &ReceivedJob) -> Option<String> {
    job.lines.iter().find(|l| l.starts_with("JOB ") && l.len() == 6).cloned()
}

/// Whether the job carries the copy banner.
pub fn is_copy_print(job: &ReceivedJob) -> bool {
    job.has_line("КОПИЯ / COPY (reprint)") || job.has_line("COPY (reprint)")
}
