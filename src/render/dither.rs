//! Pictures for a 1-bit printer: area-averaged scaling and error-diffusion dithering.
//!
//! A thermal printer prints a dot or nothing. Thresholding a photo or a shaded logo loses its
//! grey; error diffusion spreads each pixel's rounding error to its neighbours so the density
//! of dots follows the grey. Floyd–Steinberg passes on the whole error (smooth, can look
//! grainy); Atkinson passes on 3/4 of it (more contrast, the classic look of small printers).
//! Results are cached by the picture's content hash and the target size, since a logo is
//! drawn on every receipt.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How grey becomes dots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dither {
    /// Ink where lightness is below the render threshold (line art, and base64 images).
    #[default]
    Threshold,
    FloydSteinberg,
    Atkinson,
}

impl Dither {
    /// The markup word: `threshold`, `fs` (or `floyd-steinberg`), `atkinson`.
    pub fn from_word(w: &str) -> Option<Dither> {
        match w {
            "threshold" => Some(Dither::Threshold),
            "fs" | "floyd-steinberg" => Some(Dither::FloydSteinberg),
            "atkinson" => Some(Dither::Atkinson),
            _ => None,
        }
    }
}

/// Scales a greyscale picture to `tw`×`th`: each target pixel is the mean of the source area
/// it covers (so thin lines grey out instead of vanishing), or the nearest pixel when growing.
pub fn scale(luma: &[u8], w: u32, h: u32, tw: u32, th: u32) -> Vec<u8> {
    let (w, h, tw, th) = (w as u64, h as u64, tw.max(1) as u64, th.max(1) as u64);
    let at = |x: u64, y: u64| luma.get((y * w + x) as usize).copied().unwrap_or(255) as u64;
    let mut out = Vec::with_capacity((tw * th) as usize);
    for y in 0..th {
        let (y0, y1) = (y * h / th, ((y + 1) * h).div_ceil(th).max(y * h / th + 1).min(h));
        for x in 0..tw {
            let (x0, x1) = (x * w / tw, ((x + 1) * w).div_ceil(tw).max(x * w / tw + 1).min(w));
            let (mut sum, mut n) = (0u64, 0u64);
            for sy in y0..y1 {
                for sx in x0..x1 {
                    sum += at(sx, sy);
                    n += 1;
                }
            }
            out.push(sum.checked_div(n).unwrap_or(255) as u8);
        }
    }
    out
}

/// Dithers a greyscale picture to pure black (0) and white (255).
pub fn dither(luma: &[u8], w: u32, h: u32, method: Dither) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    // Error terms in 1/8 (Atkinson) or 1/16 (Floyd–Steinberg) of a level, kept as i32.
    let mut buf: Vec<i32> = luma.iter().map(|&l| l as i32).collect();
    buf.resize(w * h, 255);
    let mut out = vec![255u8; w * h];
    let taps: &[(isize, usize, i32)] = match method {
        Dither::Threshold => &[],
        // (dx, dy, weight) over a divisor of 16.
        Dither::FloydSteinberg => &[(1, 0, 7), (-1, 1, 3), (0, 1, 5), (1, 1, 1)],
        // Six neighbours get 1/8 each; 2/8 of the error is dropped.
        Dither::Atkinson => &[(1, 0, 2), (2, 0, 2), (-1, 1, 2), (0, 1, 2), (1, 1, 2), (0, 2, 2)],
    };
    for y in 0..h {
        for x in 0..w {
            let old = buf[y * w + x].clamp(0, 255);
            let new = if old < 128 { 0 } else { 255 };
            out[y * w + x] = new as u8;
            let err = old - new;
            for &(dx, dy, weight) in taps {
                let (nx, ny) = (x as isize + dx, y + dy);
                if nx >= 0 && (nx as usize) < w && ny < h {
                    buf[ny * w + nx as usize] += err * weight / 16;
                }
            }
        }
    }
    out
}

/// Dithered pictures kept; a few logos at two or three widths.
const CACHE_LIMIT: usize = 32;

type Key = (Arc<str>, u32, u32, Dither);

/// `scale` then `dither`, cached by (content hash, size, method).
pub fn scaled_dithered(key: &Arc<str>, luma: &[u8], w: u32, h: u32, tw: u32, th: u32, method: Dither) -> Arc<Vec<u8>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Vec<u8>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let k = (Arc::clone(key), tw, th, method);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&k).cloned()) {
        return hit;
    }
    let done = Arc::new(dither(&scale(luma, w, h, tw, th), tw, th, method));
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(k, Arc::clone(&done));
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_becomes_a_matching_density_of_dots() {
        // Atkinson drops a quarter of the error, which deepens darks and lightens lights.
        for (method, tolerance) in [(Dither::FloydSteinberg, 0.04), (Dither::Atkinson, 0.12)] {
            for grey in [64u8, 128, 192] {
                let out = dither(&vec![grey; 64 * 64], 64, 64, method);
                let ink = out.iter().filter(|&&l| l == 0).count() as f64 / out.len() as f64;
                let expected = 1.0 - grey as f64 / 255.0;
                assert!(
                    (ink - expected).abs() < tolerance,
                    "{method:?} grey {grey}: ink {ink:.2}, expected {expected:.2}"
                );
                assert!(out.iter().all(|&l| l == 0 || l == 255));
            }
        }
        // Thresholding a mid grey gives all or nothing, which is what dithering avoids.
        assert!(dither(&[100; 16], 4, 4, Dither::Threshold).iter().all(|&l| l == 0));
    }

    #[test]
    fn shrinking_averages_areas() {
        // A one-pixel black line on white, halved: it becomes grey rather than vanishing or staying black.
        let mut img = vec![255u8; 4 * 4];
        img[..4].fill(0);
        assert_eq!(scale(&img, 4, 4, 2, 2), vec![127, 127, 255, 255]);
        assert_eq!(scale(&[0, 255], 2, 1, 4, 1), vec![0, 0, 255, 255]);
    }
}
