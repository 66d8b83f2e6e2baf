//! User-defined characters (`ESC &` to define, `ESC %` to select) for letters a printer's code
//! pages lack, e.g. Kazakh ә ғ қ ң ө ұ ү һ і, ₸ and « » on a CP866-only printer.
//!
//! The plan: every text line that no offered code page can encode whole, but the base page
//! (the first offered) can encode except for a few letters, becomes text; each missing
//! (letter, bold) pair gets an ASCII code (33..=126), preferably one the receipt prints nowhere
//! else, and its glyph, drawn exactly as the PNG draws it, is downloaded at the start of the job.
//! With `ESC % 1` on, only defined codes print as downloaded glyphs; a code that the receipt also
//! needs as its ASCII character (a receipt rich in Latin text and signs, like the self-test page)
//! is printed with `ESC % 0` around it. Letters beyond the 94 codes leave their lines as raster.
//!
//! Printers keep the definitions until `ESC @` or power-off, so every job defines its own.
use crate::render::layout::{Geometry, ItemKind, Layout, TextLine};
use crate::render::profile::CodePageSlot;
use crate::render::raster::{Glyphs, cell_bitmap};
use std::collections::{BTreeMap, BTreeSet};

/// The downloaded glyphs of one receipt.
#[derive(Debug, Default)]
pub struct UdcPlan {
    /// (letter, bold) → the code that prints it.
    codes: BTreeMap<(char, bool), u8>,
    /// The page the UDC lines are written in.
    pub base: Option<CodePageSlot>,
}

impl UdcPlan {
    /// Plans the downloads for `layout`, whose text lines without a page of their own fall back
    /// to `base` (the profile's first page).
    pub fn build(layout: &Layout, base: CodePageSlot, fits_other_page: impl Fn(&TextLine) -> bool) -> UdcPlan {
        let mut used = BTreeSet::new();
        let mut wanted = BTreeSet::new();
        for item in &layout.items {
            let ItemKind::Text(line) = &item.kind else { continue };
            for run in &line.runs {
                used.extend(run.text.chars().filter(|c| c.is_ascii()).map(|c| c as u8));
            }
            if line.page.is_some() || fits_other_page(line) {
                continue;
            }
            for run in &line.runs {
                for c in run.text.chars().filter(|&c| base.page.encode_char(c).is_none()) {
                    wanted.insert((c, run.style.bold));
                }
            }
        }
        // Codes the receipt never prints as ASCII first; then the others, printed with ESC % 0 around them.
        let mut free = (33u8..=126).filter(|b| !used.contains(b)).chain((33u8..=126).filter(|b| used.contains(b)));
        let mut codes = BTreeMap::new();
        for key in wanted {
            match free.next() {
                Some(code) => {
                    codes.insert(key, code);
                }
                None => break,
            }
        }
        UdcPlan { codes, base: Some(base) }
    }

    /// Whether the plan downloads anything.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The code that prints `c` in a run that is `bold`, if it was downloaded.
    pub fn code(&self, c: char, bold: bool) -> Option<u8> {
        self.codes.get(&(c, bold)).copied()
    }

    /// Whether code `b` prints a downloaded glyph while `ESC % 1` is on (so its ASCII character needs `ESC % 0`).
    pub fn is_glyph_code(&self, b: u8) -> bool {
        self.codes.values().any(|&c| c == b)
    }

    /// Whether every character of `line` prints: in the base page or as a downloaded glyph.
    pub fn covers(&self, line: &TextLine) -> bool {
        let Some(base) = self.base else { return false };
        line.runs
            .iter()
            .all(|r| r.text.chars().all(|c| base.page.encode_char(c).is_some() || self.code(c, r.style.bold).is_some()))
    }

    /// `ESC & 3 c c 12 d…` for each glyph (column by column, three bytes of eight dots each,
    /// top bit first), then `ESC % 1`. Nothing when the plan is empty.
    pub fn define(&self, g: &Geometry, glyphs: &mut Glyphs, out: &mut Vec<u8>) {
        if self.codes.is_empty() {
            return;
        }
        let y_bytes = g.line_h.div_ceil(8);
        for (&(c, bold), &code) in &self.codes {
            let cell = cell_bitmap(c, bold, g, glyphs);
            out.extend_from_slice(&[0x1B, b'&', y_bytes as u8, code, code, cell.width as u8]);
            for x in 0..cell.width {
                for yb in 0..y_bytes {
                    let mut b = 0u8;
                    for bit in 0..8 {
                        if cell.get(x, yb * 8 + bit) {
                            b |= 0x80 >> bit;
                        }
                    }
                    out.push(b);
                }
            }
        }
        out.extend_from_slice(&[0x1B, b'%', 1]);
    }
}
