//! An ESC/POS interpreter for the emulator: frames every command it knows (so raster data
//! is never mistaken for commands), answers `DLE EOT`, decodes text in the selected code
//! page into lines, and draws `GS v 0` raster exactly into a 1-bit bitmap.
//!
//! It also draws the whole receipt as the paper shows it (`paper`): text in the printer's
//! font (a [`RomFont`] given by whoever runs the emulator), user-defined characters
//! (`ESC &`, `ESC %`), emphasis, double size, reverse, line spacing (`ESC 3`), feeds and raster.
//! Native QR codes are recorded (their data), not drawn. `raster` keeps the raster graphics
//! alone, stacked in the order received.
use crate::spool::profile::PrinterProfile;
use crate::spool::status::PrinterStatus;
use std::collections::HashMap;
use std::sync::Arc;

/// The printer's built-in font A, as the emulator draws text with it.
pub trait RomFont: Send + Sync {
    /// The cell of one character in dots (width, height).
    fn cell(&self) -> (u32, u32);
    /// The cell bitmap of `c` (emphasised when `bold`), `cell()` in size, or `None` to leave it blank.
    fn glyph(&self, c: char, bold: bool) -> Option<Bitmap>;
    /// The text of a raster band one text line tall, when every cell of it is a glyph of this font at
    /// the printer's character grid (a line a receipt sent as raster because the printer lacks a letter);
    /// `None` when it is anything else.
    fn read_line(&self, _band: &Bitmap) -> Option<String> {
        None
    }
    /// The letter a downloaded (`ESC &`) glyph draws, when it is one of this font's cells.
    fn read_glyph(&self, _glyph: &Bitmap) -> Option<char> {
        None
    }
}

/// The line spacing a printer starts with: 1/6 inch ≈ 30 dots at 203 dpi.
pub const DEFAULT_LINE_SPACING: u32 = 30;

/// A 1-bit image, rows packed MSB first like `GS v 0` (1 = black dot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitmap {
    /// Width in dots (a multiple of 8).
    pub width: u32,
    /// Height in dots.
    pub height: u32,
    /// `width / 8 * height` bytes.
    pub data: Vec<u8>,
}

impl Bitmap {
    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        (self.width / 8) as usize
    }

    /// Whether dot (x, y) is black.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let i = y as usize * self.row_bytes() + (x / 8) as usize;
        self.data[i] & (0x80 >> (x % 8)) != 0
    }

    /// A blank image.
    pub fn blank(width: u32, height: u32) -> Bitmap {
        let width = width.div_ceil(8) * 8;
        Bitmap { width, height, data: vec![0; (width / 8 * height) as usize] }
    }

    /// Inks (or clears) dot (x, y); outside the image nothing happens.
    pub fn set(&mut self, x: u32, y: u32, ink: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = y as usize * self.row_bytes() + (x / 8) as usize;
        if ink {
            self.data[i] |= 0x80 >> (x % 8);
        } else {
            self.data[i] &= !(0x80 >> (x % 8));
        }
    }

    /// Grows the image downwards to at least `height` rows.
    fn grow_to(&mut self, height: u32) {
        if height > self.height {
            self.data.resize(self.row_bytes() * height as usize, 0);
            self.height = height;
        }
    }

    /// Appends `rows` rows of `row_bytes` each, widening the image if needed.
    fn append(&mut self, row_bytes: usize, rows: usize, data: &[u8]) {
        let new_w = self.row_bytes().max(row_bytes);
        if new_w > self.row_bytes() {
            let old = self.row_bytes();
            let mut widened = Vec::with_capacity(new_w * self.height as usize);
            for r in 0..self.height as usize {
                widened.extend_from_slice(&self.data[r * old..(r + 1) * old]);
                widened.resize(widened.len() + new_w - old, 0);
            }
            self.data = widened;
            self.width = (new_w * 8) as u32;
        }
        for r in 0..rows {
            let row = &data[r * row_bytes..(r + 1) * row_bytes];
            self.data.extend_from_slice(row);
            self.data.resize(self.data.len() + new_w - row_bytes, 0);
        }
        self.height += rows as u32;
    }

    /// Encodes as a 1-bit greyscale PNG (black dots dark).
    pub fn to_png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width.max(8), self.height.max(1));
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::One);
            let mut w = enc.write_header()?;
            let mut inverted: Vec<u8> = self.data.iter().map(|b| !b).collect();
            if inverted.is_empty() {
                inverted = vec![0xFF];
            }
            w.write_image_data(&inverted)?;
        }
        Ok(out)
    }
}

