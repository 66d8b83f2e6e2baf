//! Parser for the receipt markup (see `docs/receipt-markup.md`) into a [`Document`].
//!
//! Parsing never fails: a line it cannot understand is kept as plain text and reported as a
//! diagnostic, so a typo in a template shows up on paper instead of losing the receipt.
//! Values interpolated by templates are escaped (`escape`), so document data can never start
//! a directive or split a table cell.
use super::codepage::CodePage;
use super::dither::Dither;
use super::error::{Diagnostic, Stage};
use super::model::{Align, Block, Column, ColumnWidth, Document, Image, Style, Symbology};
use super::template::lines::marker_line;
use super::template::{UNKNOWN_HEADING_CLOSE, UNKNOWN_HEADING_OPEN};
use base64::Engine as _;

/// Largest logo accepted, in pixels per side; bigger images are rejected with a diagnostic.
const MAX_IMAGE_SIDE: u32 = 4096;
/// Upper bound for `@feed n`, so a typo cannot waste a metre of paper.
const MAX_FEED: u32 = 20;
/// Markup problems listed per render.
const MAX_DIAGNOSTICS: usize = 100;
/// QR codes, barcodes and pictures one receipt may hold (a receipt has one or two; thousands would take
/// seconds and tens of megabytes to draw).
const MAX_PICTURES: usize = 100;

/// Escapes a value for inclusion in markup: `\`, `|` and `@` get a backslash, and line
/// breaks become spaces, so data cannot inject directives or cells.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    escape_into(&mut out, s);
    out
}

/// [`escape`] appended to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    if !s.bytes().any(|b| matches!(b, b'\\' | b'|' | b'@' | b'\n' | b'\r' | b'\t')) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' | '|' | '@' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
}

/// Styled spans of a `@fill` side: `@*` toggles bold; escapes are removed.
fn spans(s: &str) -> Vec<(Style, String)> {
    let mut out = Vec::new();
    let mut bold = false;
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.push(chars.next().unwrap_or('\\')),
            '@' if chars.peek() == Some(&'*') => {
                chars.next();
                if !cur.is_empty() {
                    out.push((Style { bold, ..Style::default() }, std::mem::take(&mut cur)));
                }
                bold = !bold;
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push((Style { bold, ..Style::default() }, cur));
    }
    out
}

/// Removes markup escapes: `\x` becomes `x`.
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits at unescaped `sep`, keeping escapes in the parts.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Finds the first unescaped `c`.
fn find_unescaped(s: &str, target: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == target {
            return Some(i);
        }
    }
    None
}

/// Parses markup. `file` names the template for diagnostics. Markup made by
/// `template::render_markup` carries line markers: diagnostics then name the template line
/// that produced the markup line (and `snippet`, the offending text); plain markup is
/// reported by its own line numbers.
pub fn parse(src: &str, file: &str) -> (Document, Vec<Diagnostic>) {
    parse_with(src, file, &|name: &str| Err(format!("no template folder to load {name:?} from")))
}

/// Loads `@image NAME.png` files (from the template's folder); `Err` says why not.
pub type ImageLoader<'a> = &'a dyn Fn(&str) -> Result<Image, String>;

