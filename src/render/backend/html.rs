//! HTML back-end: a self-contained page (inline CSS, SVG for QR and barcodes, data-URI logo).
//!
//! Every piece of text is HTML-escaped here, whatever the template did. Lines keep the
//! character grid with `white-space: pre` in a monospace font, so the page matches the paper.
use super::png::encode_gray;
use crate::render::layout::{ItemKind, Layout, TextLine};
use crate::render::options::RenderOptions;
use base64::Engine as _;
use std::fmt::Write as _;

const CSS: &str = "body{margin:0;padding:16px;background:#e8e8e8}\
.r{margin:0 auto;padding:12px 1ch;background:#fff;color:#000;\
font:15px/1.3 'DejaVu Sans Mono',monospace}\
.l{white-space:pre;height:1.3em;overflow:visible}.l.t{height:2.6em}\
.b{font-weight:bold}.i{background:#000;color:#fff}\
.w,.h,.wh{display:inline-block;transform-origin:0 0}\
.w{width:2ch;transform:scaleX(2)}.h{transform:scaleY(2)}.wh{width:2ch;transform:scale(2,2)}\
.g{display:block;margin:0 auto}.cut{border:0;border-top:1px dashed #888;margin:4px 0}";

/// Escapes `& < > " '`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_char(&mut out, c);
    }
    out
}

/// Appends one character of HTML text, escaped as [`escape`] does.
pub fn push_char(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

/// Renders `layout` as an HTML document.
pub fn render(layout: &Layout, _opts: &RenderOptions) -> String {
    let g = &layout.geometry;
    let pct = |dots: u32| dots as f32 * 100.0 / g.width_dots.max(1) as f32;
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>receipt</title>\
<style>{CSS}.r{{width:{}ch}}</style></head><body><div class=\"r\">\n",
        g.columns
    );
    for item in &layout.items {
        match &item.kind {
            ItemKind::Text(line) => text_line(&mut out, line),
            ItemKind::Feed { lines } => {
                for _ in 0..*lines {
                    out.push_str("<div class=\"l\"></div>\n");
                }
            }
            ItemKind::Qr { data, matrix, module, .. } => {
                let n = matrix.size;
                let mut d = String::new();
                for (i, dark) in matrix.dark().iter().enumerate() {
                    if *dark {
                        let _ = write!(d, "M{} {}h1v1h-1z", i % n + 4, i / n + 4);
                    }
                }
                let _ = writeln!(
                    out,
                    "<svg class=\"g\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {v} {v}\" \
style=\"width:{w:.1}%\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"{a}\">\
<path d=\"{d}\"/></svg>",
                    v = n + 8,
                    w = pct((n as u32 + 8) * module),
                    a = escape(data),
                );
            }
            ItemKind::Barcode { data, bars, module, .. } => {
                let mut d = String::new();
                for (i, bar) in bars.iter().enumerate() {
                    if *bar == 1 {
                        let _ = write!(d, "M{i} 0h1v40h-1z");
                    }
                }
                let _ = writeln!(
                    out,
                    "<svg class=\"g\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} 40\" \
preserveAspectRatio=\"none\" style=\"width:{w:.1}%;height:3em\" shape-rendering=\"crispEdges\" \
role=\"img\" aria-label=\"{a}\"><path d=\"{d}\"/></svg>",
                    n = bars.len(),
                    w = pct(bars.len() as u32 * module),
                    a = escape(data),
                );
            }
            ItemKind::Image { width, height, luma, .. } => {
                let png = encode_gray(*width, *height, luma).unwrap_or_default();
                let b64 = base64::engine::general_purpose::STANDARD.encode(png);
                let _ = writeln!(
                    out,
                    "<img class=\"g\" style=\"width:{:.1}%\" alt=\"\" src=\"data:image/png;base64,{b64}\">",
                    pct(*width)
                );
            }
            ItemKind::Cut { .. } => out.push_str("<hr class=\"cut\">\n"),
            ItemKind::Drawer => {}
            ItemKind::Raw(_) => {}
        }
    }
    out.push_str("</div></body></html>\n");
    out
}

fn text_line(out: &mut String, line: &TextLine) {
    out.push_str(if line.tall { "<div class=\"l t\">" } else { "<div class=\"l\">" });
    let mut col = 0;
    for run in &line.runs {
        while col < run.col {
            out.push(' ');
            col += 1;
        }
        let mut classes = Vec::new();
        if run.style.bold {
            classes.push("b");
        }
        if run.style.inverse {
            classes.push("i");
        }
        let per_char = match (run.style.wide, run.style.tall) {
            (true, true) => Some("wh"),
            (true, false) => Some("w"),
            (false, true) => Some("h"),
            (false, false) => None,
        };
        if !classes.is_empty() {
            let _ = write!(out, "<span class=\"{}\">", classes.join(" "));
        }
        for c in run.text.chars() {
            let mut buf = [0u8; 4];
            let e = escape(c.encode_utf8(&mut buf));
            match per_char {
                Some(cls) => {
                    let _ = write!(out, "<span class=\"{cls}\">{e}</span>");
                }
                None => out.push_str(&e),
            }
            col += run.style.char_cols();
        }
        if !classes.is_empty() {
            out.push_str("</span>");
        }
    }
    out.push_str("</div>\n");
}
