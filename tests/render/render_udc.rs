//! Kazakh at text speed on a CP866 printer: the 20-item Kazakh ticket rendered for a 58 mm
//! CP866 printer that holds user-defined characters goes out as text with the missing letters
//! downloaded (`ESC &`, `ESC %`), and the printer emulator, drawing those bytes with the
//! printer's font, puts on paper exactly the receipt's PNG (`golden/ticket/ticket_20_items_kk.384.png`).
use kassa::render::{Format, PrinterProfile, RenderOptions, Renderer, RendererConfig, TemplateKey};
use kassa::rom_font::ReceiptRomFont;
use kassa::spool::emulator::escpos::{Bitmap, Interpreter};
use std::path::Path;
use std::sync::Arc;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ticket() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/ticket_20_items_kk.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn render(profile: &PrinterProfile) -> Vec<u8> {
    let opts = RenderOptions { profile: profile.clone(), lang: "kk".into(), ..RenderOptions::default() };
    Renderer::new(RendererConfig::default())
        .render(TemplateKey::TICKET, &ticket(), &opts, Format::EscPos)
        .unwrap()
        .bytes
}

fn udc_58() -> PrinterProfile {
    PrinterProfile { user_defined_chars: true, ..PrinterProfile::generic_58mm() }
}

/// The paper the emulator draws from `bytes`, with a cutter-terminated job.
fn paper(bytes: &[u8], profile: &PrinterProfile) -> Bitmap {
    let spool_profile = kassa::spool::profile::PrinterProfile {
        width_dots: profile.width_dots,
        ..kassa::spool::profile::embedded().unwrap()["generic-58"].clone()
    };
    let font = Arc::new(ReceiptRomFont::new(profile));
    let mut emu = Interpreter::new(spool_profile).with_font(Some(font));
    let out = emu.feed(bytes, Default::default());
    assert_eq!(out.jobs.len(), 1, "one receipt, cut once");
    assert_eq!(out.jobs[0].unknown_commands, 0);
    out.jobs[0].paper.clone()
}

fn golden_png() -> (u32, u32, Vec<bool>) {
    let file = std::fs::File::open(root().join("golden/ticket/ticket_20_items_kk.384.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ink = (0..info.height)
        .flat_map(|y| (0..info.width).map(move |x| (x, y)))
        .map(|(x, y)| buf[y as usize * info.line_size + x as usize / 8] & (0x80 >> (x % 8)) == 0)
        .collect();
    (info.width, info.height, ink)
}

#[test]
fn kazakh_on_cp866_with_user_defined_characters_prints_the_receipts_png() {
    let profile = udc_58();
    let bytes = render(&profile);
    // Text, not raster lines: the only raster left is the QR code (this profile has no native QR).
    let raster_cmds = bytes.windows(3).filter(|w| w == b"\x1dv0").count();
    assert!(bytes.windows(2).any(|w| w == b"\x1b&"), "glyphs are downloaded");
    let paper = paper(&bytes, &profile);
    let (width, height, ink) = golden_png();
    assert_eq!(paper.width, width);
    assert!(paper.height >= height, "paper {} rows, PNG {height}", paper.height);
    let differ: Vec<(u32, u32)> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| paper.get(x, y) != ink[(y * width + x) as usize])
        .collect();
    assert!(
        differ.is_empty(),
        "{} dots differ, first {:?}; raster commands {raster_cmds}",
        differ.len(),
        &differ[..differ.len().min(10)]
    );
    // Below the PNG only blank paper fed to the cutter.
    assert!((height..paper.height).all(|y| (0..width).all(|x| !paper.get(x, y))));
}

#[test]
fn without_the_switch_kazakh_lines_stay_raster_with_line_spacing_set() {
    let plain = render(&PrinterProfile::generic_58mm());
    let udc = render(&udc_58());
    assert!(!plain.windows(2).any(|w| w == b"\x1b&"), "no downloads unless the profile says so");
    // ESC 3 24: raster lines and text lines advance alike (24 dots, the layout's line height).
    assert!(plain.windows(3).any(|w| w == b"\x1b3\x18"));
    assert!(udc.len() * 3 < plain.len(), "user-defined characters: {} bytes against {} raster", udc.len(), plain.len());
    // The raster-lines receipt also prints its PNG on the emulator, now that line spacing is set.
    let paper = paper(&plain, &PrinterProfile::generic_58mm());
    let (width, height, ink) = golden_png();
    let differ: Vec<(u32, u32)> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| paper.get(x, y) != ink[(y * width + x) as usize])
        .collect();
    let bbox =
        differ.iter().fold((u32::MAX, u32::MAX, 0, 0), |b, &(x, y)| (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y)));
    assert!(differ.is_empty(), "{} dots differ in {bbox:?}", differ.len());
}

#[test]
fn the_ticket_with_native_qr_fits_in_6_kb_and_still_prints_its_png() {
    let profile = PrinterProfile { native_qr: true, ..udc_58() };
    let bytes = render(&profile);
    assert!(bytes.len() <= 6 * 1024, "{} bytes", bytes.len());
    assert!(!bytes.windows(3).any(|w| w == b"\x1dv0"), "no raster at all");
    // The emulator draws the firmware's QR (level M, the module size sent) where the PNG has it;
    // the firmware picks its own mask, so inside the symbol the modules may differ.
    let opts = RenderOptions { profile: profile.clone(), lang: "kk".into(), ..RenderOptions::default() };
    let prepared = Renderer::new(RendererConfig::default())
        .prepare(TemplateKey::TICKET, &ticket(), &opts, Format::EscPos)
        .unwrap();
    let (qx, qy, side) = prepared
        .layout
        .items
        .iter()
        .find_map(|i| match &i.kind {
            kassa::render::layout::ItemKind::Qr { x, module, quiet, matrix, .. } => {
                Some((*x, i.y + quiet, matrix.size as u32 * module))
            }
            _ => None,
        })
        .expect("a QR code");
    let paper = paper(&bytes, &profile);
    let (width, height, ink) = golden_png();
    let inside = |x: u32, y: u32| (qx..qx + side).contains(&x) && (qy..qy + side).contains(&y);
    let differ = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| !inside(x, y) && paper.get(x, y) != ink[(y * width + x) as usize])
        .count();
    assert_eq!(differ, 0, "outside the QR symbol the paper is the PNG");
    let ink_inside =
        (qy..qy + side).flat_map(|y| (qx..qx + side).map(move |x| (x, y))).filter(|&(x, y)| paper.get(x, y)).count();
    assert!(ink_inside as u32 > side * side / 4, "the symbol is drawn");
}
