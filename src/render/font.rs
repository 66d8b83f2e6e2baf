//! The embedded DejaVu Sans Mono fonts and a glyph cache.
//!
//! fontdue builds the outline of every glyph a font maps when it parses the font: about 10 ms a weight for the whole
//! DejaVu Sans Mono, and the 436-character receipt subset used before was still about half of a `kassa render` to
//! ESC/POS, while a receipt draws a few dozen characters. So fontdue never parses the embedded font: for each character
//! drawn, `char_font` cuts a font of that one character out of it (`cut`: the character's glyph, the glyphs a
//! composite glyph is built of, an empty .notdef, a cmap of the one character, and the font's own head, hhea, maxp,
//! OS/2 and horizontal metrics) and fontdue parses that, in microseconds. The outline bytes, units per em, advance and
//! line metrics are the font's own and fontdue still rasterises, so every glyph draws as from the whole font, bit for
//! bit (`tests::one_character_fonts_draw_as_the_whole_font`, over every character of both weights). A font that cannot
//! be cut falls back to fontdue's parse of the whole font. One-character fonts are kept per (char, weight); rasterised
//! glyphs per (char, weight, size), because a receipt repeats the same few dozen characters hundreds of times.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSansMono-Bold.ttf");

/// Cache entries kept before the cache is dropped wholesale (sizes vary with image_scale).
const GLYPH_CACHE_LIMIT: usize = 16_384;
/// One-character fonts kept before that cache is dropped wholesale (the font has about 3 300 characters a weight).
const FONT_CACHE_LIMIT: usize = 8_192;

fn ttf(bold: bool) -> &'static [u8] {
    if bold { BOLD_TTF } else { REGULAR_TTF }
}

/// The whole font for a weight, as fontdue parses it (every glyph's outline up front). Only a character whose
/// font cannot be cut draws from it, and the tests compare against it.
fn whole_font(bold: bool) -> &'static Arc<fontdue::Font> {
    fn parse(bytes: &'static [u8]) -> Arc<fontdue::Font> {
        // The font is a constant of the build; failing to parse it is a packaging bug caught by the glyph
        // tests, never a data-dependent condition.
        Arc::new(
            fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default())
                .expect("embedded DejaVu Sans Mono parses"),
        )
    }
    static REGULAR: OnceLock<Arc<fontdue::Font>> = OnceLock::new();
    static BOLD: OnceLock<Arc<fontdue::Font>> = OnceLock::new();
    if bold { BOLD.get_or_init(|| parse(BOLD_TTF)) } else { REGULAR.get_or_init(|| parse(REGULAR_TTF)) }
}

/// The tables of the embedded font that a one-character font is cut from, read once per weight.
struct Source {
    face: ttf_parser::Face<'static>,
    head: &'static [u8],
    hhea: &'static [u8],
    maxp: &'static [u8],
    os2: Option<&'static [u8]>,
    glyf: &'static [u8],
    loca: &'static [u8],
    long_loca: bool,
}

impl Source {
    fn parse(data: &'static [u8]) -> Option<Source> {
        let face = ttf_parser::Face::parse(data, 0).ok()?;
        let raw = face.raw_face();
        let table = |tag: &[u8; 4]| raw.table(ttf_parser::Tag::from_bytes(tag));
        let head = table(b"head").filter(|t| t.len() >= 54)?;
        let hhea = table(b"hhea").filter(|t| t.len() >= 36)?;
        let maxp = table(b"maxp").filter(|t| t.len() >= 6)?;
        let (os2, glyf, loca) = (table(b"OS/2"), table(b"glyf")?, table(b"loca")?);
        let long_loca = match i16::from_be_bytes([head[50], head[51]]) {
            0 => false,
            1 => true,
            _ => return None,
        };
        Some(Source { face, head, hhea, maxp, os2, glyf, loca, long_loca })
    }