/// One job as the emulated printer received it: from the first printable byte to a cut, or
/// to a dropped connection (then `complete` is false).
#[derive(Debug, Clone, Default)]
pub struct ReceivedJob {
    /// Every byte of the job except real-time status queries.
    pub bytes: Vec<u8>,
    /// Decoded text lines.
    pub lines: Vec<String>,
    /// Raster graphics.
    pub raster: Bitmap,
    /// The whole receipt as printed: text (with a [`RomFont`]), user-defined characters, raster.
    pub paper: Bitmap,
    /// Data of QR codes printed with `GS ( k`.
    pub qr: Vec<Vec<u8>>,
    /// Cash-drawer pulses.
    pub drawer_pulses: u32,
    /// Ended with a cut.
    pub complete: bool,
    /// Commands the interpreter did not know (framed as two bytes).
    pub unknown_commands: u32,
}

impl ReceivedJob {
    /// True when any line contains `needle`.
    pub fn has_line(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }
}

/// What the interpreter produced from a chunk of input.
#[derive(Debug, Default)]
pub struct Output {
    /// Bytes to send back (status answers).
    pub reply: Vec<u8>,
    /// Jobs completed by a cut.
    pub jobs: Vec<ReceivedJob>,
    /// `DLE EOT` queries answered.
    pub status_queries: u32,
}

/// One character waiting in the line buffer, drawn when the line is printed.
#[derive(Clone)]
struct Cell {
    x: u32,
    glyph: Option<Bitmap>,
    wide: bool,
    tall: bool,
    inverse: bool,
}

/// The print modes that shape text.
#[derive(Clone, Copy, Default)]
struct Modes {
    bold: bool,
    wide: bool,
    tall: bool,
    inverse: bool,
    user_chars: bool,
}

/// The streaming interpreter. Feed it bytes as they arrive.
pub struct Interpreter {
    font: Option<Arc<dyn RomFont>>,
    user_chars: HashMap<u8, Bitmap>,
    modes: Modes,
    spacing: u32,
    cells: Vec<Cell>,
    cursor_x: u32,
    paper_y: u32,
    align: u8,
    qr_module: u32,
    profile: PrinterProfile,
    pending: Vec<u8>,
    job: ReceivedJob,
    started: bool,
    line: String,
    code_page: u8,
    qr_store: Vec<u8>,
    cut_count: u64,
    /// A printer without a cutter fed the receipt past its tear bar: the receipt is complete once
    /// anything but a cut follows (or the link ends).
    tear_pending: bool,
}

/// Parse result for one command at the front of the buffer.
enum Step {
    /// Need more bytes.
    More,
    /// Consumed `n` bytes.
    Took(usize),
}

impl Interpreter {
    /// A printer with `profile`'s code pages.
    pub fn new(profile: PrinterProfile) -> Self {
        Self {
            font: None,
            user_chars: HashMap::new(),
            modes: Modes::default(),
            spacing: DEFAULT_LINE_SPACING,
            cells: Vec::new(),
            cursor_x: 0,
            paper_y: 0,
            align: 0,
            qr_module: 3,
            profile,
            pending: Vec::new(),
            job: ReceivedJob::default(),
            started: false,
            line: String::new(),
            code_page: 0,
            qr_store: Vec::new(),
            cut_count: 0,
            tear_pending: false,
        }
    }

