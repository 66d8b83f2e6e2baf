//! Drawing a [`Layout`] into a 1-bit ink bitmap, shared by the PNG and ESC/POS back-ends.
//!
//! The bitmap stores *ink* (1 = black), packed MSB first, which is exactly the `GS v 0`
//! layout; the PNG back-end inverts it because in PNG grayscale 1 means white. Glyph coverage
//! is binarised here: a pixel is inked when its lightness (255 − coverage) is below the
//! threshold, so a higher `image_pixel_draw_threshold` gives bolder text.
use super::font;
use super::layout::{Geometry, Item, ItemKind, Layout, TextLine};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A packed 1-bit bitmap, 1 = ink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    /// Bytes per row: `ceil(width / 8)`.
    pub stride: usize,
    pub bits: Vec<u8>,
}

impl Bitmap {
    pub fn new(width: u32, height: u32) -> Bitmap {
        let stride = width.div_ceil(8) as usize;
        Bitmap { width, height, stride, bits: vec![0; stride * height as usize] }
    }

    #[inline]
    fn set(&mut self, x: i64, y: i64, ink: bool) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let i = y as usize * self.stride + (x as usize >> 3);
        let m = 0x80u8 >> (x & 7);
        if ink {
            self.bits[i] |= m;
        } else {
            self.bits[i] &= !m;
        }
    }

    /// Whether the pixel is inked (out of range counts as paper).
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        self.bits[y as usize * self.stride + (x as usize >> 3)] & (0x80 >> (x & 7)) != 0
    }

    fn fill(&mut self, x0: i64, y0: i64, w: i64, h: i64, ink: bool) {
        // Whole bytes at a time: QR modules and bars are most of a receipt's ink.
        for y in y0..y0 + h {
            let mut x = x0;
            while x < x0 + w {
                let chunk = (x0 + w - x).min(MAX_ROW_BITS as i64);
                let bits = !0u128 << (128 - chunk);
                self.blit_row(x, y, bits, chunk as usize, ink);
                x += chunk;
            }
        }
    }

    /// Rows `from..to` as a new bitmap.
    pub fn rows(&self, from: u32, to: u32) -> Bitmap {
        let to = to.min(self.height);
        let from = from.min(to);
        Bitmap {
            width: self.width,
            height: to - from,
            stride: self.stride,
            bits: self.bits[from as usize * self.stride..to as usize * self.stride].to_vec(),
        }
    }
}

/// Draws the whole layout.
pub fn rasterize(layout: &Layout, threshold: u8) -> Bitmap {
    let mut bm = Bitmap::new(layout.geometry.width_dots, layout.height);
    let mut glyphs = Glyphs::new(layout.geometry.font_px(), threshold);
    for item in &layout.items {
        draw_item(&mut bm, item, item.y, &layout.geometry, &mut glyphs);
    }
    bm
}

/// Draws a single item into its own bitmap (for lines that must go as raster in text mode).
pub fn rasterize_item(item: &Item, g: &Geometry, threshold: u8) -> Bitmap {
    rasterize_item_with(item, g, &mut Glyphs::new(g.font_px(), threshold))
}

/// Like [`rasterize_item`], reusing `glyphs` across the items of one layout.
pub fn rasterize_item_with(item: &Item, g: &Geometry, glyphs: &mut Glyphs) -> Bitmap {
    let mut bm = Bitmap::new(g.width_dots, item.height);
    draw_item(&mut bm, item, 0, g, glyphs);
    bm
}

fn draw_item(bm: &mut Bitmap, item: &Item, y: u32, g: &Geometry, glyphs: &mut Glyphs) {
    let threshold = glyphs.threshold;
    match &item.kind {
        ItemKind::Text(line) => draw_text(bm, line, y, g, glyphs),
        ItemKind::Feed { .. } => {}
        ItemKind::Qr { matrix, x, module, quiet, .. } => {
            let m = *module as i64;
            for (i, dark) in matrix.dark().iter().enumerate() {
                if *dark {
                    let (mx, my) = ((i % matrix.size) as i64, (i / matrix.size) as i64);
                    bm.fill(*x as i64 + mx * m, (y + quiet) as i64 + my * m, m, m, true);
                }
            }
        }
        ItemKind::Barcode { bars, x, module, bar_height, pad, .. } => {
            let m = *module as i64;
            for (i, bar) in bars.iter().enumerate() {
                if *bar == 1 {
                    bm.fill(*x as i64 + i as i64 * m, (y + pad) as i64, m, *bar_height as i64, true);
                }
            }
        }
        ItemKind::Image { x, width, height, luma } => {
            for iy in 0..*height {
                for ix in 0..*width {
                    let l = luma[(iy * width + ix) as usize];
                    if l < threshold {
                        bm.set((x + ix) as i64, (y + iy) as i64, true);
                    }
                }
            }
        }
        ItemKind::Cut { .. } => {}
        ItemKind::Drawer => {}
        ItemKind::Raw(_) => {}
    }
}

