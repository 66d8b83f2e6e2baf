//! QR encoding: the qrcode crate's data encoding and error correction, with our own choice of
//! mask.
//!
//! `qrcode::QrCode::new` picks the mask by cloning its canvas per pattern and scoring it, which
//! took about 0.7 ms for a fiscal URL, more than the rest of a receipt. The scoring here is
//! the same ISO/IEC 18004 penalty (rules N1–N4) over a plain `bool` matrix, so the chosen mask
//! is still the standard's best one.
use super::model::QrMatrix;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, Version};
use std::sync::{Arc, OnceLock};

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// Encodes `data` at error-correction level M in the smallest version that fits. The data and
/// error-correction codewords are made here (so data too long fails here); the modules are drawn on
/// first use ([`QrMatrix::dark`]).
pub fn encode(data: &[u8]) -> Result<QrMatrix, String> {
    let ec = EcLevel::M;
    let bits = qrcode::bits::encode_auto(data, ec).map_err(|e| e.to_string())?;
    let version = bits.version();
    let (codewords, ec_words) =
        qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).map_err(|e| e.to_string())?;
    let size = version.width().max(1) as usize;
    let modules = LazyModules { version, codewords, ec_words, size, dark: OnceLock::new() };
    Ok(QrMatrix { size, modules: Arc::new(modules) })
}

/// A symbol's codewords, and its modules once drawn.
pub struct LazyModules {
    version: Version,
    codewords: Vec<u8>,
    ec_words: Vec<u8>,
    size: usize,
    dark: OnceLock<Vec<bool>>,
}

impl std::fmt::Debug for LazyModules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyModules").field("size", &self.size).field("codewords", &self.codewords.len()).finish()
    }
}

impl LazyModules {
    /// The modules, drawn with the standard's best mask the first time.
    pub fn get(&self) -> &[bool] {
        self.dark.get_or_init(|| draw(self.version, &self.codewords, &self.ec_words, self.size))
    }

    /// What the symbol encodes (data and error correction): two symbols with the same are the same.
    pub fn codewords(&self) -> (&[u8], &[u8]) {
        (&self.codewords, &self.ec_words)
    }
}

/// Draws the symbol with each mask and keeps the one with the lowest penalty.
fn draw(version: Version, codewords: &[u8], ec_words: &[u8], size: usize) -> Vec<bool> {
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(codewords, ec_words);
    let mut best: Option<(u32, Vec<bool>)> = None;
    for mask in MASKS {
        let mut c = canvas.clone();
        c.apply_mask(mask);
        let dark: Vec<bool> = c.into_colors().into_iter().map(|m| m == Color::Dark).collect();
        let p = penalty(&dark, size);
        if best.as_ref().is_none_or(|(bp, _)| p < *bp) {
            best = Some((p, dark));
        }
    }
    best.map(|(_, d)| d).unwrap_or_default()
}

/// ISO/IEC 18004 mask penalty: runs, 2×2 blocks, finder-like patterns, dark balance.
/// One pass per row and column; finder-like patterns are found with a rolling 11-module
/// window (`1011101` with four light modules before or after it).
pub fn penalty(m: &[bool], n: usize) -> u32 {
    const FINDER_AFTER: u32 = 0b101_1101_0000;
    const FINDER_BEFORE: u32 = 0b000_0101_1101;
    let mut score = 0u32;
    for horizontal in [true, false] {
        for a in 0..n {
            let mut run = 0u32;
            let mut prev = false;
            let mut window = 0u32;
            for b in 0..n {
                let dark = if horizontal { m[a * n + b] } else { m[b * n + a] };
                // N1: runs of five or more.
                if b > 0 && dark == prev {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += 3 + (run - 5);
                    }
                    run = 1;
                }
                prev = dark;
                // N3: finder-like pattern.
                window = ((window << 1) | dark as u32) & 0x7FF;
                if b >= 10 && (window == FINDER_AFTER || window == FINDER_BEFORE) {
                    score += 40;
                }
            }
            if run >= 5 {
                score += 3 + (run - 5);
            }
        }
    }
    // N2: 2×2 blocks of one colour.
    for y in 0..n.saturating_sub(1) {
        let (r0, r1) = (&m[y * n..(y + 1) * n], &m[(y + 1) * n..(y + 2) * n]);
        for x in 0..n - 1 {
            let c = r0[x];
            if r0[x + 1] == c && r1[x] == c && r1[x + 1] == c {
                score += 3;
            }
        }
    }
    // N4: 10 points per 5 % of deviation from half dark.
    let dark = m.iter().filter(|d| **d).count();
    let percent = dark * 100 / m.len().max(1);
    score += (percent.abs_diff(50) / 5) as u32 * 10;
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_size_the_crate_picks() {
        let url = b"http://consumer.test-oofd.kz/?&i=1008&f=010100134464&s=1750,00&t=20250117T133437";
        let ours = encode(url).expect("encodes");
        let theirs = qrcode::QrCode::with_error_correction_level(url, EcLevel::M).expect("encodes");
        assert_eq!(ours.size, theirs.width());
        let dark = ours.dark();
        assert_eq!(dark.len(), ours.size * ours.size);
        // Finder pattern in the top-left corner: a dark 7×7 ring.
        assert!((0..7).all(|i| dark[i] && dark[6 * ours.size + i]));
    }

    #[test]
    fn penalty_rules() {
        // All light 5×5: N1 = 10 lines × 3, N2 = 16 × 3, N4 = 10 × 10.
        assert_eq!(penalty(&[false; 25], 5), 30 + 48 + 100);
    }
}
