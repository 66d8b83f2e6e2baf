//! Character-grid back-ends for fronts whose wire carries the receipt itself (the Belarusian `repr`):
//! every line padded to the full width, as the cash service's own representations are.
//!
//! - text: each line exactly `columns` characters (trailing spaces kept), `\n`-terminated;
//! - HTML fragment: the same grid with `&nbsp;` for spaces, `<b>` for bold, `<br/>` after each line;
//! - ESC/POS: `ESC t` for the code page, bold as `ESC E 1`/`ESC E 0`, a QR as `GS ( k`, a cut as `GS V 1`; a
//!   letter the page lacks is a downloaded glyph on a printer that holds them (`ESC &`), else its closest
//!   look-alike (`codepage::closest`: the Belarusian `І` as the Latin `I`, «» as straight quotes).
//!
//! A line whose text is all bold is bold from edge to edge (padding included); otherwise padding and
//! fillers between runs are plain. A QR code is an empty line in text and HTML; feeds, cuts, images,
//! barcodes and raw bytes exist only on paper.
use super::udc::UdcPlan;
use crate::render::codepage::CodePage;
use crate::render::layout::{ItemKind, Layout, TextLine};
use crate::render::profile::CodePageSlot;
use crate::render::raster::Glyphs;

/// The line as `(bold, text)` segments covering exactly `columns` cells.
pub fn segments(line: &TextLine, columns: usize) -> Vec<(bool, String)> {
    let mut cells: Vec<(char, bool)> = vec![(' ', false); columns];
    let all_bold = !line.runs.is_empty() && line.runs.iter().all(|r| r.style.bold);
    for run in &line.runs {
        for (i, c) in run.text.chars().enumerate() {
            if let Some(cell) = cells.get_mut(run.col + i) {
                *cell = (c, run.style.bold);
            }
        }
    }
    if all_bold {
        cells.iter_mut().for_each(|c| c.1 = true);
    }
    let mut out: Vec<(bool, String)> = Vec::new();
    for (c, bold) in cells {
        match out.last_mut() {
            Some((b, s)) if *b == bold => s.push(c),
            _ => out.push((bold, c.to_string())),
        }
    }
    out
}

/// The lines of the character forms (text and HTML), each as its bold and plain runs: a QR code stands as an
/// empty line there; feeds, cuts, pictures and raw bytes belong to the printer and are left out.
fn grid_lines(layout: &Layout) -> impl Iterator<Item = Vec<(bool, String)>> + '_ {
    let cols = layout.geometry.columns;
    layout.items.iter().filter_map(move |item| match &item.kind {
        ItemKind::Text(line) => Some(segments(line, cols)),
        ItemKind::Qr { .. } => Some(Vec::new()),
        ItemKind::Feed { .. }
        | ItemKind::Barcode { .. }
        | ItemKind::Image { .. }
        | ItemKind::Cut { .. }
        | ItemKind::Drawer
        | ItemKind::Raw(_) => None,
    })
}

/// The padded text form.
pub fn text(layout: &Layout) -> String {
    let mut out = String::new();
    for line in grid_lines(layout) {
        line.iter().for_each(|(_, s)| out.push_str(s));
        out.push('\n');
    }
    out
}

/// The HTML fragment form.
pub fn html(layout: &Layout) -> String {
    let mut out = String::with_capacity(4096);
    for line in grid_lines(layout) {
        for (bold, s) in line {
            if bold {
                out.push_str("<b>");
            }
            for c in s.chars() {
                match c {
                    ' ' => out.push_str("&nbsp;"),
                    c => super::html::push_char(&mut out, c),
                }
            }
            if bold {
                out.push_str("</b>");
            }
        }
        out.push_str("<br/>");
    }
    out
}

/// The printer an ESC/POS form is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The code page the text goes in.
    pub page: CodePage,
    /// The `n` of `ESC t n` that selects it on this printer.
    pub esc_t: u8,
    /// The printer holds user-defined characters (`ESC &`, `ESC %`).
    pub user_defined_chars: bool,
}