    /// Draws text with `font` (without one, text is decoded into lines but not drawn).
    pub fn with_font(mut self, font: Option<Arc<dyn RomFont>>) -> Self {
        self.font = font;
        self
    }

    fn cell_size(&self) -> (u32, u32) {
        self.font.as_ref().map(|f| f.cell()).unwrap_or((12, 24))
    }

    /// A character into the line buffer: a downloaded glyph where one is defined and selected,
    /// else the font's glyph of the decoded letter.
    fn put_char(&mut self, b: u8, c: char) {
        let (cw, _) = self.cell_size();
        let m = self.modes;
        let glyph = match self.user_chars.get(&b).filter(|_| m.user_chars && (32..127).contains(&b)) {
            Some(g) => Some(g.clone()),
            None => self.font.as_ref().and_then(|f| f.glyph(c, m.bold)),
        };
        self.cells.push(Cell { x: self.cursor_x, glyph, wide: m.wide, tall: m.tall, inverse: m.inverse });
        self.cursor_x += cw * if m.wide { 2 } else { 1 };
    }

    /// Prints the line buffer and advances the paper: by the line spacing, or by the tallest
    /// character when that is taller.
    fn print_line(&mut self) {
        let (cw, ch) = self.cell_size();
        let tallest = self.cells.iter().map(|c| ch * if c.tall { 2 } else { 1 }).max().unwrap_or(0);
        let advance = self.spacing.max(tallest);
        let width = self.profile.width_dots.max(8);
        if self.job.paper.width == 0 {
            self.job.paper = Bitmap::blank(width, 0);
        }
        let top = self.paper_y;
        self.job.paper.grow_to(top + advance);
        for cell in std::mem::take(&mut self.cells) {
            let (sx, sy) = (if cell.wide { 2 } else { 1 }, if cell.tall { 2 } else { 1 });
            // Characters stand on the line's bottom, as printers align mixed sizes.
            let y0 = top + tallest - ch * sy;
            for gy in 0..ch * sy {
                for gx in 0..cw * sx {
                    let dot = cell.glyph.as_ref().is_some_and(|g| g.get(gx / sx, gy / sy));
                    let ink = dot != cell.inverse;
                    if ink {
                        self.job.paper.set(cell.x + gx, y0 + gy, true);
                    }
                }
            }
        }
        self.cursor_x = 0;
        self.paper_y += advance;
    }

    /// Feeds `dots` of blank paper (printing a pending line first).
    fn feed_dots(&mut self, dots: u32) {
        if !self.cells.is_empty() {
            self.print_line();
        }
        self.paper_y += dots;
        let width = self.profile.width_dots.max(8);
        if self.job.paper.width == 0 {
            self.job.paper = Bitmap::blank(width, 0);
        }
        self.job.paper.grow_to(self.paper_y);
    }

    /// The autocutter count `GS g 2` answers with (the emulator keeps it across connections);
    /// cuts fed after this call add to it.
    pub fn set_cut_count(&mut self, n: u64) {
        self.cut_count = n;
    }

    /// Feeds bytes; `status` answers any `DLE EOT` in them.
    pub fn feed(&mut self, input: &[u8], status: PrinterStatus) -> Output {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(input);
        let mut out = Output::default();
        let mut pos = 0;
        while pos < pending.len() {
            match self.step(&pending[pos..], status, &mut out) {
                Step::More => break,
                Step::Took(n) => pos += n,
            }
        }
        pending.drain(..pos);
        self.pending = pending;
        out
    }

    /// The connection ended: returns the unfinished job, if it had any bytes. A receipt a printer
    /// without a cutter had fed past its tear bar is whole (`complete`); anything else was cut off.
    pub fn disconnect(&mut self) -> Option<ReceivedJob> {
        self.pending.clear();
        if !self.started {
            return None;
        }
        self.flush_line(false);
        if !self.cells.is_empty() {
            self.print_line();
        }
        self.started = false;
        self.paper_y = 0;
        let mut job = std::mem::take(&mut self.job);
        if std::mem::take(&mut self.tear_pending) {
            self.cut_count += 1;
            job.complete = true;
        }
        Some(job)
    }