/// [`parse`] with a loader for picture files.
pub fn parse_with(src: &str, file: &str, images: ImageLoader) -> (Document, Vec<Diagnostic>) {
    let mut p = Parser { doc: Document::default(), diags: Vec::new(), pictures: 0, file, images };
    let mut template_line = None;
    for (i, raw) in src.lines().enumerate() {
        // Most lines: at most a marker first, then nothing to take out (markers and heading marks are
        // code points past U+F0000, whose UTF-8 starts with 0xF3 or 0xF4).
        let lead = raw.chars().next().and_then(marker_line);
        let body = if lead.is_some() { &raw[4..] } else { raw };
        if !body.bytes().any(|b| b >= 0xF3) {
            if lead.is_some() {
                template_line = lead;
            }
            p.line(lead.or(template_line).unwrap_or(i + 1), body.trim());
            continue;
        }
        let mut first = None;
        let mut clean = String::with_capacity(raw.len());
        let mut unknown: Vec<String> = Vec::new();
        let mut in_key = false;
        for c in raw.chars() {
            match marker_line(c) {
                Some(l) => {
                    first = first.or(Some(l));
                    template_line = Some(l);
                }
                None if c == UNKNOWN_HEADING_OPEN => {
                    unknown.push(String::new());
                    in_key = true;
                }
                None if c == UNKNOWN_HEADING_CLOSE => in_key = false,
                None => {
                    if let Some(key) = unknown.last_mut().filter(|_| in_key) {
                        key.push(c);
                    }
                    clean.push(c);
                }
            }
        }
        let n = first.or(template_line).unwrap_or(i + 1);
        for key in unknown {
            let message =
                format!("unknown heading key `{key}` (docs/template-context.md lists them); printed as its name");
            let mut d = Diagnostic::new(Stage::Markup, file, message).as_warning();
            d.line = Some(n);
            d.snippet = Some(key);
            p.diags.push(d);
        }
        p.line(n, clean.trim());
    }
    (p.doc, p.diags)
}

struct Parser<'a> {
    doc: Document,
    diags: Vec<Diagnostic>,
    /// QR codes, barcodes and pictures so far.
    pictures: usize,
    file: &'a str,
    images: ImageLoader<'a>,
}