    fn get(bold: bool) -> Option<&'static Source> {
        static REGULAR: OnceLock<Option<Source>> = OnceLock::new();
        static BOLD: OnceLock<Option<Source>> = OnceLock::new();
        let cell = if bold { &BOLD } else { &REGULAR };
        cell.get_or_init(|| Source::parse(ttf(bold))).as_ref()
    }

    /// The glyph fontdue draws for `c`. fontdue maps a character through every cmap subtable in turn, a later
    /// mapping replacing an earlier one, and 0 (.notdef) when none maps it; so does this.
    fn glyph_index(&self, c: char) -> u16 {
        let mut index = 0;
        if let Some(cmap) = self.face.tables().cmap {
            for subtable in cmap.subtables {
                if let Some(g) = subtable.glyph_index(u32::from(c))
                    && g.0 != 0
                {
                    index = g.0;
                }
            }
        }
        index
    }

    /// The `glyf` bytes of glyph `index` (empty for a glyph without outline).
    fn glyph_data(&self, index: u16) -> Option<&'static [u8]> {
        let i = usize::from(index);
        let offset = |k: usize| -> Option<usize> {
            if self.long_loca {
                let b = self.loca.get(4 * k..4 * k + 4)?;
                usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()
            } else {
                let b = self.loca.get(2 * k..2 * k + 2)?;
                Some(2 * usize::from(u16::from_be_bytes([b[0], b[1]])))
            }
        };
        self.glyf.get(offset(i)?..offset(i + 1)?)
    }
}

/// Where the glyph index of each component of a composite glyph sits in its `glyf` bytes; none for a simple
/// glyph. `None` for a composite glyph cut short.
fn component_offsets(data: &[u8]) -> Option<Vec<usize>> {
    const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
    const WE_HAVE_A_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
    const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
    let mut offsets = Vec::new();
    if data.len() < 10 || i16::from_be_bytes([data[0], data[1]]) >= 0 {
        return Some(offsets);
    }
    let mut at = 10;
    loop {
        let b = data.get(at..at + 4)?;
        let flags = u16::from_be_bytes([b[0], b[1]]);
        offsets.push(at + 2);
        at += 4;
        at += if flags & ARG_1_AND_2_ARE_WORDS != 0 { 4 } else { 2 };
        at += if flags & WE_HAVE_A_SCALE != 0 {
            2
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            4
        } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            8
        } else {
            0
        };
        if flags & MORE_COMPONENTS == 0 {
            return Some(offsets);
        }
    }
}

