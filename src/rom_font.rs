//! The layout engine's font as the printer emulator's built-in font: the emulator then draws
//! text exactly as the PNG back-end does, so "what the printer prints" and "the receipt's PNG"
//! can be compared dot for dot (`kassa printer-emulator`, golden tests). It lives outside both
//! parts because `render` never imports `spool` and `spool` never renders.
use crate::render::layout::Geometry;
use crate::render::profile::PrinterProfile;
use crate::render::raster::{Glyphs, cell_bitmap};
use crate::spool::emulator::escpos::{Bitmap, RomFont};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Font A of a printer with `profile`'s geometry, drawn with the receipt font.
pub struct ReceiptRomFont {
    geometry: Geometry,
    glyphs: Mutex<Glyphs>,
    /// Cell bitmap → the letters drawn so (a Latin and a Cyrillic letter may look alike), for
    /// [`RomFont::read_line`]; built on first use.
    cells: OnceLock<HashMap<Vec<u8>, Vec<char>>>,
}

/// The letters a receipt may send as raster lines: printable ASCII, Russian, Kazakh, Belarusian and
/// Ukrainian letters, and the signs receipts use.
fn readable_chars() -> impl Iterator<Item = char> {
    ('!'..='~').chain('А'..='я').chain("ЁёӘәҒғҚқҢңӨөҰұҮүҺһІіЎўЄєЇїҐґ₸«»№—–·×".chars())
}

/// The cell of `band` at `x0`, `w` dots wide, as packed rows; `None` when it lies off the band.
fn cell_key(band: &Bitmap, x0: i64, w: u32) -> Option<Vec<u8>> {
    if x0 < 0 || x0 as u32 + w > band.width {
        return None;
    }
    let mut key = vec![0u8; (w.div_ceil(8) * band.height) as usize];
    let stride = w.div_ceil(8) as usize;
    for y in 0..band.height {
        for x in 0..w {
            if band.get(x0 as u32 + x, y) {
                key[y as usize * stride + (x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
    }
    Some(key)
}

impl ReceiptRomFont {
    /// The font for `profile` at the default threshold.
    pub fn new(profile: &PrinterProfile) -> Self {
        let geometry = Geometry::printer(profile);
        let threshold = crate::render::RenderOptions::default().threshold();
        Self { glyphs: Mutex::new(Glyphs::new(geometry.font_px(), threshold)), geometry, cells: OnceLock::new() }
    }

    fn cells(&self) -> &HashMap<Vec<u8>, Vec<char>> {
        self.cells.get_or_init(|| {
            let w = self.geometry.cell_w.round().max(1.0) as u32;
            let mut map: HashMap<Vec<u8>, Vec<char>> = HashMap::new();
            for c in readable_chars() {
                for bold in [false, true] {
                    let Some(g) = self.glyph(c, bold) else { continue };
                    let Some(key) = cell_key(&g, 0, w) else { continue };
                    let letters = map.entry(key).or_default();
                    if !letters.contains(&c) {
                        letters.push(c);
                    }
                }
            }
            map
        })
    }
}

impl RomFont for ReceiptRomFont {
    fn cell(&self) -> (u32, u32) {
        (self.geometry.cell_w.round() as u32, self.geometry.line_h)
    }

    fn glyph(&self, c: char, bold: bool) -> Option<Bitmap> {
        if c == ' ' {
            return None;
        }
        let mut glyphs = self.glyphs.lock().unwrap_or_else(|e| e.into_inner());
        let cell = cell_bitmap(c, bold, &self.geometry, &mut glyphs);
        let mut out = Bitmap::blank(cell.width, cell.height);
        for y in 0..cell.height {
            for x in 0..cell.width {
                if cell.get(x, y) {
                    out.set(x, y, true);
                }
            }
        }
        Some(out)
    }

    fn read_glyph(&self, glyph: &Bitmap) -> Option<char> {
        let w = self.geometry.cell_w.round().max(1.0) as u32;
        if glyph.height != self.geometry.line_h {
            return None;
        }
        let letters = self.cells().get(&cell_key(glyph, 0, w)?)?;
        letters.iter().find(|c| !c.is_ascii()).or(letters.first()).copied()
    }

    fn read_line(&self, band: &Bitmap) -> Option<String> {
        let g = &self.geometry;
        if band.height != g.line_h || band.width < g.width_dots {
            return None;
        }
        let w = g.cell_w.round().max(1.0) as u32;
        let blank = vec![0u8; (w.div_ceil(8) * band.height) as usize];
        let mut found: Vec<Option<&Vec<char>>> = Vec::with_capacity(g.columns);
        for col in 0..g.columns {
            let key = cell_key(band, (g.margin + col as f32 * g.cell_w).round() as i64, w)?;
            found.push(if key == blank { None } else { Some(self.cells().get(&key)?) });
        }
        // Look-alikes (Latin A, Cyrillic А) are read in the script the line's unambiguous letters use.
        let cyrillic = |c: &char| ('\u{400}'..='\u{4FF}').contains(c);
        let in_cyrillic = found.iter().flatten().filter(|l| l.len() == 1).any(|l| cyrillic(&l[0]));
        let text: String = found
            .iter()
            .map(|cell| match cell {
                None => ' ',
                // A digit or a sign drawn like a letter (3 and З) is the digit: receipts are full of numbers.
                Some(letters) => *letters
                    .iter()
                    .find(|c| !c.is_alphabetic())
                    .or_else(|| letters.iter().find(|c| cyrillic(c) == in_cyrillic))
                    .unwrap_or(&letters[0]),
            })
            .collect();
        let text = text.trim_end().to_string();
        (!text.is_empty()).then_some(text)
    }
}
