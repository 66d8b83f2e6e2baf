//! The printed forms of a document, as Vchasno's DM returns them on request (`need_pf_txt`, `need_pf_img`,
//! `need_pf_pdf`, `need_pf_doccmd`), each a base64 data URI: text in windows-1251 (as public clients
//! decode it), a PNG, a PDF (the PNG placed on a page of the paper's width with `pdf-writer`), and
//! ESC/POS. All come from `templates/ua/` through the shared receipt step, with the template version the
//! document keeps.
use super::errors::UaError;
use super::prro::COUNTRY;
use crate::config::ua::PfSettings;
use crate::ledger::{Ledger, LedgerPins};
use crate::receipt::{JobKey, Printable, PrinterId, Printing, ReceiptError};
use crate::render::{CodePage, CodePageSlot, Format, PrinterProfile, RenderOptions, TemplateKey};
use base64::Engine as _;
use serde_json::Value;
use std::io::Write as _;

/// Which forms the request asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    pub text: bool,
    pub image: bool,
    pub pdf: bool,
    pub doccmd: bool,
    /// ESC/POS for a printer, whether or not the answer carries it.
    pub print: bool,
}

impl Wanted {
    pub fn any(&self) -> bool {
        self.text || self.image || self.pdf || self.doccmd || self.print
    }

    /// These forms, with ESC/POS for a printer when `print`.
    pub fn printed(self, print: bool) -> Wanted {
        Wanted { print, ..self }
    }
}

/// The rendered forms.
#[derive(Debug, Default)]
pub struct Forms {
    pub text: Option<Vec<u8>>,
    pub png: Option<Vec<u8>>,
    pub pdf: Option<Vec<u8>>,
    pub escpos: Option<Vec<u8>>,
}

fn failed(e: ReceiptError) -> UaError {
    UaError::internal(format!("друкована форма: {e}"))
}

/// A Ukrainian document (or the X report, which is none) as the receipt step sees it.
struct UaReceipt<'a> {
    template: TemplateKey,
    context: &'a Value,
    job_key: JobKey,
}

impl Printable for UaReceipt<'_> {
    fn template(&self) -> Result<TemplateKey, ReceiptError> {
        Ok(self.template)
    }

    fn context(&self) -> Value {
        self.context.clone()
    }

    fn job_key(&self) -> JobKey {
        self.job_key.clone()
    }

    /// The printer is named in the request, not by the ПРРО.
    fn device_printer(&self) -> Option<PrinterId> {
        None
    }
}

/// Renders the forms `wanted` of template `template` (of `templates/ua/`) with context `ctx`, in one pass
/// through the shared receipt step; `job_key` is the print queue's key of the document.
#[allow(clippy::too_many_arguments)]
pub fn render(
    printing: &Printing,
    ledger: &Ledger,
    doc_id: Option<i64>,
    template: &'static str,
    ctx: &Value,
    job_key: JobKey,
    pf: &PfSettings,
    wanted: Wanted,
) -> Result<Forms, UaError> {
    let pins = LedgerPins::new(ledger, doc_id);
    let doc = UaReceipt { template: TemplateKey::new(COUNTRY, template), context: ctx, job_key };
    let esc_t = u8::try_from(pf.pf_codepage).unwrap_or(46);
    let opts = RenderOptions {
        text_columns: Some(pf.pf_charcount.clamp(16, 128)),
        image_width: (pf.pf_charcount * pf.pf_charwidth).clamp(200, 2048),
        lang: printing.lang.clone(),
        profile: PrinterProfile {
            code_pages: vec![CodePageSlot { page: CodePage::Cp1251, esc_t }],
            user_defined_chars: false,
            ..PrinterProfile::generic_58mm()
        },
        ..RenderOptions::default()
    };
    // `pf_astext` false: the printer gets the receipt as one raster picture instead of text.
    let raster = !pf.pf_astext && (wanted.doccmd || wanted.print);
    let mut formats = Vec::new();
    if wanted.text {
        formats.push(Format::GridText);
    }
    if wanted.doccmd || wanted.print {
        formats.push(Format::GridEscPos);
    }
    if wanted.image || wanted.pdf || raster {
        formats.push(Format::Png);
    }
    let mut forms = printing.render_forms(&pins, &doc, &opts, &formats).map_err(failed)?.into_iter();
    let mut out = Forms::default();
    for format in formats {
        let bytes = forms.next().unwrap_or_default();
        match format {
            Format::GridText => {
                let text = String::from_utf8_lossy(&bytes);
                let (encoded, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
                out.text = Some(encoded.into_owned());
            }
            Format::GridEscPos => out.escpos = Some(bytes),
            _ => {
                if wanted.pdf {
                    out.pdf = Some(pdf_of_png(&bytes)?);
                }
                if raster {
                    out.escpos = Some(escpos_raster(&bytes)?);
                }
                if wanted.image {
                    out.png = Some(bytes);
                }
            }
        }
    }
    Ok(out)
}

/// A data URI of `bytes`.
pub fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Receipt paper is 80 mm wide: the PDF page is that wide and as tall as the picture keeps its ratio.
const PAGE_WIDTH_PT: f32 = 80.0 / 25.4 * 72.0;

/// A one-page PDF showing the receipt's PNG at the paper's width. A greyscale PNG (what the receipt's PNG
/// back-end writes) goes in as it is; any other is decoded to 8-bit grey and deflated.
pub fn pdf_of_png(png_bytes: &[u8]) -> Result<Vec<u8>, UaError> {
    use pdf_writer::types::Predictor;
    use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, TextStr};
    let (w, h, depth, deflated, as_png) = match grey_png(png_bytes) {
        Some(g) => (g.width, g.height, g.depth, g.rows, true),
        None => {
            let (w, h, gray) = gray_pixels(png_bytes)?;
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&gray).map_err(UaError::internal)?;
            (w, h, 8, z.finish().map_err(UaError::internal)?, false)
        }
    };
    let (catalog, tree, page_id, image_id, content_id, info) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
    let page_h = PAGE_WIDTH_PT * h as f32 / w.max(1) as f32;
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH_PT, page_h));
    page.parent(tree);
    page.contents(content_id);
    page.resources().x_objects().pair(Name(b"Im1"), image_id);
    page.finish();
    let mut image = pdf.image_xobject(image_id, &deflated);
    image.filter(Filter::FlateDecode);
    if as_png {
        // The PNG's rows keep their filter bytes: the PNG predictor undoes them.
        let mut parms = image.decode_parms();
        parms.predictor(Predictor::PngOptimum);
        parms.colors(1);
        parms.bits_per_component(i32::from(depth));
        parms.columns(w as i32);
        parms.finish();
    }
    image.width(w as i32);
    image.height(h as i32);
    image.color_space().device_gray();
    image.bits_per_component(i32::from(depth));
    image.finish();
    let mut content = Content::new();
    content.save_state();
    content.transform([PAGE_WIDTH_PT, 0.0, 0.0, page_h, 0.0, 0.0]);
    content.x_object(Name(b"Im1"));
    content.restore_state();
    pdf.stream(content_id, &content.finish());
    pdf.document_info(info).title(TextStr("Kassa receipt")).producer(TextStr("Kassa"));
    Ok(pdf.finish())
}