/// A glyph binarised at one threshold: one row of bits per pixel row, MSB = leftmost pixel.
struct InkGlyph {
    xmin: i64,
    top: i64,
    width: usize,
    rows: Vec<u128>,
}

type InkKey = (char, bool, u32, u8);

/// Widest glyph the bit-row path handles (u128 minus the 7-bit byte shift).
const MAX_ROW_BITS: usize = 120;
const INK_CACHE_LIMIT: usize = 16_384;

/// The binarised glyph, cached: thresholding once per glyph instead of once per pixel drawn.
fn ink_glyph(c: char, bold: bool, px: f32, threshold: u8) -> Arc<InkGlyph> {
    static CACHE: OnceLock<Mutex<HashMap<InkKey, Arc<InkGlyph>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (c, bold, px.to_bits(), threshold);
    if let Ok(map) = cache.lock()
        && let Some(g) = map.get(&key)
    {
        return Arc::clone(g);
    }
    let gl = font::glyph(c, bold, px);
    // Ink when coverage > 255 - threshold, i.e. lightness below the threshold.
    let cut = 255u16.saturating_sub(threshold as u16);
    let width = gl.width.min(MAX_ROW_BITS);
    let rows = (0..gl.height)
        .map(|gy| {
            let row = &gl.coverage[gy * gl.width..(gy + 1) * gl.width];
            let mut bits = 0u128;
            for (gx, &cov) in row.iter().take(width).enumerate() {
                if threshold > 0 && cov as u16 > cut {
                    bits |= 1u128 << (127 - gx);
                }
            }
            bits
        })
        .collect();
    let g = Arc::new(InkGlyph { xmin: gl.xmin as i64, top: gl.top as i64, width, rows });
    if let Ok(mut map) = cache.lock() {
        if map.len() >= INK_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, Arc::clone(&g));
    }
    g
}

impl Bitmap {
    /// ORs (or clears, when `!ink`) a row of bits whose MSB is pixel `x`.
    fn blit_row(&mut self, x: i64, y: i64, bits: u128, width: usize, ink: bool) {
        if y < 0 || y >= self.height as i64 || bits == 0 {
            return;
        }
        let (mut bits, mut x) = (bits, x);
        if x < 0 {
            if -x >= 128 {
                return;
            }
            bits <<= -x;
            x = 0;
        }
        let first = (x >> 3) as usize;
        let shifted = bits >> (x & 7);
        let nbytes = ((x & 7) as usize + width).div_ceil(8).min(16);
        let row = y as usize * self.stride;
        let tail = self.width % 8;
        for k in 0..nbytes {
            let idx = first + k;
            if idx >= self.stride {
                break;
            }
            let mut b = (shifted >> (120 - 8 * k)) as u8;
            if idx + 1 == self.stride && tail != 0 {
                b &= 0xFFu8 << (8 - tail);
            }
            if ink {
                self.bits[row + idx] |= b;
            } else {
                self.bits[row + idx] &= !b;
            }
        }
    }
}

/// Glyphs of one rasterisation: a direct table for Latin and Cyrillic (no hashing or locking
/// per character), the shared cache for everything else.
pub struct Glyphs {
    px: f32,
    threshold: u8,
    table: Vec<Option<Arc<InkGlyph>>>,
}

/// Code points below this (ASCII, Latin-1, Cyrillic with the Kazakh letters) use the table.
const TABLE_CHARS: usize = 0x500;

impl Glyphs {
    /// Glyphs at em size `px` (see `Geometry::font_px`), binarised at `threshold`.
    pub fn new(px: f32, threshold: u8) -> Glyphs {
        // The table is made at the first glyph: a receipt printed as text never draws one.
        Glyphs { px, threshold, table: Vec::new() }
    }

    fn get(&mut self, c: char, bold: bool) -> Arc<InkGlyph> {
        if self.table.is_empty() {
            self.table = vec![None; TABLE_CHARS * 2];
        }
        let i = c as usize * 2 + bold as usize;
        if let Some(Some(g)) = self.table.get(i) {
            return Arc::clone(g);
        }
        let g = ink_glyph(c, bold, self.px, self.threshold);
        if let Some(slot) = self.table.get_mut(i) {
            *slot = Some(Arc::clone(&g));
        }
        g
    }
}

/// One character as the printer's font A cell shows it: `cell_w` × `line_h` dots, drawn exactly
/// as [`rasterize`] draws it in a line (same glyph, baseline and threshold), clipped to the cell.
/// The ESC/POS back-end downloads these as user-defined characters.
pub fn cell_bitmap(c: char, bold: bool, g: &Geometry, glyphs: &mut Glyphs) -> Bitmap {
    let w = g.cell_w.round().max(1.0) as u32;
    let mut bm = Bitmap::new(w, g.line_h);
    let style = crate::render::model::Style { bold, ..Default::default() };
    let line = TextLine { runs: vec![super::layout::Run { col: 0, text: c.to_string(), style }], ..Default::default() };
    let cell = Geometry { margin: 0.0, ..*g };
    draw_text(&mut bm, &line, 0, &cell, glyphs);
    bm
}

