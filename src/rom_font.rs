//! The layout engine's font as the printer emulator's built-in font: the emulator then draws
//! text exactly as the PNG back-end does, so "what the printer prints" and "the receipt's PNG"
//! can be compared dot for dot (`kassa printer-emulator`, golden tests). It lives outside both
//! parts because `render` never imports `spool` and `spool` never renders.
use crate::render::layout::Geometry;
use crate::render::profile::PrinterProfile;
use crate::render::raster::{Glyphs, cell_bitmap};
use crate::spool::emulator::escpos::{Bitmap, RomFont};
use std::sync::Mutex;

/// Font A of a printer with `profile`'s geometry, drawn with the receipt font.
pub struct ReceiptRomFont {
    geometry: Geometry,
    glyphs: Mutex<Glyphs>,
}

impl ReceiptRomFont {
    /// The font for `profile` at the default threshold.
    pub fn new(profile: &PrinterProfile) -> Self {
        let geometry = Geometry::printer(profile);
        let threshold = crate::render::RenderOptions::default().threshold();
        Self { glyphs: Mutex::new(Glyphs::new(geometry.font_px(), threshold)), geometry }
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
}