/// A greyscale, not interlaced PNG: its size, bits per pixel and its compressed rows (the `IDAT` data, a zlib
/// stream of rows each led by its PNG filter byte), which a PDF reads with `FlateDecode` and a PNG predictor.
struct GreyPng {
    width: u32,
    height: u32,
    depth: u8,
    rows: Vec<u8>,
}

/// The PNG's chunks read as a [`GreyPng`]; `None` for any other PNG (colour, interlaced, 16-bit) or a broken one.
fn grey_png(bytes: &[u8]) -> Option<GreyPng> {
    let mut rest = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n".as_slice())?;
    let (mut header, mut rows) = (None, Vec::new());
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        let body = rest.get(8..8usize.checked_add(len)?)?;
        match &rest[4..8] {
            b"IHDR" if body.len() == 13 => header = Some(body),
            b"IDAT" => rows.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        rest = rest.get(12 + len..)?;
    }
    let h = header?;
    let (width, height) = (u32::from_be_bytes(h[..4].try_into().ok()?), u32::from_be_bytes(h[4..8].try_into().ok()?));
    // Depth, colour type 0 (grey), compression 0, filter method 0, no interlace.
    let plain_grey = matches!(h[8], 1 | 2 | 4 | 8) && h[9..13] == [0, 0, 0, 0];
    (plain_grey && width > 0 && height > 0 && !rows.is_empty()).then_some(GreyPng { width, height, depth: h[8], rows })
}

/// ESC/POS printing the PNG as raster bands (`GS v 0`, 256 lines each: every printer takes that height),
/// dark where its grey is below the middle, then a feed and a partial cut.
pub fn escpos_raster(png_bytes: &[u8]) -> Result<Vec<u8>, UaError> {
    let (w, h, gray) = gray_pixels(png_bytes)?;
    let row_bytes = w.div_ceil(8) as usize;
    let mut out = vec![0x1b, 0x40];
    for band in (0..h as usize).step_by(256) {
        let lines = (h as usize - band).min(256);
        out.extend_from_slice(&[0x1d, 0x76, 0x30, 0x00]);
        out.extend_from_slice(&(row_bytes as u16).to_le_bytes());
        out.extend_from_slice(&(lines as u16).to_le_bytes());
        for y in band..band + lines {
            let row = &gray[y * w as usize..(y + 1) * w as usize];
            for chunk in row.chunks(8) {
                let mut byte = 0u8;
                for (i, px) in chunk.iter().enumerate() {
                    if *px < 128 {
                        byte |= 0x80 >> i;
                    }
                }
                out.push(byte);
            }
        }
    }
    out.extend_from_slice(&[0x1b, 0x64, 4, 0x1d, 0x56, 66, 0]);
    Ok(out)
}

/// The PNG as 8-bit grey pixels (width, height, rows top to bottom).
fn gray_pixels(png_bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), UaError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(UaError::internal)?;
    let size = reader.output_buffer_size().ok_or_else(|| UaError::internal("PNG too large"))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(UaError::internal)?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(UaError::internal("indexed PNG after expansion")),
    };
    let (w, h) = (frame.width, frame.height);
    let mut gray = Vec::with_capacity((w * h) as usize);
    for row in buf[..frame.buffer_size()].chunks(frame.line_size) {
        for px in row.chunks(channels).take(w as usize) {
            let v = if channels >= 3 {
                ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000) as u8
            } else {
                px[0]
            };
            gray.push(v);
        }
    }
    Ok((w, h, gray))
}
