//! A receipt through each emulated transport equals its golden picture: the seed sale rendered as raster
//! for a 58 mm printer goes through the spooler over TCP 9100 and over a serial pseudo-terminal, and the
//! printer emulator's paper equals `golden/ticket/ticket_sale.384.png` dot for dot.
use crate::spool_util;

use kassa::receipt::render_profile;
use kassa::render::{Format, RenderOptions, Renderer, RendererConfig, TemplateKey};
use kassa::spool::config::{DocFormat, FlowControl, Link};
use kassa::spool::emulator::Emulator;
use kassa::spool::{JobKey, JobRequest, Spooler};
use spool_util::*;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The golden PNG as rows of ink (true = black).
fn golden() -> (u32, u32, Vec<bool>) {
    let file = std::fs::File::open(root().join("golden/ticket/ticket_sale.384.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::One);
    let ink = (0..info.height)
        .flat_map(|y| (0..info.width).map(move |x| (x, y)))
        .map(|(x, y)| buf[y as usize * info.line_size + x as usize / 8] & (0x80 >> (x % 8)) == 0)
        .collect();
    (info.width, info.height, ink)
}

/// A 58 mm printer with a cutter: the emulator counts a receipt as printed when it is cut.
fn printer() -> kassa::spool::profile::PrinterProfile {
    kassa::spool::profile::PrinterProfile { cutter: true, ..profile58() }
}

fn raster_receipt() -> Vec<u8> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/ticket_sale.json")).unwrap())
            .unwrap();
    let mut profile = render_profile(&printer());
    profile.raster_everything = true;
    let opts = RenderOptions { profile, ..RenderOptions::default() };
    Renderer::new(RendererConfig::default()).render(TemplateKey::TICKET, &doc, &opts, Format::EscPos).unwrap().bytes
}

fn print_and_compare(link: Link, emu: &Emulator) {
    let dir = tempfile::tempdir().unwrap();
    let spooler = Spooler::open(dir.path(), fast_config(vec![("p", link)])).unwrap();
    let printer = spooler.printers().unwrap()[0].id;
    let key = JobKey::Document { kkm: "6923".into(), shift: 1, number: 2 };
    spooler.enqueue(JobRequest::new(printer, key, DocFormat::EscPos, raster_receipt())).unwrap();
    assert!(spooler.wait_idle(PATIENCE));
    assert!(emu.wait_jobs(1, PATIENCE), "the receipt was not cut: {:?}", emu.log());
    let paper = &emu.jobs()[0].raster;
    let (width, height, ink) = golden();
    assert_eq!((paper.width, paper.height), (width, height), "paper size");
    let differ = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| paper.get(x, y) != ink[(y * width + x) as usize])
        .count();
    assert_eq!(differ, 0, "dots differing from the golden picture");
    spooler.shutdown();
    emu.stop();
}

#[test]
fn over_tcp_9100_the_paper_equals_the_golden_picture() {
    let emu = Emulator::new(printer());
    let addr = emu.listen_tcp("127.0.0.1:0").unwrap();
    print_and_compare(Link::Tcp { host: "127.0.0.1".into(), port: addr.port() }, &emu);
}

#[cfg(unix)]
#[test]
fn over_serial_the_paper_equals_the_golden_picture() {
    let emu = Emulator::new(printer());
    let path = emu.open_pty().unwrap();
    print_and_compare(Link::Serial { path, baud: 115_200, flow: FlowControl::None }, &emu);
}
