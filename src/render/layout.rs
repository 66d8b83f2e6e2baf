//! Layout: a [`Document`] placed on a character grid of a given width, with dot geometry.
//!
//! Text is monospace: every character sits at `column × cell width`, wide characters take two
//! columns, and wrapping counts characters. Each item also gets its vertical position in dots,
//! so the raster back-ends only draw. Layout is deterministic and does no I/O.
use super::dither::{self, Dither};
use super::font;
use super::model::{Align, Block, ColumnWidth, Document, QrMatrix, Style, Symbology};
use super::profile::{CodePageSlot, PrinterProfile};
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// Character grid and dot geometry of one target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    /// Characters per line.
    pub columns: usize,
    /// Paper width in dots (pixels).
    pub width_dots: u32,
    /// Width of one character cell in dots.
    pub cell_w: f32,
    /// Height of one text line in dots.
    pub line_h: u32,
    /// Left offset of column 0 in dots (centres the grid on the paper).
    pub margin: f32,
}

/// Font A of a 203 dpi printer: a 12 × 24 dot cell.
const BASE_CELL_W: f32 = 12.0;
const BASE_LINE_H: f32 = 24.0;

impl Geometry {
    /// For PNG: `width` pixels, glyphs scaled by `scale` (cell 12 × 24 at scale 1).
    pub fn image(width: u32, scale: f32) -> Geometry {
        let cell_w = BASE_CELL_W * scale;
        let columns = ((width as f32 / cell_w).floor() as usize).max(1);
        Geometry {
            columns,
            width_dots: width,
            cell_w,
            line_h: (BASE_LINE_H * scale).round().max(1.0) as u32,
            margin: (width as f32 - columns as f32 * cell_w) / 2.0,
        }
    }

    /// For a printer: its dots and its font-A columns.
    pub fn printer(p: &PrinterProfile) -> Geometry {
        let columns = (p.columns as usize).max(1);
        let cell_w = p.width_dots as f32 / columns as f32;
        Geometry {
            columns,
            width_dots: p.width_dots,
            cell_w,
            line_h: (cell_w * 2.0).round().max(1.0) as u32,
            margin: 0.0,
        }
    }

    /// For text and HTML: only the columns matter; dots follow font A.
    pub fn text(columns: usize) -> Geometry {
        let columns = columns.max(1);
        Geometry {
            columns,
            width_dots: (columns as f32 * BASE_CELL_W) as u32,
            cell_w: BASE_CELL_W,
            line_h: BASE_LINE_H as u32,
            margin: 0.0,
        }
    }

    /// Font em size that makes one advance equal one cell.
    pub fn font_px(&self) -> f32 {
        self.cell_w / font::advance_ratio()
    }

    /// Scale of dots relative to a 12-dot cell (used to size logos).
    pub fn scale(&self) -> f32 {
        self.cell_w / BASE_CELL_W
    }
}

/// A piece of styled text starting at a column.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub col: usize,
    pub text: String,
    pub style: Style,
}

/// One printed text line.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TextLine {
    pub runs: Vec<Run>,
    pub tall: bool,
    /// Forced code page for ESC/POS (self-test samples); `None` = pick from the profile.
    pub page: Option<CodePageSlot>,
}

/// A laid-out item at `y` dots from the top, `height` dots tall.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub y: u32,
    pub height: u32,
    pub kind: ItemKind,
}

/// What an item is. Back-ends match every variant, with no wildcard.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Text(TextLine),
    /// Blank lines.
    Feed {
        lines: u32,
    },
    Qr {
        data: String,
        matrix: QrMatrix,
        /// Left edge of the symbol in dots.
        x: u32,
        /// Dots per module.
        module: u32,
        /// Blank dots above and below the symbol (quiet zone).
        quiet: u32,
    },
    Barcode {
        symbology: Symbology,
        data: String,
        bars: Vec<u8>,
        x: u32,
        module: u32,
        bar_height: u32,
        /// Blank dots above the bars.
        pad: u32,
    },
    Image {
        x: u32,
        width: u32,
        height: u32,
        luma: Vec<u8>,
    },
    Cut {
        partial: bool,
    },
    Drawer,
    Raw(Vec<u8>),
}

/// A finished layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub geometry: Geometry,
    pub items: Vec<Item>,
    /// Total height in dots.
    pub height: u32,
}