    /// Whether the job so far printed anything (text, raster or a QR code).
    fn has_content(&self) -> bool {
        self.job.lines.iter().any(|l| !l.trim().is_empty())
            || !self.line.trim().is_empty()
            || self.job.raster.height > 0
            || !self.job.qr.is_empty()
    }

    /// Ends the current job as printed: by a cut, or torn off at the bar of a printer without a cutter.
    fn finish_job(&mut self, out: &mut Output) {
        if !self.cells.is_empty() {
            self.print_line();
        }
        self.tear_pending = false;
        self.paper_y = 0;
        self.cut_count += 1;
        self.job.complete = true;
        self.started = false;
        out.jobs.push(std::mem::take(&mut self.job));
    }

    fn flush_line(&mut self, always: bool) {
        if always || !self.line.is_empty() {
            let l = std::mem::take(&mut self.line);
            self.job.lines.push(l);
        }
    }

    fn decode_byte(&self, b: u8) -> char {
        if b < 0x80 {
            return b as char;
        }
        let enc = match self.profile.encoding_of(self.code_page) {
            Some("cp866") => Some(encoding_rs::IBM866),
            Some("windows-1251") => Some(encoding_rs::WINDOWS_1251),
            Some("kz1048") => return KZ1048_HIGH[(b - 0x80) as usize],
            _ => None,
        };
        match enc {
            Some(e) => e.decode_without_bom_handling(&[b]).0.chars().next().unwrap_or('\u{FFFD}'),
            None => '\u{FFFD}',
        }
    }

    fn init(&mut self) {
        self.code_page = 0;
        self.modes = Modes::default();
        self.spacing = DEFAULT_LINE_SPACING;
        self.user_chars.clear();
        self.cells.clear();
        self.cursor_x = 0;
        self.align = 0;
        self.qr_module = 3;
    }

