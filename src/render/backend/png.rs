//! PNG back-end: the rasterised layout as a 1-bit greyscale PNG (fast deflate).
//!
//! In PNG 1-bit greyscale a set bit is *white*, the opposite of our ink bitmap, so rows are
//! inverted while packing.
use crate::render::error::RenderError;
use crate::render::layout::Layout;
use crate::render::options::RenderOptions;
use crate::render::raster::{Bitmap, rasterize};

/// The largest bitmap one PNG may be drawn on: four times the largest receipt a front takes (1 000 items, about
/// 48 000 dots tall, 3.5 MB at 576 dots wide); a template that draws more (thousands of QR codes) is stopped
/// before the memory is taken.
pub const MAX_BITMAP_BYTES: usize = 16 << 20;

/// Whether the bitmap of `layout` fits [`MAX_BITMAP_BYTES`]; the error says how large it would be.
pub fn check_size(layout: &Layout) -> Result<(), RenderError> {
    let (width, height) = (layout.geometry.width_dots, layout.height);
    let bytes = (width as usize).div_ceil(8) * height as usize;
    if bytes > MAX_BITMAP_BYTES {
        return Err(RenderError::TooLarge(format!(
            "the receipt image would be {width}×{height} dots ({} MB), more than the {} MB a render may take: \
             stopped (a smaller image_width or image_scale draws less)",
            bytes >> 20,
            MAX_BITMAP_BYTES >> 20
        )));
    }
    Ok(())
}

/// Renders `layout` (laid out for the image geometry) as PNG bytes.
pub fn render(layout: &Layout, opts: &RenderOptions) -> Result<Vec<u8>, RenderError> {
    check_size(layout)?;
    encode_bitmap(&rasterize(layout, opts.threshold()))
}

/// Encodes an ink bitmap as 1-bit PNG. An empty bitmap becomes one white row.
pub fn encode_bitmap(bm: &Bitmap) -> Result<Vec<u8>, RenderError> {
    let height = bm.height.max(1);
    let mut data: Vec<u8> = bm.bits.iter().map(|b| !b).collect();
    data.resize(bm.stride * height as usize, 0xFF);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    let mut enc = png::Encoder::new(&mut out, bm.width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    enc.set_compression(png::Compression::Fast);
    // Receipt rows repeat their neighbours (blank lines, rules, QR modules): the `Up` filter
    // compresses them about as well as adaptive filtering at a fraction of the time.
    enc.set_filter(png::Filter::Up);
    let mut w = enc.write_header().map_err(|e| RenderError::Png(e.to_string()))?;
    w.write_image_data(&data).map_err(|e| RenderError::Png(e.to_string()))?;
    w.finish().map_err(|e| RenderError::Png(e.to_string()))?;
    Ok(out)
}

/// Encodes 8-bit greyscale (used for the HTML logo).
pub fn encode_gray(width: u32, height: u32, luma: &[u8]) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header().map_err(|e| RenderError::Png(e.to_string()))?;
    w.write_image_data(luma).map_err(|e| RenderError::Png(e.to_string()))?;
    w.finish().map_err(|e| RenderError::Png(e.to_string()))?;
    Ok(out)
}

/// Decodes a 1-bit PNG written by [`encode_bitmap`] back to an ink bitmap (used by tests and
/// the golden-file tooling).
pub fn decode_bitmap(bytes: &[u8]) -> Result<Bitmap, String> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().map_err(|e| e.to_string())?;
    let info = reader.info();
    if info.bit_depth != png::BitDepth::One || info.color_type != png::ColorType::Grayscale {
        return Err("not a 1-bit greyscale PNG".into());
    }
    let (w, h) = (info.width, info.height);
    let size = reader.output_buffer_size().ok_or_else(|| "PNG too large".to_string())?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let mut bm = Bitmap::new(w, h);
    for y in 0..h as usize {
        let src = &buf[y * frame.line_size..][..bm.stride];
        let dst = &mut bm.bits[y * bm.stride..][..bm.stride];
        for (d, s) in dst.iter_mut().zip(src) {
            *d = !s;
        }
        // Padding bits past the width are paper, not ink.
        if w % 8 != 0 {
            let mask = 0xFFu8 << (8 - w % 8);
            dst[bm.stride - 1] &= mask;
        }
    }
    Ok(bm)
}
