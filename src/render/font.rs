//! The embedded DejaVu Sans Mono fonts and a glyph cache.
//!
//! fontdue parses every glyph of a font up front (about 10 ms for the whole DejaVu Sans Mono), so
//! receipts draw from a subset of it first (`fonts/DejaVuSansMono*-receipt.ttf`: Latin-1, Cyrillic with
//! the Kazakh letters, punctuation, currency signs, №; about 1 ms to parse) and parse the whole font only
//! for a character the subset lacks. The subset holds the same outlines and metrics, so a glyph draws the
//! same from either (`tests::the_subset_draws_as_the_whole_font`); `fonts/subset.sh` makes it. Each font is
//! parsed once per process in a `OnceLock`. Rasterised glyphs are cached per (char, weight, size) because
//! a receipt repeats the same few dozen characters hundreds of times.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono-Bold.ttf");
static RECEIPT_REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono-receipt.ttf");
static RECEIPT_BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono-Bold-receipt.ttf");

/// Cache entries kept before the cache is dropped wholesale (sizes vary with image_scale).
const GLYPH_CACHE_LIMIT: usize = 16_384;

fn parse(bytes: &'static [u8]) -> fontdue::Font {
    // The font is a constant of the build; failing to parse it is a packaging bug caught by
    // the glyph tests, never a data-dependent condition.
    fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).expect("embedded DejaVu Sans Mono parses")
}

/// The whole font for a weight.
pub fn font(bold: bool) -> &'static fontdue::Font {
    static REGULAR: OnceLock<fontdue::Font> = OnceLock::new();
    static BOLD: OnceLock<fontdue::Font> = OnceLock::new();
    if bold { BOLD.get_or_init(|| parse(BOLD_TTF)) } else { REGULAR.get_or_init(|| parse(REGULAR_TTF)) }
}

/// The receipt subset of the font for a weight.
fn receipt_font(bold: bool) -> &'static fontdue::Font {
    static REGULAR: OnceLock<fontdue::Font> = OnceLock::new();
    static BOLD: OnceLock<fontdue::Font> = OnceLock::new();
    if bold { BOLD.get_or_init(|| parse(RECEIPT_BOLD_TTF)) } else { REGULAR.get_or_init(|| parse(RECEIPT_REGULAR_TTF)) }
}

/// The font that draws `c`: the subset when it has the character, else the whole font.
fn font_for(c: char, bold: bool) -> &'static fontdue::Font {
    let subset = receipt_font(bold);
    if subset.lookup_glyph_index(c) != 0 { subset } else { font(bold) }
}

/// Advance width of the monospace font as a fraction of the em size: 1233 of 2048 font units, as fontdue
/// measures it at 1000 px (`metrics('0', 1000.0).advance_width / 1000`). A constant of the embedded font, so
/// laying out text and checking options never parse it (`tests::constants_match_the_font`).
const ADVANCE_RATIO: f32 = 602.050_781_25 / 1000.0;

/// See [`ADVANCE_RATIO`].
pub fn advance_ratio() -> f32 {
    ADVANCE_RATIO
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
///
/// A constant of the embedded font (72 px at 1000 px, `measured_zero_counter_em`), so checking options never
/// parses it.
pub fn zero_counter_em() -> f32 {
    ZERO_COUNTER_EM
}

const ZERO_COUNTER_EM: f32 = 72.0 / 1000.0;

/// [`zero_counter_em`] measured on the font.
pub fn measured_zero_counter_em() -> f32 {
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
}

/// The glyph for `c` at `px` (em size), from the cache when possible.
pub fn glyph(c: char, bold: bool, px: f32) -> Arc<Glyph> {
    let key = (c, bold, px.to_bits());
    if let Ok(map) = cache().lock()
        && let Some(g) = map.get(&key)
    {
        return Arc::clone(g);
    }
    let (m, coverage) = font_for(c, bold).rasterize(c, px);
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
    match receipt_font(false).horizontal_line_metrics(px) {
        Some(m) => (m.ascent, m.descent),
        None => (px * 0.76, -px * 0.24),
    }
}

/// Whether the font has a real glyph for `c` (not the .notdef box).
pub fn has_glyph(c: char) -> bool {
    font_for(c, false).lookup_glyph_index(c) != 0
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

    #[test]
    fn the_subset_draws_as_the_whole_font() {
        for bold in [false, true] {
            let (subset, whole) = (receipt_font(bold), font(bold));
            assert!(subset.chars().len() > 400, "{}", subset.chars().len());
            for px in [9.5, 19.930_233, 23.5, 39.86, 1000.0] {
                let (a, b) = (subset.horizontal_line_metrics(px), whole.horizontal_line_metrics(px));
                assert_eq!(format!("{a:?}"), format!("{b:?}"));
                for &c in subset.chars().keys() {
                    let (ma, ca) = subset.rasterize(c, px);
                    let (mb, cb) = whole.rasterize(c, px);
                    assert!(format!("{ma:?}") == format!("{mb:?}") && ca == cb, "{c:?} at {px} px differs");
                }
            }
        }
        // A character outside the subset comes from the whole font.
        assert!(receipt_font(false).lookup_glyph_index('∞') == 0 && has_glyph('∞'));
        assert!(glyph('∞', false, 20.0).coverage.iter().any(|&v| v > 128));
    }

    #[test]
    fn constants_match_the_font() {
        let measured = font(false).metrics('0', 1000.0).advance_width / 1000.0;
        assert_eq!(advance_ratio().to_bits(), measured.to_bits());
        assert_eq!(zero_counter_em().to_bits(), measured_zero_counter_em().to_bits());
    }
}