/// A TrueType font of the one character `c` cut out of `src`: glyph 0 an empty .notdef, glyph 1 the glyph
/// fontdue draws for `c` in the whole font (its .notdef when the font lacks `c`), then the glyphs a composite
/// glyph is built of, renumbered; a format 12 cmap of `c` alone; `head` (long `loca`), `hhea`, `maxp` and `OS/2`
/// as the font's with only the glyph counts changed; each glyph's advance and side bearing as the font's.
/// `None` when the font's tables do not allow it (the caller draws from the whole font then).
fn cut(src: &Source, c: char) -> Option<Vec<u8>> {
    /// Deeper or wider than any glyph of DejaVu: a guard against a cycle of composites.
    const MAX_GLYPHS: usize = 64;
    let mut olds = vec![0, src.glyph_index(c)];
    let mut i = 1;
    while i < olds.len() {
        let data = src.glyph_data(olds[i])?;
        for at in component_offsets(data)? {
            let component = u16::from_be_bytes([data[at], data[at + 1]]);
            if !olds[1..].contains(&component) {
                olds.push(component);
            }
        }
        if olds.len() > MAX_GLYPHS {
            return None;
        }
        i += 1;
    }
    let count = u16::try_from(olds.len()).ok()?;
    let renumbered = |old: u16| olds[1..].iter().position(|&o| o == old).and_then(|p| u16::try_from(p + 1).ok());

    let mut glyf = Vec::new();
    let mut loca = Vec::with_capacity(4 * (olds.len() + 1));
    let mut hmtx = Vec::with_capacity(4 * olds.len());
    for (new, &old) in olds.iter().enumerate() {
        loca.extend_from_slice(&u32::try_from(glyf.len()).ok()?.to_be_bytes());
        let id = ttf_parser::GlyphId(old);
        hmtx.extend_from_slice(&src.face.glyph_hor_advance(id).unwrap_or(0).to_be_bytes());
        hmtx.extend_from_slice(&src.face.glyph_hor_side_bearing(id).unwrap_or(0).to_be_bytes());
        if new == 0 {
            continue;
        }
        let data = src.glyph_data(old)?;
        let start = glyf.len();
        glyf.extend_from_slice(data);
        for at in component_offsets(data)? {
            let component = renumbered(u16::from_be_bytes([data[at], data[at + 1]]))?;
            glyf[start + at..start + at + 2].copy_from_slice(&component.to_be_bytes());
        }
        glyf.resize(glyf.len().next_multiple_of(4), 0);
    }
    loca.extend_from_slice(&u32::try_from(glyf.len()).ok()?.to_be_bytes());

    let mut head = src.head.to_vec();
    head[50..52].copy_from_slice(&1i16.to_be_bytes());
    let mut hhea = src.hhea.to_vec();
    hhea[34..36].copy_from_slice(&count.to_be_bytes());
    let mut maxp = src.maxp.to_vec();
    maxp[4..6].copy_from_slice(&count.to_be_bytes());
    let mut cmap = Vec::with_capacity(40);
    for v in [0u16, 1, 3, 10] {
        cmap.extend_from_slice(&v.to_be_bytes()); // version, one encoding record: Windows, Unicode full
    }
    cmap.extend_from_slice(&12u32.to_be_bytes()); // its offset
    cmap.extend_from_slice(&12u16.to_be_bytes()); // format 12
    cmap.extend_from_slice(&0u16.to_be_bytes());
    for v in [28, 0, 1, u32::from(c), u32::from(c), 1] {
        cmap.extend_from_slice(&v.to_be_bytes()); // length, language, one group: c..=c from glyph 1
    }

    // Sorted by tag, as the table directory must be.
    let mut tables: Vec<(&[u8; 4], &[u8])> =
        vec![(b"cmap", &cmap), (b"glyf", &glyf), (b"head", &head), (b"hhea", &hhea), (b"hmtx", &hmtx)];
    tables.extend([(b"loca", loca.as_slice()), (b"maxp", maxp.as_slice())]);
    if let Some(os2) = src.os2 {
        tables.insert(0, (b"OS/2", os2));
    }
    let n = u16::try_from(tables.len()).ok()?;
    let entry_selector = 15 - n.leading_zeros() as u16; // floor(log2(n))
    let search_range = 16u16 << entry_selector;
    let mut font = Vec::with_capacity(12 + 16 * tables.len() + tables.iter().map(|(_, t)| t.len() + 3).sum::<usize>());
    font.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, search_range, entry_selector, 16 * n - search_range] {
        font.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    for (tag, table) in &tables {
        font.extend_from_slice(*tag);
        font.extend_from_slice(&0u32.to_be_bytes()); // checksum: nothing reading this font checks it
        font.extend_from_slice(&u32::try_from(offset).ok()?.to_be_bytes());
        font.extend_from_slice(&u32::try_from(table.len()).ok()?.to_be_bytes());
        offset += table.len().next_multiple_of(4);
    }
    for (_, table) in &tables {
        font.extend_from_slice(table);
        font.resize(font.len().next_multiple_of(4), 0);
    }
    Some(font)
}

/// The font that draws `c`: the one-character font cut for it, else the whole font.
fn char_font(c: char, bold: bool) -> Arc<fontdue::Font> {
    static FONTS: OnceLock<Mutex<HashMap<(char, bool), Arc<fontdue::Font>>>> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(map) = fonts.lock()
        && let Some(f) = map.get(&(c, bold))
    {
        return Arc::clone(f);
    }
    let cut = Source::get(bold)
        .and_then(|src| cut(src, c))
        .and_then(|bytes| fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).ok());
    let Some(font) = cut else { return Arc::clone(whole_font(bold)) };
    let font = Arc::new(font);
    if let Ok(mut map) = fonts.lock() {
        if map.len() >= FONT_CACHE_LIMIT {
            map.clear();
        }
        map.insert((c, bold), Arc::clone(&font));
    }
    font
}

/// Advance width of the monospace font as a fraction of the em size: 1233 of 2048 font units, as fontdue
/// measures it at 1000 px (`metrics('0', 1000.0).advance_width / 1000`). A constant of the embedded font, so
/// laying out text and checking options never parse it (`tests::constants_match_the_font`).
const ADVANCE_RATIO: f32 = 1233.0 / 2048.0;

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
    let (m, coverage) = char_font(c, bold).rasterize(c, px);
    let g = Arc::new(Glyph { xmin: m.xmin, top: m.ymin + m.height as i32, width: m.width, height: m.height, coverage });
    if let Ok(mut map) = cache().lock() {
        if map.len() >= GLYPH_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, Arc::clone(&g));
    }
    g
}