impl Parser<'_> {
    /// Reports `message` at `line`, with the offending text when there is one.
    fn diag(&mut self, line: usize, message: String) {
        self.diag_at(line, message, None);
    }

    fn diag_at(&mut self, line: usize, message: String, snippet: Option<&str>) {
        // A template that gets every line wrong needs its first problems shown, not thousands of them.
        if self.diags.len() > MAX_DIAGNOSTICS {
            return;
        }
        if self.diags.len() == MAX_DIAGNOSTICS {
            let mut d = Diagnostic::new(
                Stage::Markup,
                self.file,
                format!("more problems after the first {MAX_DIAGNOSTICS} are not listed"),
            );
            d.line = Some(line);
            self.diags.push(d);
            return;
        }
        let mut d = Diagnostic::new(Stage::Markup, self.file, message);
        d.line = Some(line);
        d.snippet = snippet.map(str::to_string);
        self.diags.push(d);
    }

    fn push(&mut self, b: Block) {
        self.doc.blocks.push(b);
    }

    fn text(&mut self, text: String) {
        self.push(Block::Text { align: Align::Left, style: Style::default(), text });
    }

    fn line(&mut self, n: usize, line: &str) {
        let Some(rest) = line.strip_prefix('@') else {
            self.text(unescape(line));
            return;
        };
        let (word, args) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        match word {
            "rule" => self.rule(n, args),
            "feed" => self.feed(n, args),
            "cut" => self.cut(n, args),
            "drawer" => self.push(Block::Drawer),
            "qr" | "barcode" | "image" if self.pictures >= MAX_PICTURES => {
                self.diag(n, format!("@{word}: more than {MAX_PICTURES} codes and pictures in one receipt, skipped"));
            }
            "qr" => {
                self.pictures += 1;
                self.qr(n, args)
            }
            "barcode" => {
                self.pictures += 1;
                self.barcode(n, args)
            }
            "image" => {
                self.pictures += 1;
                self.image(n, args)
            }
            "raw" => self.raw(n, args),
            "sample" => self.sample(n, line, args),
            "fill" => self.fill(n, args),
            _ => self.styled(n, rest),
        }
    }

    /// `@fill dots: LEFT | RIGHT` or `@fill spaces: LEFT | RIGHT`; `@*` toggles bold inside a side (data
    /// cannot produce it: interpolated values have their `@` escaped).
    fn fill(&mut self, n: usize, args: &str) {
        let Some((kind, rest)) = args.split_once(':') else {
            self.diag(n, "@fill: expected `@fill dots: label | value` or `@fill spaces: ...`".to_string());
            return;
        };
        let fill = match kind.trim() {
            "dots" => '.',
            "spaces" => ' ',
            other => {
                self.diag_at(n, format!("@fill: unknown filler {other:?} (dots or spaces)"), Some(other));
                return;
            }
        };
        let parts = split_unescaped(rest, '|');
        if parts.len() > 2 {
            self.diag(n, "@fill: more than two sides; the extras joined the value".to_string());
        }
        let left = spans(parts.first().copied().unwrap_or("").trim());
        let right = if parts.len() < 2 { Vec::new() } else { spans(parts[1..].join("|").trim()) };
        self.push(Block::Fill { fill, left, right });
    }

    fn rule(&mut self, n: usize, args: &str) {
        let double = match args {
            "" | "-" | "single" => false,
            "=" | "double" => true,
            other => {
                self.diag_at(n, format!("@rule: unknown kind {other:?}, drew a single rule"), Some(other));
                false
            }
        };
        self.push(Block::Rule { double });
    }

    fn feed(&mut self, n: usize, args: &str) {
        let lines = if args.is_empty() {
            1
        } else {
            match args.parse::<u32>() {
                Ok(v) if v <= MAX_FEED => v,
                Ok(v) => {
                    self.diag(n, format!("@feed {v}: more than {MAX_FEED}, fed {MAX_FEED}"));
                    MAX_FEED
                }
                Err(_) => {
                    self.diag_at(n, format!("@feed: {args:?} is not a number, fed 1"), Some(args));
                    1
                }
            }
        };
        self.push(Block::Feed(lines));
    }

    fn cut(&mut self, n: usize, args: &str) {
        let partial = match args {
            "" | "partial" => true,
            "full" => false,
            other => {
                self.diag_at(n, format!("@cut: unknown kind {other:?}, cut partially"), Some(other));
                true
            }
        };
        self.push(Block::Cut { partial });
    }

    fn qr(&mut self, n: usize, args: &str) {
        let data = unescape(args);
        if data.is_empty() {
            self.diag(n, "@qr without data, skipped".into());
            return;
        }
        match super::qr::encode(data.as_bytes()) {
            Ok(matrix) => self.push(Block::Qr { data, matrix }),
            Err(e) => {
                self.diag(n, format!("@qr: cannot encode ({e}), printed as text"));
                self.text(data);
            }
        }
    }

    fn barcode(&mut self, n: usize, args: &str) {
        let (kind, data) = match args.find(char::is_whitespace) {
            Some(i) => (&args[..i], unescape(args[i..].trim())),
            None => (args, String::new()),
        };
        let encoded = match kind {
            "ean13" => {
                let ok = (data.len() == 12 || data.len() == 13) && data.bytes().all(|b| b.is_ascii_digit());
                if ok {
                    barcoders::sym::ean13::EAN13::new(&data)
                        .map(|b| (Symbology::Ean13, b.encode()))
                        .map_err(|e| e.to_string())
                } else {
                    Err("EAN-13 needs 12 or 13 digits".to_string())
                }
            }
            "code128" => {
                // Code set B covers printable ASCII, which is what receipts carry.
                if !data.is_empty() && data.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                    barcoders::sym::code128::Code128::new(format!("\u{0181}{data}"))
                        .map(|b| (Symbology::Code128, b.encode()))
                        .map_err(|e| e.to_string())
                } else {
                    Err("Code128 needs printable ASCII".to_string())
                }
            }
            other => Err(format!("unknown symbology {other:?} (ean13, code128)")),
        };
        match encoded {
            Ok((symbology, bars)) => self.push(Block::Barcode { symbology, data, bars }),
            Err(e) => {
                self.diag(n, format!("@barcode: {e}; printed as text"));
                self.text(data);
            }
        }
    }

    fn image(&mut self, n: usize, args: &str) {
        let mut words = args.split_whitespace();
        if let Some(name) = words.next().filter(|w| w.to_ascii_lowercase().ends_with(".png")) {
            return self.image_file(n, name, words.collect());
        }
        let b64: String = args.chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| format!("bad base64: {e}"))
            .and_then(|bytes| decode_png(&bytes));
        match decoded {
            Ok(img) => self.push(Block::Image(img)),
            Err(e) => self.diag(n, format!("@image: {e}; skipped")),
        }
    }

    /// `@image logo.png [fs|atkinson|threshold] [N%]`: a picture file beside the template.
    fn image_file(&mut self, n: usize, name: &str, options: Vec<&str>) {
        let mut dither = Dither::FloydSteinberg;
        let mut fit_pct = None;
        for word in options {
            if let Some(d) = Dither::from_word(word) {
                dither = d;
            } else if let Some(p) =
                word.strip_suffix('%').and_then(|p| p.parse::<u32>().ok()).filter(|p| (1..=100).contains(p))
            {
                fit_pct = Some(p);
            } else {
                self.diag_at(
                    n,
                    format!("@image: unknown option `{word}` (fs, atkinson, threshold, or a width like 60%); skipped"),
                    Some(word),
                );
                return;
            }
        }
        match (self.images)(name) {
            Ok(img) => self.push(Block::Image(Image { dither, fit_pct, ..img })),
            Err(e) => {
                // A picture file that is gone costs the picture, not the template's text.
                self.diag_at(n, format!("@image {name}: {e}; skipped"), Some(name));
                if let Some(d) = self.diags.last_mut() {
                    d.warning = true;
                }
            }
        }
    }

    fn raw(&mut self, n: usize, args: &str) {
        let mut bytes = Vec::new();
        for tok in args.split_whitespace() {
            match u8::from_str_radix(tok, 16) {
                Ok(b) if tok.len() <= 2 => bytes.push(b),
                _ => {
                    self.diag_at(n, format!("@raw: {tok:?} is not a hex byte; line skipped"), Some(tok));
                    return;
                }
            }
        }
        self.push(Block::Raw(bytes));
    }

    /// `@sample kz1048 53: text`: a line forced into a code page (self-test page).
    fn sample(&mut self, n: usize, line: &str, args: &str) {
        let parsed = find_unescaped(args, ':').and_then(|colon| {
            let mut head = args[..colon].split_whitespace();
            let page = match head.next()? {
                "kz1048" => CodePage::Kz1048,
                "cp866" => CodePage::Cp866,
                "cp1251" => CodePage::Cp1251,
                _ => return None,
            };
            let esc_t = head.next()?.parse::<u8>().ok()?;
            Some((page, esc_t, unescape(args[colon + 1..].trim())))
        });
        match parsed {
            Some((page, esc_t, text)) => self.push(Block::Sample { page, esc_t, text }),
            None => {
                self.diag(n, format!("@sample needs `PAGE N: text` (PAGE kz1048, cp866, cp1251): {line:?}"));
                self.text(unescape(line));
            }
        }
    }

    /// `@tokens: content` where tokens are styles, alignment and column specs.
    fn styled(&mut self, n: usize, rest: &str) {
        let Some(colon) = find_unescaped(rest, ':') else {
            let word = rest.split_whitespace().next().unwrap_or_default();
            self.diag_at(
                n,
                format!("unknown directive `@{word}` (a styled line needs `@STYLE…: text`); line skipped"),
                Some(&format!("@{word}")),
            );
            return;
        };
        let (head, content) = (&rest[..colon], rest[colon + 1..].trim());
        let mut style = Style::default();
        let mut align = Align::Left;
        let mut columns = Vec::new();
        let mut grid = false;
        for tok in head.split_whitespace() {
            match tok {
                "grid" => grid = true,
                "left" => align = Align::Left,
                "center" => align = Align::Center,
                "right" => align = Align::Right,
                "bold" => style.bold = true,
                "wide" => style.wide = true,
                "tall" => style.tall = true,
                "big" => {
                    style.wide = true;
                    style.tall = true;
                }
                "inverse" => style.inverse = true,
                "row" => {}
                spec => match parse_column(spec) {
                    Some(c) => columns.push(c),
                    None => {
                        self.diag_at(
                            n,
                            format!(
                                "unknown style word `{spec}` (left, center, right, bold, wide, tall, big, \
inverse, row, grid, or a column like 1, 2>, a^); line skipped"
                            ),
                            Some(spec),
                        );
                        return;
                    }
                },
            }
        }
        if columns.is_empty() {
            self.push(Block::Text { align, style, text: unescape(content) });
            return;
        }
        let mut cells: Vec<String> = split_unescaped(content, '|').into_iter().map(|c| unescape(c.trim())).collect();
        if cells.len() > columns.len() {
            self.diag(
                n,
                format!("{} cells for {} columns; extra cells joined into the last", cells.len(), columns.len()),
            );
            let extra = cells.split_off(columns.len());
            if let Some(last) = cells.last_mut() {
                for e in extra {
                    last.push(' ');
                    last.push_str(&e);
                }
            }
        }
        cells.resize(columns.len(), String::new());
        self.push(Block::Row { style, columns, cells, grid });
    }
}

