//! ESC/POS back-end: printer bytes for the profile in the options.
//!
//! A job starts with `ESC @` (reset) and `FS .` (leave Kanji/GBK mode, which otherwise pairs
//! Cyrillic bytes into Chinese characters). Text lines go in the first code page of the
//! profile that can encode the whole line (`ESC t n` only when the page changes); a line no
//! offered page can encode, e.g. Kazakh on a CP866-only printer, is sent as a raster image of
//! that line, or, where the profile says the printer holds user-defined characters, as text
//! with the missing letters downloaded as glyphs ([`super::udc`]). `ESC 3` sets the line spacing to
//! the layout's line height on every receipt, so text and raster lines stand alike, and every
//! receipt has the PNG's line pitch. Images and barcodes are raster (`GS v 0`, in bands); QR is `GS ( k` or raster
//! as the profile says. With `raster_everything` the whole receipt is one raster stream,
//! bit-for-bit the PNG's bitmap.
use super::udc::UdcPlan;
use crate::render::layout::{Item, ItemKind, Layout, TextLine};
use crate::render::options::RenderOptions;
use crate::render::profile::{CodePageSlot, PrinterProfile};
use crate::render::raster::{Bitmap, Glyphs, rasterize, rasterize_item_with};

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;
pub const LF: u8 = 0x0A;

/// Renders `layout` (laid out with `Geometry::printer(&opts.profile)`) to ESC/POS bytes.
pub fn render(layout: &Layout, opts: &RenderOptions) -> Vec<u8> {
    let p = &opts.profile;
    let threshold = opts.threshold();
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(&[ESC, b'@', FS, b'.']);
    if p.raster_everything {
        let bm = rasterize(layout, threshold);
        let mut from = 0;
        for item in &layout.items {
            match &item.kind {
                ItemKind::Text(_)
                | ItemKind::Feed { .. }
                | ItemKind::Qr { .. }
                | ItemKind::Barcode { .. }
                | ItemKind::Image { .. } => {}
                ItemKind::Cut { partial } => {
                    raster(&mut out, &bm.rows(from, item.y), p.raster_band_rows);
                    from = item.y;
                    cut(&mut out, p, *partial);
                }
                ItemKind::Drawer => {
                    raster(&mut out, &bm.rows(from, item.y), p.raster_band_rows);
                    from = item.y;
                    drawer(&mut out);
                }
                ItemKind::Raw(bytes) => {
                    raster(&mut out, &bm.rows(from, item.y), p.raster_band_rows);
                    from = item.y;
                    out.extend_from_slice(bytes);
                }
            }
        }
        raster(&mut out, &bm.rows(from, bm.height), p.raster_band_rows);
        return out;
    }
    let mut page: Option<u8> = None;
    let mut glyphs = Glyphs::new(layout.geometry.font_px(), threshold);
    let udc = match p.code_pages.first() {
        Some(base) if p.user_defined_chars => {
            UdcPlan::build(layout, *base, |line| pick_page(line, &p.code_pages).is_some())
        }
        _ => UdcPlan::default(),
    };
    // One line pitch on every receipt, the layout's (the PNG's): text, downloaded and raster lines alike, and
    // the same whether or not a receipt has lines of the kinds the printer's own pitch would not match.
    out.extend_from_slice(&[ESC, b'3', layout.geometry.line_h.min(255) as u8]);
    udc.define(&layout.geometry, &mut glyphs, &mut out);
    // `ESC % 1` is on from the definitions to the end, but around ASCII characters whose code a glyph took.
    let mut glyphs_on = !udc.is_empty();
    for item in &layout.items {
        match &item.kind {
            ItemKind::Text(line) => match line.page.as_ref().or_else(|| pick_page(line, &p.code_pages)) {
                Some(slot) => {
                    if page != Some(slot.esc_t) {
                        out.extend_from_slice(&[ESC, b't', slot.esc_t]);
                        page = Some(slot.esc_t);
                    }
                    text_line(&mut out, line, slot, &udc, &mut glyphs_on);
                }
                None => match udc.base.filter(|_| udc.covers(line)) {
                    Some(slot) => {
                        if page != Some(slot.esc_t) {
                            out.extend_from_slice(&[ESC, b't', slot.esc_t]);
                            page = Some(slot.esc_t);
                        }
                        text_line(&mut out, line, &slot, &udc, &mut glyphs_on);
                    }
                    None => raster_item(&mut out, item, layout, &mut glyphs, p),
                },
            },
            ItemKind::Feed { lines } => {
                let mut n = *lines;
                while n > 0 {
                    let k = n.min(255);
                    out.extend_from_slice(&[ESC, b'd', k as u8]);
                    n -= k;
                }
            }
            ItemKind::Qr { data, module, quiet, .. } => {
                if p.native_qr && data.len() <= 7000 {
                    // The quiet zone as paper feed, so the printed symbol sits where the PNG has it.
                    out.extend_from_slice(&[ESC, b'J', (*quiet).min(255) as u8]);
                    native_qr(&mut out, data.as_bytes(), *module);
                    out.extend_from_slice(&[ESC, b'J', (*quiet).min(255) as u8]);
                } else {
                    raster_item(&mut out, item, layout, &mut glyphs, p);
                }
            }
            ItemKind::Barcode { .. } => raster_item(&mut out, item, layout, &mut glyphs, p),
            ItemKind::Image { .. } => raster_item(&mut out, item, layout, &mut glyphs, p),
            ItemKind::Cut { partial } => cut(&mut out, p, *partial),
            ItemKind::Drawer => drawer(&mut out),
            ItemKind::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }
    out
}

/// The first offered code page that encodes every character of the line.
fn pick_page<'a>(line: &TextLine, pages: &'a [CodePageSlot]) -> Option<&'a CodePageSlot> {
    pages.iter().find(|slot| line.runs.iter().all(|r| r.text.chars().all(|c| slot.page.encode_char(c).is_some())))
}