/// Ascent and descent (negative) at `px` (the line metrics of every one-character font are the whole font's).
pub fn vertical_metrics(px: f32) -> (f32, f32) {
    // Asked once per line drawn: kept apart from the locked map of `char_font`.
    static SPACE: OnceLock<Arc<fontdue::Font>> = OnceLock::new();
    match SPACE.get_or_init(|| char_font(' ', false)).horizontal_line_metrics(px) {
        Some(m) => (m.ascent, m.descent),
        None => (px * 0.76, -px * 0.24),
    }
}

/// Whether the font has a real glyph for `c` (not the .notdef box).
pub fn has_glyph(c: char) -> bool {
    match Source::get(false) {
        Some(src) => src.glyph_index(c) != 0,
        None => whole_font(false).lookup_glyph_index(c) != 0,
    }
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
    fn one_character_fonts_draw_as_the_whole_font() {
        let mut composites = 0;
        for bold in [false, true] {
            let whole = whole_font(bold);
            let src = Source::get(bold).expect("the embedded font's tables read");
            let mut chars: Vec<char> = whole.chars().keys().copied().collect();
            chars.sort_unstable();
            assert!(chars.len() > 3000, "{}", chars.len());
            // Characters the font lacks draw its .notdef, as from the whole font.
            chars.extend(['\u{E000}', '中', '\u{1F600}']);
            let receipt = |c: char| c.is_ascii() || ('\u{400}'..='\u{4FF}').contains(&c) || "₸№€₽«»—–…".contains(c);
            for c in chars {
                let bytes = cut(src, c).unwrap_or_else(|| panic!("{c:?} cannot be cut"));
                let one = fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default())
                    .unwrap_or_else(|e| panic!("{c:?}: {e}"));
                assert!(one.glyph_count() <= 16, "{c:?}: {} glyphs", one.glyph_count());
                if one.glyph_count() > 2 {
                    composites += 1;
                }
                assert_eq!(one.lookup_glyph_index(c), 1, "{c:?}");
                let sizes: &[f32] = if receipt(c) { &[9.5, 19.930_233, 23.5, 39.86, 1000.0] } else { &[9.5, 23.5] };
                for &px in sizes {
                    let (a, b) = (one.horizontal_line_metrics(px), whole.horizontal_line_metrics(px));
                    assert_eq!(format!("{a:?}"), format!("{b:?}"));
                    let (ma, ca) = one.rasterize(c, px);
                    let (mb, cb) = whole.rasterize(c, px);
                    assert!(format!("{ma:?}") == format!("{mb:?}") && ca == cb, "{c:?} at {px} px differs");
                }
            }
        }
        // Accented letters are composites in DejaVu: the renumbering of their components is exercised.
        assert!(composites > 100, "{composites}");
        assert!(has_glyph('∞') && !has_glyph('\u{E000}'));
        assert!(glyph('∞', false, 20.0).coverage.iter().any(|&v| v > 128));
    }

    #[test]
    fn component_offsets_of_a_cut_short_composite_are_none() {
        // numberOfContours -1 and a bounding box, then a component record cut after its flags (words, more).
        let header = [0xFF, 0xFF, 0, 0, 0, 0, 0, 10, 0, 10];
        assert_eq!(component_offsets(&[&header[..], &[0x00, 0x21]].concat()), None);
        // One component (glyph 7, word arguments 1 and 2), the last.
        assert_eq!(component_offsets(&[&header[..], &[0x00, 0x01, 0, 7, 0, 1, 0, 2]].concat()), Some(vec![12]));
        assert_eq!(component_offsets(&[]), Some(vec![]));
    }

    #[test]
    fn constants_match_the_font() {
        let measured = whole_font(false).metrics('0', 1000.0).advance_width / 1000.0;
        assert_eq!(advance_ratio().to_bits(), measured.to_bits());
        assert_eq!(zero_counter_em().to_bits(), measured_zero_counter_em().to_bits());
    }
}