/// `3`, `3>`, `a`, `a>`, `auto^` …: a width (weight or auto) with an optional alignment.
fn parse_column(spec: &str) -> Option<Column> {
    let (body, align) = match spec.as_bytes().last()? {
        b'<' => (&spec[..spec.len() - 1], Align::Left),
        b'^' => (&spec[..spec.len() - 1], Align::Center),
        b'>' => (&spec[..spec.len() - 1], Align::Right),
        _ => (spec, Align::Left),
    };
    let width = match body {
        "a" | "auto" => ColumnWidth::Auto,
        digits => match digits.parse::<u32>() {
            Ok(w) if (1..=100).contains(&w) => ColumnWidth::Weight(w),
            _ => return None,
        },
    };
    Some(Column { width, align })
}

/// Decodes a PNG into luma composed over white.
pub fn decode_png(bytes: &[u8]) -> Result<Image, String> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(|e| format!("bad PNG: {e}"))?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w == 0 || h == 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!("image {w}x{h} outside 1..={MAX_IMAGE_SIDE} per side"));
    }
    let size = reader.output_buffer_size().ok_or_else(|| "PNG too large".to_string())?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(|e| format!("bad PNG: {e}"))?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("palette PNG not expanded".into()),
    };
    let mut luma = Vec::with_capacity((w * h) as usize);
    for y in 0..h as usize {
        let row = &buf[y * info.line_size..][..w as usize * channels];
        for px in row.chunks_exact(channels) {
            let (l, a) = match channels {
                1 => (px[0] as u32, 255),
                2 => (px[0] as u32, px[1] as u32),
                3 => (luma_of(px[0], px[1], px[2]), 255),
                _ => (luma_of(px[0], px[1], px[2]), px[3] as u32),
            };
            // Compose over white paper.
            luma.push(((l * a + 255 * (255 - a)) / 255) as u8);
        }
    }
    Ok(Image { width: w, height: h, luma: luma.into(), ..Image::default() })
}