    /// Draws a native QR code (`GS ( k` print) at the paper position, as the firmware would:
    /// model 2, level M, `qr_module` dots per module, placed by `ESC a`; the paper advances by
    /// the symbol's height.
    fn draw_qr(&mut self, data: &[u8]) {
        let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else { return };
        let n = code.width() as u32;
        let m = self.qr_module.max(1);
        let width = self.profile.width_dots.max(8);
        let x0 = match self.align {
            1 | 49 => width.saturating_sub(n * m) / 2,
            2 | 50 => width.saturating_sub(n * m),
            _ => 0,
        };
        let top = self.paper_y;
        self.feed_dots(n * m);
        let colors = code.to_colors();
        for (i, c) in colors.iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (mx, my) = ((i as u32) % n, (i as u32) / n);
                for dy in 0..m {
                    for dx in 0..m {
                        self.job.paper.set(x0 + mx * m + dx, top + my * m + dy, true);
                    }
                }
            }
        }
    }

    fn step(&mut self, buf: &[u8], status: PrinterStatus, out: &mut Output) -> Step {
        let at = |i: usize| buf.get(i).copied();
        let need = |n: usize| buf.len() < n;
        let b0 = buf[0];
        // Real-time commands are not part of the job.
        if b0 == 0x10 {
            let Some(b1) = at(1) else { return Step::More };
            match b1 {
                0x04 => {
                    let Some(n) = at(2) else { return Step::More };
                    let [p, c, s] = status.encode();
                    out.reply.push(match n {
                        1 => p,
                        2 => c,
                        4 => s,
                        _ => 0x12,
                    });
                    out.status_queries += 1;
                    return Step::Took(3);
                }
                0x14 => return if need(5) { Step::More } else { Step::Took(5) },
                _ => {}
            }
        }
        // GS g: maintenance counters. A query between jobs, not part of one; `GS g 2` answers
        // the cut count as `0x5F`, decimal digits, NUL, after the data before it (in order).
        if b0 == 0x1D && at(1) == Some(b'g') {
            if need(6) {
                return Step::More;
            }
            if buf[2] == b'2' {
                out.reply.push(0x5F);
                out.reply.extend_from_slice(self.cut_count.to_string().as_bytes());
                out.reply.push(0);
            }
            return Step::Took(6);
        }
        if self.tear_pending {
            if b0 == 0x1D && at(1).is_none() {
                return Step::More;
            }
            // Anything but a cut after the tear-off feed starts the next receipt.
            if !(b0 == 0x1D && at(1) == Some(b'V')) {
                self.finish_job(out);
            }
        }
        if !self.started {
            self.started = true;
        }
        let (took, cut) = match b0 {
            0x0A => {
                self.flush_line(true);
                let spacing = self.spacing;
                if self.cells.is_empty() {
                    self.feed_dots(spacing)
                } else {
                    self.print_line()
                }
                (1, false)
            }
            0x0D | 0x00 => (1, false),
            0x1B => {
                let Some(b1) = at(1) else { return Step::More };
                match b1 {
                    b'@' => {
                        self.init();
                        (2, false)
                    }
                    b'i' | b'm' => {
                        self.flush_line(false);
                        (2, true)
                    }
                    b'd' | b'J' => {
                        if need(3) {
                            return Step::More;
                        }
                        self.flush_line(false);
                        let n = u32::from(buf[2]);
                        self.feed_dots(if b1 == b'd' { n * self.spacing } else { n });
                        // A printer without a cutter ends a receipt by feeding it past the tear bar.
                        if !self.profile.cutter && b1 == b'd' && n >= 3 && self.has_content() {
                            self.tear_pending = true;
                        }
                        (3, false)
                    }
                    b'3' => {
                        let Some(n) = at(2) else { return Step::More };
                        self.spacing = u32::from(n);
                        (3, false)
                    }
                    b'E' => {
                        let Some(n) = at(2) else { return Step::More };
                        self.modes.bold = n & 1 != 0;
                        (3, false)
                    }
                    b'%' => {
                        let Some(n) = at(2) else { return Step::More };
                        self.modes.user_chars = n & 1 != 0;
                        (3, false)
                    }
                    b'&' => {
                        // ESC & y c1 c2, then per character: x, then y × x bytes column by column.
                        if need(5) {
                            return Step::More;
                        }
                        let (y, c1, c2) = (usize::from(buf[2]), buf[3], buf[4]);
                        let mut at_byte = 5;
                        let mut defined = Vec::new();
                        for code in c1..=c2.max(c1) {
                            let Some(x) = at(at_byte) else { return Step::More };
                            let x = usize::from(x);
                            if need(at_byte + 1 + x * y) {
                                return Step::More;
                            }
                            let data = &buf[at_byte + 1..at_byte + 1 + x * y];
                            let mut g = Bitmap::blank(x as u32, (y * 8) as u32);
                            for col in 0..x {
                                for yb in 0..y {
                                    for bit in 0..8 {
                                        if data[col * y + yb] & (0x80 >> bit) != 0 {
                                            g.set(col as u32, (yb * 8 + bit) as u32, true);
                                        }
                                    }
                                }
                            }
                            defined.push((code, g));
                            at_byte += 1 + x * y;
                        }
                        self.user_chars.extend(defined);
                        (at_byte, false)
                    }
                    b't' => {
                        let Some(n) = at(2) else { return Step::More };
                        self.code_page = n;
                        (3, false)
                    }
                    b'p' => {
                        if need(5) {
                            return Step::More;
                        }
                        self.job.drawer_pulses += 1;
                        (5, false)
                    }
                    b'*' => {
                        if need(5) {
                            return Step::More;
                        }
                        let n = usize::from(buf[3]) + 256 * usize::from(buf[4]);
                        let len = 5 + n * if buf[2] < 2 { 1 } else { 3 };
                        if need(len) {
                            return Step::More;
                        }
                        (len, false)
                    }
                    b'$' | b'\\' => {
                        if need(4) {
                            return Step::More;
                        }
                        (4, false)
                    }
                    b'a' => {
                        let Some(n) = at(2) else { return Step::More };
                        self.align = n;
                        (3, false)
                    }
                    b'-' | b'M' | b'!' | b'G' | b'{' | b'R' | b'V' | b'r' | b' ' | b'c' | b'U' => {
                        if need(3) {
                            return Step::More;
                        }
                        (3, false)
                    }
                    b'2' => {
                        self.spacing = DEFAULT_LINE_SPACING;
                        (2, false)
                    }
                    _ => {
                        self.job.unknown_commands += 1;
                        (2, false)
                    }
                }
            }
            0x1C => {
                let Some(b1) = at(1) else { return Step::More };
                match b1 {
                    b'.' | b'&' => (2, false),
                    b'!' => {
                        if need(3) {
                            return Step::More;
                        }
                        (3, false)
                    }
                    _ => {
                        self.job.unknown_commands += 1;
                        (2, false)
                    }
                }
            }
            0x1D => {
                let Some(b1) = at(1) else { return Step::More };
                match b1 {
                    b'V' => {
                        let Some(m) = at(2) else { return Step::More };
                        let len = if matches!(m, 0 | 1 | 48 | 49) { 3 } else { 4 };
                        if need(len) {
                            return Step::More;
                        }
                        self.flush_line(false);
                        (len, true)
                    }
                    b'v' => {
                        if need(8) {
                            return Step::More;
                        }
                        let x = usize::from(buf[4]) + 256 * usize::from(buf[5]);
                        let y = usize::from(buf[6]) + 256 * usize::from(buf[7]);
                        let len = 8 + x * y;
                        if need(len) {
                            return Step::More;
                        }
                        self.flush_line(false);
                        let data = buf[8..len].to_vec();
                        // A line sent as raster for want of a letter still has its text, when it is the font's.
                        let band = Bitmap { width: (x * 8) as u32, height: y as u32, data: data.clone() };
                        if let Some(text) = self.font.as_ref().and_then(|f| f.read_line(&band)) {
                            self.job.lines.push(text);
                        }
                        self.job.raster.append(x, y, &data);
                        if !self.cells.is_empty() {
                            self.print_line();
                        }
                        let top = self.paper_y;
                        self.feed_dots(y as u32);
                        for row in 0..y {
                            for bx in 0..x {
                                let byte = data[row * x + bx];
                                for bit in 0..8 {
                                    if byte & (0x80 >> bit) != 0 {
                                        self.job.paper.set((bx * 8 + bit) as u32, top + row as u32, true);
                                    }
                                }
                            }
                        }
                        (len, false)
                    }
                    b'(' => {
                        if need(5) {
                            return Step::More;
                        }
                        let p = usize::from(buf[3]) + 256 * usize::from(buf[4]);
                        if need(5 + p) {
                            return Step::More;
                        }
                        // GS ( k, QR (cn 49): fn 80 stores data, fn 81 prints it.
                        if buf[2] == b'k' && p >= 3 && buf[5] == 49 {
                            match buf[6] {
                                67 if p >= 3 => self.qr_module = u32::from(buf[7]),
                                80 => self.qr_store = buf[8..5 + p].to_vec(),
                                81 => {
                                    let qr = std::mem::take(&mut self.qr_store);
                                    if !self.cells.is_empty() {
                                        self.print_line();
                                    }
                                    self.draw_qr(&qr);
                                    self.job.qr.push(qr);
                                }
                                _ => {}
                            }
                        }
                        (5 + p, false)
                    }
                    b'8' => {
                        if need(7) {
                            return Step::More;
                        }
                        let p = u32::from_le_bytes([buf[3], buf[4], buf[5], buf[6]]) as usize;
                        if need(7 + p) {
                            return Step::More;
                        }
                        (7 + p, false)
                    }
                    b'k' => {
                        let Some(m) = at(2) else { return Step::More };
                        if m <= 6 {
                            match buf[3..].iter().position(|&b| b == 0) {
                                Some(end) => (3 + end + 1, false),
                                None => return Step::More,
                            }
                        } else {
                            let Some(n) = at(3) else { return Step::More };
                            let len = 4 + usize::from(n);
                            if need(len) {
                                return Step::More;
                            }
                            (len, false)
                        }
                    }
                    b'L' | b'W' | b'P' => {
                        if need(4) {
                            return Step::More;
                        }
                        (4, false)
                    }
                    b'!' | b'B' => {
                        let Some(n) = at(2) else { return Step::More };
                        if b1 == b'!' {
                            self.modes.wide = n & 0x70 != 0;
                            self.modes.tall = n & 0x07 != 0;
                        } else {
                            self.modes.inverse = n & 1 != 0;
                        }
                        (3, false)
                    }
                    b'H' | b'h' | b'w' | b'f' | b'a' | b'I' | b'r' => {
                        if need(3) {
                            return Step::More;
                        }
                        (3, false)
                    }
                    _ => {
                        self.job.unknown_commands += 1;
                        (2, false)
                    }
                }
            }
            b if b >= 0x20 => {
                let c = self.decode_byte(b);
                // A downloaded glyph reads as the letter it draws, when the font knows it.
                let shown = match self.user_chars.get(&b).filter(|_| self.modes.user_chars && (32..127).contains(&b)) {
                    Some(g) => self.font.as_ref().and_then(|f| f.read_glyph(g)).unwrap_or(c),
                    None => c,
                };
                self.line.push(shown);
                self.put_char(b, c);
                (1, false)
            }
            _ => (1, false), // other control bytes are ignored by printers
        };
        self.job.bytes.extend_from_slice(&buf[..took]);
        if cut {
            self.finish_job(out);
        }
        Step::Took(took)
    }
}

