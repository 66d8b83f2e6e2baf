//! Printer profiles: what a printer model can do, as data. Embedded defaults come from the
//! repository's `profiles/*.toml`; an integrator folder adds models or overrides by `id`.
//!
//! The spooler only exposes profiles (and the link speed) so the caller can choose text or
//! raster rendering; it never renders. Code-page numbers are the printer's `ESC t n` values;
//! `verified = false` marks tables taken from vendor lists and not checked on hardware.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Columns per line for one font.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FontColumns {
    /// Font name, `A` or `B`.
    pub name: String,
    /// Characters per line at the full printable width.
    pub columns: u32,
}

/// One selectable code page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePage {
    /// Encoding name: `cp437`, `cp866`, `windows-1251`, `kz1048`.
    pub encoding: String,
    /// The `n` of `ESC t n` on this printer.
    pub esc_t: u8,
    /// Checked on a real printer's self-test.
    #[serde(default)]
    pub verified: bool,
}

/// A printer model's capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrinterProfile {
    /// Stable id used in config, e.g. `epson-tm-t20`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Paper width in millimetres (58 or 80).
    pub paper_mm: u32,
    /// Printable width in dots.
    pub width_dots: u32,
    /// Resolution in dots per inch.
    pub dpi: u32,
    /// Columns per font.
    pub fonts: Vec<FontColumns>,
    /// Code pages with their `ESC t` numbers.
    pub code_pages: Vec<CodePage>,
    /// Prints QR codes natively with `GS ( k`.
    pub native_qr: bool,
    /// Has an auto-cutter (`GS V`).
    pub cutter: bool,
    /// Has a cash-drawer port (`ESC p`).
    pub drawer: bool,
    /// Usual link speed in baud for serial/Bluetooth models, if any.
    pub link_baud: Option<u32>,
    /// The profile as a whole was checked on hardware.
    pub verified: bool,
    /// Send every receipt as one raster image (exactly the picture): for printers whose code pages garble
    /// text. Costs link time: prefer it on USB and network printers.
    #[serde(default)]
    pub raster_everything: bool,
    /// Rated print speed in mm/s; the spooler allows this much time for the printer to empty its
    /// buffer before it expects the status answer. Conservative default: 50 mm/s.
    #[serde(default = "default_print_speed")]
    pub print_speed_mm_s: u32,
    /// Answers `GS g 2` (transmit maintenance counter) with its autocutter count (Epson TM series).
    /// After a broken send the spooler then knows whether the receipt was cut: cut means printed
    /// (nothing is resent), not cut means no complete receipt (the resend is the original).
    #[serde(default)]
    pub cut_counter: bool,
    /// Holds user-defined characters (`ESC &` to define, `ESC %` to select) for Kazakh letters
    /// on a printer without KZ-1048. Epson TM: yes; clones: off until checked on the model.
    #[serde(default)]
    pub user_defined_chars: bool,
    /// Where each capability above comes from, by name (`user_defined_chars`, `native_qr`, `cut_counter`):
    /// `"hardware: …"` (printed on the model), `"manual: …"` (the maker's programming manual says so) or
    /// `"no: …"` (not verified; the self-test page shows whether it works). The self-test page lists them.
    #[serde(default)]
    pub checked: BTreeMap<String, String>,
}

fn default_print_speed() -> u32 {
    50
}

impl Default for PrinterProfile {
    fn default() -> Self {
        Self {
            id: "generic-80".into(),
            name: "Generic 80 mm ESC/POS".into(),
            paper_mm: 80,
            width_dots: 576,
            dpi: 203,
            fonts: vec![FontColumns { name: "A".into(), columns: 48 }],
            code_pages: vec![CodePage { encoding: "cp437".into(), esc_t: 0, verified: true }],
            native_qr: false,
            cutter: true,
            drawer: true,
            link_baud: None,
            verified: false,
            raster_everything: false,
            print_speed_mm_s: default_print_speed(),
            cut_counter: false,
            user_defined_chars: false,
            checked: BTreeMap::new(),
        }
    }
}

impl PrinterProfile {
    /// The `ESC t` number of `encoding`, if the printer has it.
    pub fn esc_t(&self, encoding: &str) -> Option<u8> {
        self.code_pages.iter().find(|c| c.encoding.eq_ignore_ascii_case(encoding)).map(|c| c.esc_t)
    }

    /// The encoding selected by `ESC t n`, if listed.
    pub fn encoding_of(&self, n: u8) -> Option<&str> {
        self.code_pages.iter().find(|c| c.esc_t == n).map(|c| c.encoding.as_str())
    }

    /// Seconds the mechanism needs to print `bytes` of ESC/POS, at most: every byte counted as
    /// raster (rows of `width_dots / 8` bytes) plus every line feed as a 30-dot text line.
    pub fn print_secs_at_most(&self, bytes: &[u8]) -> f64 {
        let rows = bytes.len() as f64 / f64::from(self.raster_row_bytes().max(1));
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as f64 * 30.0;
        let mm = (rows + lines) / (f64::from(self.dpi.max(1)) / 25.4);
        mm / f64::from(self.print_speed_mm_s.max(1))
    }