impl Target {
    /// The target of printer profile `p`: its first code page (CP866, `ESC t 17`, when it lists none) and
    /// whether it holds user-defined characters.
    pub fn of(p: &crate::render::profile::PrinterProfile) -> Target {
        let slot = p.code_pages.first().copied().unwrap_or(CodePageSlot { page: CodePage::Cp866, esc_t: 17 });
        Target { page: slot.page, esc_t: slot.esc_t, user_defined_chars: p.user_defined_chars }
    }
}

/// The ESC/POS form for `target`: a character its page lacks is a downloaded glyph where the printer holds
/// them, else its closest look-alike, else `?`.
pub fn escpos(layout: &Layout, target: &Target) -> Vec<u8> {
    let cols = layout.geometry.columns;
    let page = target.page;
    let mut out = vec![0x1B, b't', target.esc_t];
    let udc = if target.user_defined_chars {
        let base = CodePageSlot { page, esc_t: target.esc_t };
        let plan = UdcPlan::build(layout, base, |_| false);
        let mut glyphs = Glyphs::new(layout.geometry.font_px(), crate::render::RenderOptions::default().threshold());
        plan.define(&layout.geometry, &mut glyphs, &mut out);
        plan
    } else {
        UdcPlan::default()
    };
    let mut glyphs_on = !udc.is_empty();
    let mut encode = |s: &str, bold: bool, out: &mut Vec<u8>| {
        for c in s.chars() {
            let mut switch = |out: &mut Vec<u8>, on: bool| {
                if glyphs_on != on {
                    out.extend_from_slice(&[0x1B, b'%', u8::from(on)]);
                    glyphs_on = on;
                }
            };
            match (page.encode_char(c), udc.code(c, bold)) {
                (Some(b), _) => {
                    if udc.is_glyph_code(b) {
                        switch(out, false);
                    }
                    out.push(b);
                }
                // The bold glyph is downloaded as drawn: emphasis off around it.
                (None, Some(code)) => {
                    switch(out, true);
                    if bold {
                        out.extend_from_slice(&[0x1B, b'E', 0, code, 0x1B, b'E', 1]);
                    } else {
                        out.push(code);
                    }
                }
                (None, None) => {
                    let alike = page.encode_or_closest(c).unwrap_or_else(|| vec![b'?']);
                    if alike.iter().any(|b| udc.is_glyph_code(*b)) {
                        switch(out, false);
                    }
                    out.extend_from_slice(&alike);
                }
            }
        }
    };
    for item in &layout.items {
        match &item.kind {
            ItemKind::Text(line) => {
                for (bold, s) in segments(line, cols) {
                    if bold {
                        out.extend_from_slice(&[0x1B, b'E', 1]);
                        encode(&s, true, &mut out);
                        out.extend_from_slice(&[0x1B, b'E', 0]);
                    } else {
                        encode(&s, false, &mut out);
                    }
                }
                out.push(b'\n');
            }
            ItemKind::Qr { data, .. } => {
                out.extend_from_slice(&[0x1B, b'a', b'1']);
                // Model size 3, error correction M, store, print (GS ( k, function 167, 169, 180, 181).
                out.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, b'1', b'C', 3]);
                out.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, b'1', b'E', b'1']);
                let n = data.len() + 3;
                out.extend_from_slice(&[0x1D, b'(', b'k', (n & 0xFF) as u8, (n >> 8) as u8, b'1', b'P', b'0']);
                out.extend_from_slice(data.as_bytes());
                out.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, b'1', b'Q', b'0']);
                out.push(b'\n');
            }
            ItemKind::Feed { lines } => out.extend(std::iter::repeat_n(b'\n', *lines as usize)),
            ItemKind::Cut { .. } => out.extend_from_slice(&[0x1D, b'V', 1]),
            ItemKind::Raw(bytes) => out.extend_from_slice(bytes),
            ItemKind::Barcode { .. } | ItemKind::Image { .. } | ItemKind::Drawer => {}
        }
    }
    out
}