/// Lays `doc` out for `g`.
pub fn layout(doc: &Document, g: &Geometry) -> Layout {
    let mut l = Builder { g: *g, items: Vec::new(), y: 0, scratch: Default::default() };
    for b in &doc.blocks {
        l.block(b);
    }
    Layout { geometry: *g, height: l.y, items: l.items }
}

struct Builder {
    g: Geometry,
    items: Vec<Item>,
    y: u32,
    /// The per-cell figures of `row`, kept between rows so that a row allocates none.
    scratch: [Vec<usize>; 4],
}

impl Builder {
    fn push(&mut self, height: u32, kind: ItemKind) {
        self.items.push(Item { y: self.y, height, kind });
        self.y += height;
    }

    fn line(&mut self, line: TextLine) {
        let h = self.g.line_h * if line.tall { 2 } else { 1 };
        self.push(h, ItemKind::Text(line));
    }

    fn block(&mut self, b: &Block) {
        let cols = self.g.columns;
        match b {
            Block::Text { align, style, text } => {
                let cw = style.char_cols();
                let text = clean(text);
                for piece in wrap(&text, (cols / cw).max(1)) {
                    let col = place(*align, cols, piece.chars().count() * cw);
                    let runs =
                        if piece.is_empty() { Vec::new() } else { vec![Run { col, text: piece, style: *style }] };
                    self.line(TextLine { runs, tall: style.tall, page: None });
                }
            }
            Block::Sample { page, esc_t, text } => {
                for piece in wrap(&clean(text), cols) {
                    self.line(TextLine {
                        runs: vec![Run { col: 0, text: piece, style: Style::default() }],
                        tall: false,
                        page: Some(CodePageSlot { page: *page, esc_t: *esc_t }),
                    });
                }
            }
            Block::Row { style, columns, cells, grid } => self.row(*style, columns, cells, *grid),
            Block::Fill { fill, left, right } => self.fill(*fill, left, right),
            Block::Rule { double } => {
                let c = if *double { "=" } else { "-" };
                self.line(TextLine {
                    runs: vec![Run { col: 0, text: c.repeat(cols), style: Style::default() }],
                    tall: false,
                    page: None,
                });
            }
            Block::Feed(n) => self.push(self.g.line_h * n, ItemKind::Feed { lines: *n }),
            Block::Qr { data, matrix } => {
                let w = self.g.width_dots;
                let size = matrix.size.max(1) as u32;
                let module = ((w * 55 / 100) / size).clamp(1, 8);
                let quiet = module * 4;
                self.push(
                    size * module + 2 * quiet,
                    ItemKind::Qr {
                        data: data.clone(),
                        matrix: matrix.clone(),
                        x: w.saturating_sub(size * module) / 2,
                        module,
                        quiet,
                    },
                );
            }
            Block::Barcode { symbology, data, bars } => {
                let w = self.g.width_dots;
                let n = bars.len().max(1) as u32;
                let module = (w / (n + 20)).clamp(1, 3);
                let bar_height = self.g.line_h * 2;
                let pad = self.g.line_h / 4;
                self.push(
                    bar_height + pad,
                    ItemKind::Barcode {
                        symbology: *symbology,
                        data: data.clone(),
                        bars: bars.clone(),
                        x: w.saturating_sub(n * module) / 2,
                        module,
                        bar_height,
                        pad,
                    },
                );
                // Human-readable text under the bars.
                self.block(&Block::Text { align: Align::Center, style: Style::default(), text: data.clone() });
            }
            Block::Image(img) => {
                let w = self.g.width_dots;
                let scale = self.g.scale();
                let (mut tw, mut th) = match img.fit_pct {
                    Some(pct) => {
                        let tw = (w as u64 * pct.clamp(1, 100) as u64 / 100).max(1);
                        (tw as u32, ((img.height as u64 * tw) / img.width.max(1) as u64).max(1) as u32)
                    }
                    None => (
                        ((img.width as f32 * scale).round() as u32).max(1),
                        ((img.height as f32 * scale).round() as u32).max(1),
                    ),
                };
                if tw > w {
                    th = ((th as u64 * w as u64) / tw as u64).max(1) as u32;
                    tw = w;
                }
                let luma = match (&img.key, img.dither) {
                    (_, Dither::Threshold) | (None, _) => {
                        let mut luma = Vec::with_capacity((tw * th) as usize);
                        for y in 0..th {
                            let sy = (y as u64 * img.height as u64 / th as u64) as usize;
                            for x in 0..tw {
                                let sx = (x as u64 * img.width as u64 / tw as u64) as usize;
                                luma.push(img.luma.get(sy * img.width as usize + sx).copied().unwrap_or(255));
                            }
                        }
                        luma
                    }
                    (Some(key), method) => {
                        dither::scaled_dithered(key, &img.luma, img.width, img.height, tw, th, method).to_vec()
                    }
                };
                self.push(th, ItemKind::Image { x: (w - tw) / 2, width: tw, height: th, luma });
            }
            Block::Cut { partial } => self.push(0, ItemKind::Cut { partial: *partial }),
            Block::Drawer => self.push(0, ItemKind::Drawer),
            Block::Raw(bytes) => self.push(0, ItemKind::Raw(bytes.clone())),
        }
    }