/// Integer Rec. 601 luma.
fn luma_of(r: u8, g: u8, b: u8) -> u32 {
    (299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_data_cannot_inject() {
        let v = escape("@cut | a\\b\nx");
        let (doc, diags) = parse(&v, "t");
        assert!(diags.is_empty());
        assert_eq!(
            doc.blocks,
            vec![Block::Text { align: Align::Left, style: Style::default(), text: "@cut | a\\b x".into() }]
        );
        let (doc, _) = parse(&format!("@row 1 1>: {} | 5", escape("a|b")), "t");
        match &doc.blocks[0] {
            Block::Row { cells, .. } => assert_eq!(cells, &["a|b", "5"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn styles_and_columns() {
        let (doc, diags) = parse("@center big inverse: ИТОГО\n@row 2 a>: x | 1.00", "t");
        assert!(diags.is_empty());
        assert_eq!(
            doc.blocks[0],
            Block::Text {
                align: Align::Center,
                style: Style { bold: false, wide: true, tall: true, inverse: true },
                text: "ИТОГО".into()
            }
        );
        match &doc.blocks[1] {
            Block::Row { columns, .. } => {
                assert_eq!(columns[0].width, ColumnWidth::Weight(2));
                assert_eq!(columns[1].width, ColumnWidth::Auto);
                assert_eq!(columns[1].align, Align::Right);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn typos_are_reported_and_never_printed() {
        let (doc, diags) = parse("@centre: x\n@frobnicate\n@feed x\n@barcode ean13 12\n@center blnk: y", "tpl");
        assert_eq!(diags.len(), 5);
        assert_eq!(diags[0].line, Some(1));
        assert_eq!(diags[0].snippet.as_deref(), Some("centre"));
        assert_eq!(diags[1].snippet.as_deref(), Some("@frobnicate"));
        assert_eq!(diags[3].line, Some(4));
        assert_eq!((diags[4].line, diags[4].snippet.as_deref()), (Some(5), Some("blnk")));
        // The unknown directive and style lines are left out; the feed and the barcode's text stay.
        assert_eq!(doc.blocks.len(), 2, "{:?}", doc.blocks);
        assert!(!format!("{:?}", doc.blocks).contains("centre") && !format!("{:?}", doc.blocks).contains("blnk"));
    }

    #[test]
    fn markers_name_the_template_line() {
        let m = |l: u32| char::from_u32(0xF0000 + l).unwrap_or(' ');
        let src = format!("{}@center: ok\n{}@bogus\n  continued\n", m(7), m(12));
        let (_, diags) = parse(&src, "tpl");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(12));
    }

    #[test]
    fn commands() {
        let (doc, diags) =
            parse("@rule =\n@feed 2\n@cut full\n@drawer\n@raw 1b 40\n@qr hello\n@barcode ean13 4870001234560", "t");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.blocks[0], Block::Rule { double: true });
        assert_eq!(doc.blocks[1], Block::Feed(2));
        assert_eq!(doc.blocks[2], Block::Cut { partial: false });
        assert_eq!(doc.blocks[3], Block::Drawer);
        assert_eq!(doc.blocks[4], Block::Raw(vec![0x1b, 0x40]));
        assert!(matches!(&doc.blocks[5], Block::Qr { matrix, .. } if matrix.size == 21));
        // EAN-13: 95 modules.
        assert!(matches!(&doc.blocks[6], Block::Barcode { bars, .. } if bars.len() == 95));
    }

    #[test]
    fn images_decode_and_bad_ones_are_reported() {
        use base64::Engine as _;
        // 2×2 RGBA: black, white, transparent, 50 % grey.
        let mut png_bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png_bytes, 2, 2);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().expect("header");
            w.write_image_data(&[0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0, 128, 128, 128, 255]).expect("data");
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
        let (doc, diags) = parse(&format!("@image {b64}\n@image !!!"), "t");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(2));
        assert_eq!(
            doc.blocks,
            vec![Block::Image(Image { width: 2, height: 2, luma: vec![0, 255, 255, 128].into(), ..Image::default() })]
        );
    }

    #[test]
    fn samples_force_a_code_page() {
        let (doc, diags) = parse("@sample kz1048 53: Қ\n@sample utf8 1: x", "t");
        assert_eq!(diags.len(), 1);
        assert_eq!(doc.blocks[0], Block::Sample { page: CodePage::Kz1048, esc_t: 53, text: "Қ".into() });
    }
}
