//! The receipt model: what a template's markup means, independent of paper width.
//!
//! `markup::parse` produces a [`Document`]; `layout::layout` turns it into a width-specific
//! `Layout`. Nothing here knows about dots, columns or printer bytes, except `Raw`, which is
//! an explicit escape hatch carried through untouched.
use super::codepage::CodePage;

/// Horizontal alignment of a text line or of a table cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// Character style. `wide` and `tall` double the character cell like the printer's GS ! does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Style {
    pub bold: bool,
    pub wide: bool,
    pub tall: bool,
    pub inverse: bool,
}

impl Style {
    /// Columns one character occupies.
    pub fn char_cols(self) -> usize {
        if self.wide { 2 } else { 1 }
    }
}

/// How wide a table column is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnWidth {
    /// A share of the width left after the `Auto` columns.
    Weight(u32),
    /// As wide as the column's content (capped at the line width).
    Auto,
}

/// One column of a `Row`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub width: ColumnWidth,
    pub align: Align,
}

/// Barcode symbologies the markup accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbology {
    Ean13,
    Code128,
}

/// A decoded greyscale image (0 = black, 255 = white), already composed over white.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub luma: std::sync::Arc<Vec<u8>>,
    /// How grey becomes dots (file logos default to Floyd–Steinberg).
    pub dither: super::dither::Dither,
    /// Width as a percentage of the paper (`@image logo.png 60%`); `None` = natural size.
    pub fit_pct: Option<u32>,
    /// SHA-256 of the PNG file it came from: the key of the dithering cache.
    pub key: Option<std::sync::Arc<str>>,
}

/// A QR symbol as a square module matrix (`true` = dark), without quiet zone.
///
/// Its size is known when the markup is parsed; its modules are drawn (the mask chosen) only when a
/// back-end that draws them asks ([`QrMatrix::dark`]): text and native ESC/POS QR never do. Clones
/// share the drawing, so a document laid out for several back-ends draws its symbol once.
#[derive(Clone, Debug)]
pub struct QrMatrix {
    pub size: usize,
    pub(crate) modules: std::sync::Arc<super::qr::LazyModules>,
}

impl QrMatrix {
    /// The modules, row-major, `size × size` (`true` = dark).
    pub fn dark(&self) -> &[bool] {
        self.modules.get()
    }
}

impl PartialEq for QrMatrix {
    fn eq(&self, other: &QrMatrix) -> bool {
        self.size == other.size && self.modules.codewords() == other.modules.codewords()
    }
}

impl Eq for QrMatrix {}

/// One block of the document, in reading order.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A paragraph: wrapped at the line width, aligned as a whole.
    Text { align: Align, style: Style, text: String },
    /// A table row: cells wrap inside their columns.
    /// `grid`: every column takes exactly its share (content wraps inside it), so rows with the same
    /// columns line up; otherwise a long cell may widen its column in its row.
    Row { style: Style, columns: Vec<Column>, cells: Vec<String>, grid: bool },
    /// A label and a value on one line, the gap between them filled with `fill` (`.` leaders or spaces);
    /// each side is a list of styled spans (`@fill`). A pair too long for a line puts the value on the next
    /// line, right-aligned.
    Fill { fill: char, left: Vec<(Style, String)>, right: Vec<(Style, String)> },
    /// A code-page test line for the self-test page: ESC/POS sends it in `page` selected by
    /// `ESC t esc_t`, even if the profile does not list that page (other back-ends print it
    /// as ordinary text, showing what a correctly set up printer prints).
    Sample { page: CodePage, esc_t: u8, text: String },
    /// A full-width rule drawn with `-` (or `=` when double).
    Rule { double: bool },
    /// Blank lines.
    Feed(u32),
    /// A QR code; `data` is what it encodes (shown as text where graphics are impossible).
    Qr { data: String, matrix: QrMatrix },
    /// A 1-D barcode as bar modules (1 = bar), with its human-readable text.
    Barcode { symbology: Symbology, data: String, bars: Vec<u8> },
    /// A picture, e.g. the logo.
    Image(Image),
    /// Paper cut (partial or full).
    Cut { partial: bool },
    /// Cash drawer kick-out pulse.
    Drawer,
    /// Printer bytes passed through only by the ESC/POS back-end.
    Raw(Vec<u8>),
}

/// A parsed receipt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    pub blocks: Vec<Block>,
}