    /// A label and a value with the gap filled; a value that does not fit goes to the next line.
    fn fill(&mut self, fill: char, left: &[(Style, String)], right: &[(Style, String)]) {
        let cols = self.g.columns;
        let width = |spans: &[(Style, String)]| spans.iter().map(|(_, t)| clean(t).chars().count()).sum::<usize>();
        let runs_at = |mut col: usize, spans: &[(Style, String)]| {
            let mut runs = Vec::new();
            for (style, text) in spans {
                let text = clean(text).into_owned();
                let n = text.chars().count();
                runs.push(Run { col, text, style: *style });
                col += n;
            }
            runs
        };
        let (lw, rw) = (width(left), width(right));
        let filler =
            |from: usize, n: usize| Run { col: from, text: fill.to_string().repeat(n), style: Style::default() };
        if lw + rw < cols {
            let mut runs = runs_at(0, left);
            if fill != ' ' {
                runs.push(filler(lw, cols - lw - rw));
            }
            runs.extend(runs_at(cols - rw, right));
            self.line(TextLine { runs, tall: false, page: None });
            return;
        }
        // Too long for one line: the label wrapped on its own, the value right-aligned below it.
        let label: String = left.iter().map(|(_, t)| t.as_str()).collect();
        let style = left.first().map(|(s, _)| *s).unwrap_or_default();
        self.block(&Block::Text { align: Align::Left, style, text: label });
        let rw = rw.min(cols);
        let mut runs = Vec::new();
        if fill != ' ' && rw < cols {
            runs.push(filler(0, cols - rw));
        }
        runs.extend(runs_at(cols - rw, right));
        self.line(TextLine { runs, tall: false, page: None });
    }

