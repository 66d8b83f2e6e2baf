//! Printer profiles: the few facts about a printer that change the bytes we send.
//!
//! Kept serde-deserialisable so the spool part can load profiles from data files; the two
//! built-in profiles are generic 58 mm and 80 mm ESC/POS printers at 203 dpi.
use super::codepage::CodePage;
use super::error::OptionsError;
use serde::{Deserialize, Serialize};

/// A code page the printer offers and the `n` of `ESC t n` that selects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePageSlot {
    pub page: CodePage,
    pub esc_t: u8,
}

/// What the ESC/POS back-end needs to know about a printer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrinterProfile {
    /// Profile name, shown on the self-test page.
    pub name: String,
    /// Printable width in dots (384 for 58 mm, 576 for 80 mm at 203 dpi).
    pub width_dots: u32,
    /// Characters per line of font A (32 for 58 mm, 48 for 80 mm).
    pub columns: u16,
    /// Code pages in order of preference. A line that none can encode is sent as raster.
    pub code_pages: Vec<CodePageSlot>,
    /// Print QR codes with the printer's `GS ( k` instead of as raster.
    pub native_qr: bool,
    /// The printer has a cutter; without one `@cut` only feeds.
    pub cutter: bool,
    /// Send the whole receipt as one raster image (exactly what the PNG shows).
    pub raster_everything: bool,
    /// Rows per `GS v 0` command; small bands suit printers with small buffers.
    pub raster_band_rows: u32,
    /// The printer holds user-defined characters (`ESC &`, `ESC %`): letters its code pages
    /// lack (Kazakh on CP866) are downloaded as glyphs and printed as text, not raster.
    pub user_defined_chars: bool,
    /// Where each capability comes from (`"manual: …"`, `"hardware: …"`, `"no: …"`), for the self-test page.
    pub checked: std::collections::BTreeMap<String, String>,
}

impl Default for PrinterProfile {
    fn default() -> Self {
        PrinterProfile::generic_58mm()
    }
}

impl PrinterProfile {
    /// A generic 58 mm printer: 384 dots, 32 columns, CP866 only (clones rarely have KZ-1048).
    pub fn generic_58mm() -> Self {
        PrinterProfile {
            name: "generic-58mm".into(),
            width_dots: 384,
            columns: 32,
            code_pages: vec![CodePageSlot { page: CodePage::Cp866, esc_t: 17 }],
            native_qr: false,
            cutter: true,
            raster_everything: false,
            raster_band_rows: 256,
            user_defined_chars: false,
            checked: Default::default(),
        }
    }

    /// A generic 80 mm printer: 576 dots, 48 columns, CP866 only.
    pub fn generic_80mm() -> Self {
        PrinterProfile { name: "generic-80mm".into(), width_dots: 576, columns: 48, ..PrinterProfile::generic_58mm() }
    }

    /// An Epson-style 80 mm printer with KZ-1048 (`ESC t 53`) and native QR.
    pub fn epson_80mm_kz() -> Self {
        PrinterProfile {
            name: "epson-80mm-kz1048".into(),
            code_pages: vec![
                CodePageSlot { page: CodePage::Kz1048, esc_t: 53 },
                CodePageSlot { page: CodePage::Cp866, esc_t: 17 },
            ],
            native_qr: true,
            // Epson TM printers hold user-defined characters: ₸, which KZ-1048 lacks, prints as text.
            user_defined_chars: true,
            ..PrinterProfile::generic_80mm()
        }
    }

    /// Checks the numbers a data file could get wrong.
    pub fn validate(&self) -> Result<(), OptionsError> {
        let bad = |field, reason: String| Err(OptionsError::Profile { field, reason });
        if !(200..=2048).contains(&self.width_dots) || !self.width_dots.is_multiple_of(8) {
            return bad("width_dots", format!("{} is not a multiple of 8 within 200..=2048", self.width_dots));
        }
        if !(16..=128).contains(&self.columns) {
            return bad("columns", format!("{} is outside 16..=128", self.columns));
        }
        if !(1..=2048).contains(&self.raster_band_rows) {
            return bad("raster_band_rows", format!("{} is outside 1..=2048", self.raster_band_rows));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_from_a_data_file() {
        let json = r#"{"name": "epson-80mm-kz1048", "width_dots": 576, "columns": 48,
            "code_pages": [{"page": "kz1048", "esc_t": 53}, {"page": "cp866", "esc_t": 17}],
            "native_qr": true, "user_defined_chars": true}"#;
        let p: PrinterProfile = serde_json::from_str(json).expect("parses");
        assert_eq!(p, PrinterProfile::epson_80mm_kz());
        assert!(p.validate().is_ok());
        let bad: PrinterProfile = serde_json::from_str(r#"{"width_dots": 580}"#).expect("parses");
        assert_eq!(bad.validate().map_err(|e| e.field()), Err("width_dots"));
    }
}
