//! Render options (the API's image parameters, language, copy flag, printer profile) and
//! output formats.
use super::error::OptionsError;
use super::profile::PrinterProfile;
use serde::{Deserialize, Serialize};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// UTF-8 text at `text_columns` (or the profile's columns).
    Text,
    /// Self-contained HTML page at the same columns as text.
    Html,
    /// Printer bytes for `profile`.
    EscPos,
    /// 1-bit PNG, `image_width` wide, glyphs scaled by `image_scale`.
    Png,
    /// Padded character grid (`backend::grid`): every line exactly `text_columns` wide.
    #[serde(rename = "grid-text")]
    GridText,
    /// The same grid as an HTML fragment.
    #[serde(rename = "grid-html")]
    GridHtml,
    /// The same grid as ESC/POS in the profile's first code page.
    #[serde(rename = "grid-escpos")]
    GridEscPos,
}

/// Options of one render. Numeric fields are wide integers so out-of-range API values can be
/// reported exactly; call [`RenderOptions::validate`] before rendering (`Renderer` does).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderOptions {
    /// PNG width in pixels, 200..=2048 (API `image_width`, default 384).
    pub image_width: i64,
    /// Glyph scale for PNG, 0.5..=4 (API `image_scale`, default 1.0).
    pub image_scale: f64,
    /// Binarisation threshold 0..=255 (API `image_pixel_draw_threshold`, default 128): a pixel
    /// is printed when its lightness is below it, so higher means bolder.
    pub image_pixel_draw_threshold: i64,
    /// Characters per line for text and HTML; `None` = the profile's columns.
    pub text_columns: Option<i64>,
    /// Heading language: `ru`, `kk`, `ru+kk` or `kk+ru`.
    pub lang: String,
    /// A copy (reprint, `is_original: false`): prints a visible КОПИЯ mark.
    pub copy: bool,
    /// The printer for ESC/POS output.
    pub profile: PrinterProfile,
    /// Heading overrides by key (see `headings.rs`), e.g. `{"total": "ЖИЫНЫ"}`; they win over
    /// the built-in wording in every language. Passed to templates as `headings`.
    pub headings: std::collections::BTreeMap<String, String>,
    /// The KKM (its OFD id) whose own template folder is searched first, for templates and
    /// `@image` files; `None` = the shared folder only.
    pub kkm: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            image_width: 384,
            image_scale: 1.0,
            image_pixel_draw_threshold: 128,
            text_columns: None,
            lang: "ru+kk".into(),
            copy: false,
            profile: PrinterProfile::default(),
            headings: Default::default(),
            kkm: None,
        }
    }
}

/// The smallest `image_scale` at which digits stay legible: the white gap inside the zero (the
/// font's narrowest counter, 0.072 em in DejaVu Sans Mono) must be at least one dot, else the zero's
/// dot touches its ring and 0 reads as 8. At scale 1 the font is 12 / 0.602 ≈ 19.9 px, so the bound
/// is 1 / (0.072 × 19.9) ≈ 0.70, rounded up to a multiple of 0.05.
pub fn min_image_scale() -> f64 {
    let px_at_1 = crate::render::layout::Geometry::image(576, 1.0).font_px();
    let raw = 1.0 / (f64::from(crate::render::font::zero_counter_em()) * f64::from(px_at_1));
    (raw * 20.0).ceil() / 20.0
}

impl RenderOptions {
    /// Checks every range; the error names the field.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(200..=2048).contains(&self.image_width) {
            return Err(OptionsError::ImageWidth(self.image_width));
        }
        if !(min_image_scale()..=4.0).contains(&self.image_scale) {
            return Err(OptionsError::ImageScale(self.image_scale));
        }
        if !(0..=255).contains(&self.image_pixel_draw_threshold) {
            return Err(OptionsError::Threshold(self.image_pixel_draw_threshold));
        }
        if let Some(c) = self.text_columns
            && !(16..=128).contains(&c)
        {
            return Err(OptionsError::TextColumns(c));
        }
        if !matches!(self.lang.as_str(), "ru" | "kk" | "ru+kk" | "kk+ru") {
            return Err(OptionsError::Lang(self.lang.clone()));
        }
        self.profile.validate()
    }

    /// The threshold clamped into a byte.
    pub fn threshold(&self) -> u8 {
        self.image_pixel_draw_threshold.clamp(0, 255) as u8
    }

    /// Columns for text and HTML.
    pub fn columns(&self) -> usize {
        self.text_columns.unwrap_or(self.profile.columns as i64).clamp(16, 128) as usize
    }

    /// PNG width clamped into range.
    pub fn width(&self) -> u32 {
        self.image_width.clamp(200, 2048) as u32
    }

    /// PNG scale clamped into range.
    pub fn scale(&self) -> f32 {
        if self.image_scale.is_nan() { 1.0 } else { self.image_scale.clamp(min_image_scale(), 4.0) as f32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let bad = |f: fn(&mut RenderOptions)| {
            let mut o = RenderOptions::default();
            f(&mut o);
            o.validate().err().map(|e| e.field())
        };
        assert_eq!(bad(|_| {}), None);
        assert_eq!(bad(|o| o.image_width = 199), Some("image_width"));
        assert_eq!(bad(|o| o.image_width = 2049), Some("image_width"));
        assert_eq!(bad(|o| o.image_width = 2048), None);
        assert_eq!(bad(|o| o.image_scale = 0.5), Some("image_scale"), "0 reads as 8 at 0.5");
        assert_eq!(bad(|o| o.image_scale = 4.01), Some("image_scale"));
        assert_eq!(bad(|o| o.image_scale = f64::NAN), Some("image_scale"));
        assert_eq!(bad(|o| o.image_pixel_draw_threshold = -1), Some("image_pixel_draw_threshold"));
        assert_eq!(bad(|o| o.image_pixel_draw_threshold = 256), Some("image_pixel_draw_threshold"));
        assert_eq!(bad(|o| o.image_pixel_draw_threshold = 0), None);
        assert_eq!(bad(|o| o.lang = "en".into()), Some("lang"));
        assert_eq!(bad(|o| o.profile.width_dots = 100), Some("width_dots"));
    }
}