fn draw_text(bm: &mut Bitmap, line: &TextLine, y: u32, g: &Geometry, glyphs: &mut Glyphs) {
    let px = g.font_px();
    let (ascent, descent) = font::vertical_metrics(px);
    let baseline = ((g.line_h as f32 - (ascent - descent)) / 2.0 + ascent).round() as i64;
    let sy: i64 = if line.tall { 2 } else { 1 };
    let y0 = y as i64;
    for run in &line.runs {
        let sx: i64 = if run.style.wide { 2 } else { 1 };
        let col_x = |col: usize| (g.margin + col as f32 * g.cell_w).round() as i64;
        let n = run.text.chars().count();
        if run.style.inverse {
            let x0 = col_x(run.col);
            let x1 = col_x(run.col + n * sx as usize);
            bm.fill(x0, y0, x1 - x0, g.line_h as i64 * sy, true);
        }
        let ink = !run.style.inverse;
        for (k, c) in run.text.chars().enumerate() {
            if c == ' ' {
                continue;
            }
            let x0 = col_x(run.col + k * sx as usize);
            let gl = glyphs.get(c, run.style.bold);
            for (gy, &bits) in gl.rows.iter().enumerate() {
                let py = y0 + (baseline - gl.top + gy as i64) * sy;
                if sx == 1 {
                    for dy in 0..sy {
                        bm.blit_row(x0 + gl.xmin, py + dy, bits, gl.width, ink);
                    }
                    continue;
                }
                // Double width: stretch pixel by pixel.
                for gx in 0..gl.width {
                    if bits & (1u128 << (127 - gx)) != 0 {
                        let pxl = x0 + (gl.xmin + gx as i64) * sx;
                        for dy in 0..sy {
                            for dx in 0..sx {
                                bm.set(pxl + dx, py + dy, ink);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::layout::{Geometry, layout};
    use crate::render::markup::parse;

    fn ink(bm: &Bitmap) -> usize {
        bm.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    #[test]
    fn threshold_controls_boldness() {
        let (doc, _) = parse("Қазақстан ₸", "t");
        let l = layout(&doc, &Geometry::image(384, 1.0));
        let light = ink(&rasterize(&l, 60));
        let normal = ink(&rasterize(&l, 128));
        let heavy = ink(&rasterize(&l, 230));
        assert!(light < normal && normal < heavy, "{light} {normal} {heavy}");
        assert_eq!(ink(&rasterize(&l, 0)), 0);
    }

    #[test]
    fn inverse_and_big_use_more_ink() {
        let plain = parse("ИТОГО", "t").0;
        let big = parse("@big inverse: ИТОГО", "t").0;
        let g = Geometry::image(384, 1.0);
        let a = rasterize(&layout(&plain, &g), 128);
        let b = rasterize(&layout(&big, &g), 128);
        assert_eq!(b.height, 2 * a.height);
        assert!(ink(&b) > 4 * ink(&a));
    }
}

#[cfg(test)]
mod digits {
    use super::*;
    use crate::render::layout::{Geometry, layout};
    use crate::render::markup::parse;

    /// White regions of a cell not touching its border.
    pub fn holes(bm: &Bitmap, x0: u32, w: u32, h: u32) -> usize {
        let mut seen = vec![false; (w * h) as usize];
        let mut n = 0;
        for sy in 0..h {
            for sx in 0..w {
                if seen[(sy * w + sx) as usize] || bm.get(x0 + sx, sy) {
                    continue;
                }
                let mut stack = vec![(sx, sy)];
                seen[(sy * w + sx) as usize] = true;
                let mut border = false;
                while let Some((x, y)) = stack.pop() {
                    if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                        border = true;
                    }
                    for (dx, dy) in [(1i32, 0i32), (-1, 0), (0, 1), (0, -1)] {
                        let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                        if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                            continue;
                        }
                        let (nx, ny) = (nx as u32, ny as u32);
                        if !seen[(ny * w + nx) as usize] && !bm.get(x0 + nx, ny) {
                            seen[(ny * w + nx) as usize] = true;
                            stack.push((nx, ny));
                        }
                    }
                }
                if !border {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn digits_keep_their_counters_from_the_minimum_scale_up() {
        let count = |scale: f32| {
            let g = Geometry::image(576, scale);
            let bm = rasterize(&layout(&parse("0 8", "t").0, &g), 128);
            let h = |col: u32| {
                let x0 = (g.margin + col as f32 * g.cell_w).round() as u32;
                holes(&bm, x0.saturating_sub(1), g.cell_w.round() as u32 + 2, g.line_h)
            };
            (h(0), h(2))
        };
        // The bug the bound prevents: at 0.5 the zero's dot touches its ring, 0 reads as 8.
        assert_eq!(count(0.5).0, 2);
        let min = crate::render::options::min_image_scale();
        assert!((0.6..=0.8).contains(&min), "{min}");
        for s100 in (min * 100.0).round() as u32..=150 {
            assert_eq!(count(s100 as f32 / 100.0), (1, 2), "scale {}", s100 as f32 / 100.0);
        }
    }
}
