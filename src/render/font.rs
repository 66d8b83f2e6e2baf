//! The embedded DejaVu Sans Mono fonts and a glyph cache.
//!
//! fontdue parses every glyph up front (about 10 ms), so each font is parsed once per process
//! in a `OnceLock`. Rasterised glyphs are cached per (char, weight, size) because a receipt
//! repeats the same few dozen characters hundreds of times.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono-Bold.ttf");

/// Cache entries kept before the cache is dropped wholesale (sizes vary with image_scale).
const GLYPH_CACHE_LIMIT: usize = 16_384;

fn parse(bytes: &'static [u8]) -> fontdue::Font {
    // The font is a constant of the build; failing to parse it is a packaging bug caught by
    // the glyph tests, never a data-dependent condition.
    fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).expect("embedded DejaVu Sans Mono parses")
}

/// The font for a weight.
pub fn font(bold: bool) -> &'static fontdue::Font {
    static REGULAR: OnceLock<fontdue::Font> = OnceLock::new();
    static BOLD: OnceLock<fontdue::Font> = OnceLock::new();
    if bold { BOLD.get_or_init(|| parse(BOLD_TTF)) } else { REGULAR.get_or_init(|| parse(REGULAR_TTF)) }
}

/// Advance width of the monospace font as a fraction of the em size.
pub fn advance_ratio() -> f32 {
    static RATIO: OnceLock<f32> = OnceLock::new();
    *RATIO.get_or_init(|| font(false).metrics('0', 1000.0).advance_width / 1000.0)
}

/// A rasterised glyph: coverage 0..=255, row-major, placed relative to the pen position.
#[derive(Debug)]
pub struct Glyph {
    /// Left edge relative to the pen, in pixels.
    pub xmin: i32,
    /// Top edge relative to the baseline (positive = above), in pixels.
    pub top: i32,
    pub width: usize,
    pub height: usize,
    pub coverage: Vec<u8>,
}

type Key = (char, bool, u32);

fn cache() -> &'static Mutex<HashMap<Key, Arc<Glyph>>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Glyph>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The narrowest white gap inside the digit zero (between its dot and its ring, on the
/// horizontal midline), in em: the first feature to vanish when digits get small, so it sets
/// the smallest image scale (see `options::min_image_scale`).
pub fn zero_counter_em() -> f32 {
    static GAP: OnceLock<f32> = OnceLock::new();
    *GAP.get_or_init(|| {
        let px = 1000.0;
        let g = glyph('0', false, px);
        let mid = g.height / 2;
        let row = &g.coverage[mid * g.width..(mid + 1) * g.width];
        let (first, last) = match (row.iter().position(|&c| c > 127), row.iter().rposition(|&c| c > 127)) {
            (Some(f), Some(l)) => (f, l),
            _ => return 0.1,
        };
        let mut narrowest = usize::MAX;
        let mut run = 0;
        for &c in &row[first..=last] {
            if c > 127 {
                if run > 0 {
                    narrowest = narrowest.min(run);
                }
                run = 0;
            } else {
                run += 1;
            }
        }
        if narrowest == usize::MAX { 0.1 } else { narrowest as f32 / px }
    })
}

/// The glyph for `c` at `px` (em size), from the cache when possible.
pub fn glyph(c: char, bold: bool, px: f32) -> Arc<Glyph> {
    let key = (c, bold, px.to_bits());
    if let Ok(map) = cache().lock()
        && let Some(g) = map.get(&key)
    {
        return Arc::clone(g);
    }
    let (m, coverage) = font(bold).rasterize(c, px);
    let g = Arc::new(Glyph { xmin: m.xmin, top: m.ymin + m.height as i32, width: m.width, height: m.height, coverage });
    if let Ok(mut map) = cache().lock() {
        if map.len() >= GLYPH_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, Arc::clone(&g));
    }
    g
}

/// Ascent and descent (negative) at `px`.
pub fn vertical_metrics(px: f32) -> (f32, f32) {
    match font(false).horizontal_line_metrics(px) {
        Some(m) => (m.ascent, m.descent),
        None => (px * 0.76, -px * 0.24),
    }
}

/// Whether the font has a real glyph for `c` (not the .notdef box).
pub fn has_glyph(c: char) -> bool {
    font(false).lookup_glyph_index(c) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kazakh_letters_and_tenge_render() {
        for c in "әғқңөұүһіӘҒҚҢӨҰҮҺІ₸".chars() {
            for bold in [false, true] {
                assert!(has_glyph(c), "{c} missing");
                let g = glyph(c, bold, 20.0);
                assert!(g.width > 0 && g.height > 0, "{c} empty");
                assert!(g.coverage.iter().any(|&v| v > 128), "{c} has no ink");
            }
        }
        assert!((advance_ratio() - 0.602).abs() < 0.01);
    }
}