/// One text line in `slot`'s page; letters the page lacks print as downloaded glyphs of `udc`
/// (emphasis is off around them: the bold glyph is downloaded as drawn). `glyphs_on` is the printer's
/// `ESC %` state, switched only where a character needs the other one.
fn text_line(out: &mut Vec<u8>, line: &TextLine, slot: &CodePageSlot, udc: &UdcPlan, glyphs_on: &mut bool) {
    let mut col = 0;
    let mut glyphs = |out: &mut Vec<u8>, on: bool| {
        if *glyphs_on != on {
            out.extend_from_slice(&[ESC, b'%', u8::from(on)]);
            *glyphs_on = on;
        }
    };
    for run in &line.runs {
        while col < run.col {
            out.push(b' ');
            col += 1;
        }
        let s = run.style;
        if s.bold {
            out.extend_from_slice(&[ESC, b'E', 1]);
        }
        let size = (if s.wide { 0x10 } else { 0 }) | (if s.tall { 0x01 } else { 0 });
        if size != 0 {
            out.extend_from_slice(&[GS, b'!', size]);
        }
        if s.inverse {
            out.extend_from_slice(&[GS, b'B', 1]);
        }
        for c in run.text.chars() {
            match (slot.page.encode_char(c), udc.code(c, s.bold)) {
                (Some(b), _) => {
                    if udc.is_glyph_code(b) {
                        glyphs(out, false);
                    }
                    out.push(b);
                }
                (None, Some(code)) => {
                    glyphs(out, true);
                    if s.bold {
                        out.extend_from_slice(&[ESC, b'E', 0, code, ESC, b'E', 1]);
                    } else {
                        out.push(code);
                    }
                }
                // pick_page checked every character; only a forced self-test sample can miss one.
                (None, None) => out.push(b'?'),
            }
            col += s.char_cols();
        }
        if s.inverse {
            out.extend_from_slice(&[GS, b'B', 0]);
        }
        if size != 0 {
            out.extend_from_slice(&[GS, b'!', 0]);
        }
        if s.bold {
            out.extend_from_slice(&[ESC, b'E', 0]);
        }
    }
    out.push(LF);
}

fn raster_item(out: &mut Vec<u8>, item: &Item, layout: &Layout, glyphs: &mut Glyphs, p: &PrinterProfile) {
    let bm = rasterize_item_with(item, &layout.geometry, glyphs);
    raster(out, &bm, p.raster_band_rows);
}

/// `GS v 0 0 xL xH yL yH d…` in bands of at most `band` rows.
pub fn raster(out: &mut Vec<u8>, bm: &Bitmap, band: u32) {
    let band = band.max(1);
    let stride = bm.stride;
    let mut y = 0;
    while y < bm.height {
        let h = band.min(bm.height - y);
        out.extend_from_slice(&[
            GS,
            b'v',
            b'0',
            0,
            (stride & 0xFF) as u8,
            (stride >> 8) as u8,
            (h & 0xFF) as u8,
            (h >> 8) as u8,
        ]);
        out.extend_from_slice(&bm.bits[y as usize * stride..(y + h) as usize * stride]);
        y += h;
    }
}

/// QR model 2, error correction M, module size in dots, then store and print.
fn native_qr(out: &mut Vec<u8>, data: &[u8], module: u32) {
    let m = module.clamp(1, 16) as u8;
    out.extend_from_slice(&[ESC, b'a', 1]);
    out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, m]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
    let len = data.len() + 3;
    out.extend_from_slice(&[GS, b'(', b'k', (len & 0xFF) as u8, (len >> 8) as u8, 49, 80, 48]);
    out.extend_from_slice(data);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
    out.extend_from_slice(&[ESC, b'a', 0]);
}

/// `GS V 66 0` (partial) or `GS V 65 0` (full): feed to the cutter, then cut. Without a
/// cutter, feed the paper past the tear bar instead.
fn cut(out: &mut Vec<u8>, p: &PrinterProfile, partial: bool) {
    if p.cutter {
        out.extend_from_slice(&[GS, b'V', if partial { 66 } else { 65 }, 0]);
    } else {
        out.extend_from_slice(&[ESC, b'd', 4]);
    }
}

/// `ESC p 0 25 250`: pulse drawer pin 2 for 50 ms on, 500 ms off.
fn drawer(out: &mut Vec<u8>) {
    out.extend_from_slice(&[ESC, b'p', 0, 25, 250]);
}