/// Where `bytes` can be split into pieces of at least `target` bytes without cutting an ESC/POS
/// command (raster data included) in two: the end offsets, the last being `bytes.len()`. The
/// spooler stops a cancelled job only at these points, so the printer never waits for the rest
/// of a command and swallows the next job's bytes as its data.
pub fn piece_ends(bytes: &[u8], target: usize) -> Vec<usize> {
    let mut framer = Interpreter::new(PrinterProfile::default());
    let mut out = Output::default();
    let (mut pos, mut last, mut ends) = (0, 0, Vec::new());
    while pos < bytes.len() {
        match framer.step(&bytes[pos..], PrinterStatus::default(), &mut out) {
            Step::More => break,
            Step::Took(n) => {
                pos += n;
                if pos - last >= target.max(1) {
                    ends.push(pos);
                    last = pos;
                }
            }
        }
        out.jobs.clear();
    }
    if ends.last() != Some(&bytes.len()) {
        ends.push(bytes.len());
    }
    ends
}

/// Where the receipt's final command starts: its last cut (`GS V`), else its last command (a printer
/// without a cutter ends the receipt with a feed to tear it off). Until that command leaves the host,
/// the receipt cannot have come out whole.
pub fn last_command_start(bytes: &[u8]) -> usize {
    let mut framer = Interpreter::new(PrinterProfile::default());
    let mut out = Output::default();
    let (mut pos, mut last, mut last_cut) = (0, 0, None);
    while pos < bytes.len() {
        match framer.step(&bytes[pos..], PrinterStatus::default(), &mut out) {
            Step::More => break,
            Step::Took(n) => {
                if bytes[pos] == 0x1D && bytes.get(pos + 1) == Some(&b'V') {
                    last_cut = Some(pos);
                }
                last = pos;
                pos += n;
            }
        }
        out.jobs.clear();
    }
    last_cut.unwrap_or(last)
}