    fn row(&mut self, style: Style, columns: &[super::model::Column], cells: &[String], grid: bool) {
        let total = self.g.columns;
        let cw = style.char_cols();
        let n = columns.len();
        let cells: Vec<Cow<str>> = cells.iter().map(|c| clean(c)).collect();
        let [mut lens, mut widths, mut need, mut mins] = std::mem::take(&mut self.scratch);
        lens.clear();
        lens.extend(cells.iter().map(|c| c.chars().count()));
        // Two blank columns between cells, so an amount never reads as part of its label.
        let gaps = n.saturating_sub(1) * ROW_GAP;
        // Auto columns first: as wide as their content.
        widths.clear();
        widths.extend(columns.iter().zip(&lens).map(|(c, len)| match c.width {
            ColumnWidth::Auto => len * cw,
            ColumnWidth::Weight(_) => 0,
        }));
        let weights: u32 = columns
            .iter()
            .map(|c| match c.width {
                ColumnWidth::Weight(w) => w,
                ColumnWidth::Auto => 0,
            })
            .sum();
        // A weighted column keeps its content on one line when the auto columns keep theirs
        // and the other weighted columns can still show their longest word, so a long label
        // wraps rather than the amount or date next to it.
        need.clear();
        need.extend(columns.iter().zip(cells.iter().zip(&lens)).map(|(c, (t, len))| match c.width {
            ColumnWidth::Auto => len * cw,
            ColumnWidth::Weight(_) => t.split_whitespace().map(|w| w.chars().count()).max().unwrap_or(0) * cw,
        }));
        let need_total: usize = need.iter().sum();
        mins.clear();
        mins.extend(columns.iter().zip(&lens).enumerate().map(|(k, (c, len))| match c.width {
            // A grid row's weighted columns keep their shares, so rows line up.
            ColumnWidth::Weight(_) if grid => cw,
            ColumnWidth::Weight(_) => {
                let room = total.saturating_sub(gaps + need_total - need[k]);
                (len * cw).min(room.max(need[k].min(total / 2))).max(cw)
            }
            ColumnWidth::Auto => 0,
        }));
        let budget = total.saturating_sub(gaps + mins.iter().sum::<usize>());
        while widths.iter().sum::<usize>() > budget {
            let Some((i, _)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
                break;
            };
            if widths[i] == 0 {
                break;
            }
            widths[i] -= 1;
        }
        let rest = total.saturating_sub(gaps + widths.iter().sum::<usize>());
        if weights > 0 {
            let mut given = 0;
            for (i, c) in columns.iter().enumerate() {
                if let ColumnWidth::Weight(w) = c.width {
                    widths[i] = rest * w as usize / weights as usize;
                    given += widths[i];
                }
            }
            if let Some(i) = columns.iter().position(|c| matches!(c.width, ColumnWidth::Weight(_))) {
                widths[i] += rest - given;
            }
            // Proportional shares may leave a column below its minimum: borrow from the
            // weighted column with the most room to spare.
            for i in 0..n {
                while widths[i] < mins[i] {
                    let donor = (0..n).filter(|&j| j != i && widths[j] > mins[j]).max_by_key(|&j| widths[j] - mins[j]);
                    let Some(j) = donor else { break };
                    widths[j] -= 1;
                    widths[i] += 1;
                }
            }
        } else if let Some(w) = widths.first_mut() {
            // Only auto columns: the first one takes the slack, pushing the others right.
            *w += rest;
        }
        let mut wrapped: Vec<Vec<String>> = cells.iter().zip(&widths).map(|(t, w)| wrap(t, (w / cw).max(1))).collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for i in 0..height {
            let mut runs = Vec::new();
            let mut x = 0;
            for (k, lines) in wrapped.iter_mut().enumerate() {
                // Shorter right-aligned cells (amounts) stand on the row's last line, beside the
                // end of their wrapped label; others (an item's number) stay on its first line.
                let line =
                    if columns[k].align == Align::Right { (i + lines.len()).checked_sub(height) } else { Some(i) };
                // Each wrapped line is placed once: it moves into its run.
                if let Some(text) = line.and_then(|j| lines.get_mut(j)).filter(|t| !t.is_empty()) {
                    let used = text.chars().count() * cw;
                    let off = place(columns[k].align, widths[k], used);
                    runs.push(Run { col: x + off, text: std::mem::take(text), style });
                }
                x += widths[k] + ROW_GAP;
            }
            self.line(TextLine { runs, tall: style.tall, page: None });
        }
        self.scratch = [lens, widths, need, mins];
    }
}

/// Blank columns between the cells of a row.
const ROW_GAP: usize = 2;

/// Start column for `used` columns aligned in `width`.
fn place(align: Align, width: usize, used: usize) -> usize {
    let free = width.saturating_sub(used);
    match align {
        Align::Left => 0,
        Align::Center => free / 2,
        Align::Right => free,
    }
}

/// NFC-normalises and turns control characters into spaces.
fn clean(s: &str) -> Cow<'_, str> {
    // Text of letters that are NFC on their own and never combine (checked by `simple_letters_are_nfc`)
    // is NFC whatever their order.
    if s.chars().all(simple) {
        return Cow::Borrowed(s);
    }
    let control = |c: char| if c.is_control() { ' ' } else { c };
    // Most text is already NFC (the quick check says so for sure) and has no control characters: it is
    // used as it is.
    if unicode_normalization::is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        if !s.chars().any(char::is_control) {
            return Cow::Borrowed(s);
        }
        return Cow::Owned(s.chars().map(control).collect());
    }
    Cow::Owned(s.nfc().map(control).collect())
}

/// Whether `c` is a character that is NFC and starts no composition or reordering (canonical combining class
/// 0, quick check Yes), and is no control character: printable ASCII and Latin-1, Cyrillic letters, dashes,
/// quotes, currency signs, `№`.
fn simple(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0x2FF | 0x400..=0x482 | 0x48A..=0x52F | 0x2010..=0x2027
        | 0x20A0..=0x20C0 | 0x2116)
}

