//! Plain-text back-end: the character grid as UTF-8 lines.
//!
//! Wide characters are followed by a space so that columns stay aligned; height and inverse
//! have no plain-text form. Graphics become text: a QR code prints the data it encodes,
//! a barcode its human-readable line (laid out under it anyway), an image nothing.
use crate::render::layout::{ItemKind, Layout, TextLine, wrap};
use crate::render::options::RenderOptions;

/// Renders `layout` as text, one `\n`-terminated line per printed line.
pub fn render(layout: &Layout, _opts: &RenderOptions) -> String {
    let mut out = String::with_capacity(layout.items.len() * (layout.geometry.columns + 1) * 2);
    let cols = layout.geometry.columns;
    for item in &layout.items {
        match &item.kind {
            ItemKind::Text(line) => {
                plain_into(&mut out, line);
                out.push('\n');
            }
            ItemKind::Feed { lines } => {
                for _ in 0..*lines {
                    out.push('\n');
                }
            }
            ItemKind::Qr { data, .. } => {
                for piece in wrap(data, cols) {
                    out.push_str(&piece);
                    out.push('\n');
                }
            }
            ItemKind::Barcode { .. } => {}
            ItemKind::Image { .. } => {}
            ItemKind::Cut { .. } => {}
            ItemKind::Drawer => {}
            ItemKind::Raw(_) => {}
        }
    }
    out
}

/// A text line with runs placed at their columns, trailing spaces removed.
pub fn plain(line: &TextLine) -> String {
    let mut s = String::new();
    plain_into(&mut s, line);
    s
}

/// [`plain`] appended to `s`.
fn plain_into(s: &mut String, line: &TextLine) {
    let start = s.len();
    let mut col = 0;
    for run in &line.runs {
        while col < run.col {
            s.push(' ');
            col += 1;
        }
        if !run.style.wide {
            s.push_str(&run.text);
            col += run.text.chars().count();
            continue;
        }
        for c in run.text.chars() {
            s.push(c);
            s.push(' ');
            col += 2;
        }
    }
    let kept = s[start..].trim_end().len();
    s.truncate(start + kept);
}