/// KZ-1048 bytes 0x80..=0xFF (unicode.org KZ1048.TXT; 0x98 is undefined).
const KZ1048_HIGH: [char; 128] = [
    'Ђ', 'Ѓ', '‚', 'ѓ', '„', '…', '†', '‡', '€', '‰', 'Љ', '‹', 'Њ', 'Қ', 'Һ', 'Џ', //
    'ђ', '‘', '’', '“', '”', '•', '–', '—', '\u{FFFD}', '™', 'љ', '›', 'њ', 'қ', 'һ', 'џ', //
    '\u{A0}', 'Ұ', 'ұ', 'Ә', '¤', 'Ө', '¦', '§', 'Ё', '©', 'Ғ', '«', '¬', '\u{AD}', '®', 'Ү', //
    '°', '±', 'І', 'і', 'ө', 'µ', '¶', '·', 'ё', '№', 'ғ', '»', 'ә', 'Ң', 'ң', 'ү', //
    'А', 'Б', 'В', 'Г', 'Д', 'Е', 'Ж', 'З', 'И', 'Й', 'К', 'Л', 'М', 'Н', 'О', 'П', //
    'Р', 'С', 'Т', 'У', 'Ф', 'Х', 'Ц', 'Ч', 'Ш', 'Щ', 'Ъ', 'Ы', 'Ь', 'Э', 'Ю', 'Я', //
    'а', 'б', 'в', 'г', 'д', 'е', 'ж', 'з', 'и', 'й', 'к', 'л', 'м', 'н', 'о', 'п', //
    'р', 'с', 'т', 'у', 'ф', 'х', 'ц', 'ч', 'ш', 'щ', 'ъ', 'ы', 'ь', 'э', 'ю', 'я', //
];

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> PrinterProfile {
        crate::spool::profile::embedded().expect("profiles")["epson-tm-t20"].clone()
    }

    #[test]
    fn text_in_code_pages_raster_qr_and_cut() {
        let mut i = Interpreter::new(profile());
        let mut bytes = vec![0x1B, b'@', 0x1C, b'.', 0x1B, b't', 53];
        bytes.extend_from_slice(&[0xA3, 0xF0, 0xA5, b'\n']); // KZ-1048 "ӘрӨ"
        bytes.extend_from_slice(&[0x1B, b't', 17, 0x8A, 0xAE, b'\n']); // CP866 "Ко"
        bytes.extend_from_slice(&[0x1D, b'v', b'0', 0, 1, 0, 2, 0, 0x80, 0x01]);
        bytes.extend_from_slice(&[0x1D, b'(', b'k', 6, 0, 49, 80, 48, b'a', b'b', b'c']);
        bytes.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, 49, 81, 48]);
        bytes.extend_from_slice(&[0x10, 0x04, 1]);
        bytes.extend_from_slice(&[0x1D, b'V', 0]);
        // Feed one byte at a time: framing must survive any split.
        let mut out = Output::default();
        for b in &bytes {
            let o = i.feed(&[*b], PrinterStatus::default());
            out.reply.extend(o.reply);
            out.jobs.extend(o.jobs);
        }
        assert_eq!(out.reply, vec![0x12]);
        assert_eq!(out.jobs.len(), 1);
        let job = &out.jobs[0];
        assert_eq!(job.lines, vec!["ӘрӨ".to_string(), "Ко".to_string()]);
        assert_eq!(job.raster.width, 8);
        assert_eq!(job.raster.height, 2);
        assert!(job.raster.get(0, 0) && job.raster.get(7, 1) && !job.raster.get(1, 0));
        assert_eq!(job.qr, vec![b"abc".to_vec()]);
        assert!(job.complete);
        assert_eq!(job.bytes.len(), bytes.len() - 3);
        let png = job.raster.to_png().expect("png");
        assert_eq!(&png[1..4], b"PNG");
    }
}