/// Greedy word wrap at `width` characters; words longer than a line are split. An empty
/// text gives one empty line (a blank line on paper).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if fits_as_is(text, width) {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    // Words that must not be parted by a line break are one word: a lone slash (the " / " between a
    // heading's two languages) stays at the end of the line before it, so no line starts with "/"; an amount
    // stays whole, with its sign, its thousands groups and its currency ("= 1 200.00 ₸").
    let mut words: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if w == "/" || w == "₸" || w == "тг" || last == "=" || continues_amount(last, w) => {
                last.push(' ');
                last.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    for word in words {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let wl = word.len();
            let need = if cur_len == 0 { wl } else { cur_len + 1 + wl };
            if need <= width {
                if cur_len > 0 {
                    cur.push(' ');
                }
                cur.extend(word.iter());
                cur_len = need;
                break;
            }
            if cur_len > 0 {
                lines.push(std::mem::take(&mut cur));
                cur_len = 0;
                continue;
            }
            // A word and its slash that only fit without the slash: the line break separates the two
            // languages well enough, and no line may start with the slash.
            if word.len() > 2 && word.ends_with(&[' ', '/']) && word.len() - 2 <= width {
                lines.push(word[..word.len() - 2].iter().collect());
                break;
            }
            // Word longer than a whole line: hard split.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if cur_len > 0 || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Whether `text` is one line as it stands: at most `width` characters, its words parted by single plain
/// spaces (so wrapping would only give it back).
fn fits_as_is(text: &str, width: usize) -> bool {
    let mut n = 0;
    let mut prev_space = true;
    for c in text.chars() {
        n += 1;
        if n > width {
            return false;
        }
        if c.is_whitespace() {
            if c != ' ' || prev_space {
                return false;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
    }
    !prev_space || n == 0
}

/// Whether `next` is the next thousands group of the amount `word` ends with (`1` + `200.00`).
fn continues_amount(word: &str, next: &str) -> bool {
    let head = word.rsplit(' ').next().unwrap_or(word).trim_start_matches(['-', '+']);
    let group = !head.is_empty() && head.len() <= 3 && head.bytes().all(|b| b.is_ascii_digit());
    let n = next.as_bytes();
    group && n.len() >= 3 && n[..3].iter().all(u8::is_ascii_digit) && (n.len() == 3 || matches!(n[3], b'.' | b','))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::markup::parse;

    fn texts(l: &Layout) -> Vec<String> {
        l.items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Text(t) => {
                    let mut s = String::new();
                    for r in &t.runs {
                        while s.chars().count() < r.col {
                            s.push(' ');
                        }
                        s.push_str(&r.text);
                    }
                    Some(s)
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn wrap_breaks_words_and_long_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert_eq!(wrap("ФИСКАЛЬНЫЙ ЧЕК / ФИСКАЛДЫҚ ЧЕК", 16), vec!["ФИСКАЛЬНЫЙ ЧЕК /", "ФИСКАЛДЫҚ ЧЕК"]);
        assert_eq!(wrap("КОЛ-ВО / САНЫ", 7), vec!["КОЛ-ВО", "САНЫ"]);
        assert_eq!(wrap("1 дана x 1 200.00 ₸", 12), vec!["1 дана x", "1 200.00 ₸"]);
        assert_eq!(wrap("12 345 678.00 тг итого", 17), vec!["12 345 678.00 тг", "итого"]);
    }

    #[test]
    fn rows_align_money_right() {
        let (doc, _) = parse("@row 1 a>: ИТОГО | 1 750.00\n@center: ab", "t");
        let l = layout(&doc, &Geometry::text(20));
        assert_eq!(texts(&l), vec!["ИТОГО       1 750.00", "         ab"]);
    }

    #[test]
    fn weighted_cells_wrap_inside_columns() {
        let (doc, _) = parse("@row 1 1>: aaa bbb | x", "t");
        let l = layout(&doc, &Geometry::text(8));
        assert_eq!(texts(&l), vec!["aaa", "bbb    x"]);
    }

    #[test]
    fn fill_puts_label_and_value_at_the_edges() {
        let (doc, d) = parse("@fill dots: @*Кассир:@* | Test\n@fill spaces: @*A: @*1 | @*B: @*2", "t");
        assert!(d.is_empty(), "{d:?}");
        let l = layout(&doc, &Geometry::text(20));
        assert_eq!(texts(&l), vec!["Кассир:.........Test", "A: 1            B: 2"]);
        let ItemKind::Text(line) = &l.items[0].kind else { panic!("a text line") };
        assert!(line.runs[0].style.bold && !line.runs[1].style.bold && !line.runs[2].style.bold);
        let grid = crate::render::backend::grid::html(&l);
        assert!(grid.starts_with("<b>Кассир:</b>.........Test<br/><b>A:&nbsp;</b>1&nbsp;"), "{grid}");
    }

    #[test]
    fn a_fill_too_long_for_a_line_puts_the_value_below() {
        let (doc, _) = parse("@fill dots: Очень длинная подпись | 12345.00", "t");
        let l = layout(&doc, &Geometry::text(16));
        assert_eq!(texts(&l), vec!["Очень длинная", "подпись", "........12345.00"]);
    }

    #[test]
    fn data_cannot_switch_bold_in_a_fill() {
        let label = crate::render::markup::escape("@*x@*");
        let (doc, _) = parse(&format!("@fill dots: {label} | 1"), "t");
        let l = layout(&doc, &Geometry::text(10));
        assert_eq!(texts(&l), vec!["@*x@*....1"]);
        let ItemKind::Text(line) = &l.items[0].kind else { panic!("a text line") };
        assert!(line.runs.iter().all(|r| !r.style.bold));
    }

    #[test]
    fn a_number_column_gives_a_hanging_indent() {
        let (doc, _) = parse("@row a 1: 10. | Өрік кептірілген жақсы сорт (кг)", "t");
        let l = layout(&doc, &Geometry::text(20));
        assert_eq!(texts(&l), vec!["10.  Өрік", "     кептірілген", "     жақсы сорт (кг)"]);
    }

    #[test]
    fn an_amount_stands_on_the_last_line_of_its_label_two_spaces_clear() {
        let (doc, _) = parse("@row 1 a>: БАНКОВСКАЯ КАРТА / БАНК КАРТАСЫ | 1 000.00", "t");
        let l = layout(&doc, &Geometry::text(32));
        let lines = texts(&l);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(!lines[0].contains("1 000.00"), "{lines:?}");
        let last = &lines[1];
        assert!(last.ends_with("1 000.00"), "{lines:?}");
        let label_end = last.trim_end_matches("1 000.00");
        assert!(label_end.ends_with("  ") && label_end.trim().ends_with("КАРТАСЫ"), "{lines:?}");
    }

    #[test]
    fn wide_text_counts_double() {
        let (doc, _) = parse("@wide: abcdef", "t");
        let l = layout(&doc, &Geometry::text(8));
        assert_eq!(texts(&l), vec!["abcd", "ef"]);
    }

    #[test]
    fn simple_letters_are_nfc() {
        use unicode_normalization::char::canonical_combining_class;
        for c in (0..=0x10FFFF).filter_map(char::from_u32).filter(|c| simple(*c)) {
            assert!(!c.is_control(), "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            let alone = c.to_string();
            assert_eq!(unicode_normalization::is_nfc_quick(alone.chars()), unicode_normalization::IsNormalized::Yes);
            // Nor does it compose with a letter before it.
            for before in ['a', 'и', 'е', 'A', 'И'] {
                let pair: String = [before, c].into_iter().collect();
                assert_eq!(pair.nfc().collect::<String>(), pair, "{c:?} after {before:?}");
            }
        }
        assert_eq!(clean("и\u{306}"), "й");
        assert_eq!(clean("a\tb"), "a b");
    }

    #[test]
    fn nfc_composes_decomposed_letters() {
        let (doc, _) = parse("и\u{306}", "t");
        let l = layout(&doc, &Geometry::text(8));
        assert_eq!(texts(&l), vec!["й"]);
    }

    #[test]
    fn image_geometry() {
        let g = Geometry::image(576, 1.0);
        assert_eq!((g.columns, g.line_h), (48, 24));
        let g = Geometry::image(384, 2.0);
        assert_eq!((g.columns, g.line_h), (16, 48));
        assert_eq!(Geometry::printer(&PrinterProfile::generic_58mm()), Geometry::image(384, 1.0));
    }

    #[test]
    fn images_shrink_to_the_paper() {
        let doc = Document {
            blocks: vec![Block::Image(crate::render::model::Image {
                width: 1000,
                height: 100,
                luma: vec![0; 100_000].into(),
                ..Default::default()
            })],
        };
        let l = layout(&doc, &Geometry::image(384, 1.0));
        match &l.items[0].kind {
            ItemKind::Image { x, width, height, luma } => {
                assert_eq!((*x, *width, *height), (0, 384, 38));
                assert_eq!(luma.len(), 384 * 38);
            }
            other => panic!("{other:?}"),
        }
    }
}