    /// Bytes per raster row (`width_dots / 8`).
    pub fn raster_row_bytes(&self) -> u32 {
        self.width_dots.div_ceil(8)
    }
}

/// Errors reading profiles; messages name the file for whoever edits it.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A profile file is not valid TOML or misses fields.
    #[error("printer profile {file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The integrator folder could not be read.
    #[error("printer profile folder {dir}: {source}")]
    Folder {
        /// The folder.
        dir: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

const EMBEDDED: &[(&str, &str)] = &[
    ("generic-58.toml", include_str!("../../profiles/generic-58.toml")),
    ("generic-80.toml", include_str!("../../profiles/generic-80.toml")),
    ("epson-tm-t20.toml", include_str!("../../profiles/epson-tm-t20.toml")),
    ("epson-tm-t88.toml", include_str!("../../profiles/epson-tm-t88.toml")),
    ("xprinter-xp-58.toml", include_str!("../../profiles/xprinter-xp-58.toml")),
    ("xprinter-xp-80.toml", include_str!("../../profiles/xprinter-xp-80.toml")),
    ("rongta-rpp02.toml", include_str!("../../profiles/rongta-rpp02.toml")),
    ("rongta-rpp300.toml", include_str!("../../profiles/rongta-rpp300.toml")),
];

fn parse(file: &str, text: &str) -> Result<PrinterProfile, ProfileError> {
    let p: PrinterProfile =
        toml::from_str(text).map_err(|e| ProfileError::Invalid { file: file.into(), message: e.to_string() })?;
    if p.id.is_empty() || p.width_dots == 0 {
        return Err(ProfileError::Invalid {
            file: file.into(),
            message: "needs a non-empty `id` and a `width_dots` above 0".into(),
        });
    }
    Ok(p)
}

/// The embedded profiles.
pub fn embedded() -> Result<BTreeMap<String, PrinterProfile>, ProfileError> {
    let mut out = BTreeMap::new();
    for (file, text) in EMBEDDED {
        let p = parse(file, text)?;
        out.insert(p.id.clone(), p);
    }
    Ok(out)
}

/// The embedded profile `id`, parsing only its own file (`<id>.toml`); `None` when no file is named so or
/// the file holds another id or does not parse (then [`embedded`] finds it, or reports the error).
pub fn embedded_by_id(id: &str) -> Option<PrinterProfile> {
    let (file, text) = EMBEDDED.iter().find(|(file, _)| file.strip_suffix(".toml") == Some(id))?;
    parse(file, text).ok().filter(|p| p.id == id)
}

/// Embedded profiles plus every `*.toml` in `dir` (same `id` replaces the embedded one).
pub fn load(dir: Option<&Path>) -> Result<BTreeMap<String, PrinterProfile>, ProfileError> {
    let mut out = embedded()?;
    let Some(dir) = dir else { return Ok(out) };
    let folder = |source| ProfileError::Folder { dir: dir.display().to_string(), source };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(folder)?;
        let p = parse(&f.display().to_string(), &text)?;
        out.insert(p.id.clone(), p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embedded_profile_by_id_is_the_one_of_all() {
        let all = embedded().expect("embedded profiles parse");
        for (id, p) in &all {
            assert_eq!(embedded_by_id(id).as_ref(), Some(p), "{id}");
        }
        assert_eq!(embedded_by_id("no-such-printer"), None);
    }

    #[test]
    fn embedded_profiles_parse_and_carry_kz1048_on_epson_only() {
        let all = embedded().expect("embedded profiles parse");
        assert_eq!(all.len(), EMBEDDED.len());
        assert_eq!(all["epson-tm-t20"].esc_t("kz1048"), Some(53));
        assert_eq!(all["epson-tm-t88"].esc_t("KZ1048"), Some(53));
        assert_eq!(all["rongta-rpp300"].esc_t("kz1048"), None);
        assert_eq!(all["rongta-rpp02"].esc_t("cp866"), Some(17));
        assert!(!all["rongta-rpp02"].code_pages[0].verified);
        assert_eq!(all["generic-58"].raster_row_bytes(), 48);
        assert_eq!(all["generic-80"].raster_row_bytes(), 72);
    }

    #[test]
    fn folder_overrides_and_bad_file_names_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("x.toml"), "id = \"generic-58\"\nname = \"Mine\"\nwidth_dots = 360\n")
            .expect("write");
        let all = load(Some(dir.path())).expect("loads");
        assert_eq!(all["generic-58"].width_dots, 360);
        std::fs::write(dir.path().join("y.toml"), "id = 5").expect("write");
        let err = load(Some(dir.path())).expect_err("invalid");
        assert!(err.to_string().contains("y.toml"), "{err}");
    }
}
