//! Single-byte code pages for ESC/POS text mode: KZ-1048, CP866 and Windows-1251.
//!
//! encoding_rs has IBM866 and windows-1251 but no KZ-1048, so KZ-1048 is built as
//! windows-1251 with the 16 positions that differ patched in (table in rust-deps.md §8,
//! checked against CPython's `kz1048` codec by `tests/render/render_codepage.rs`).
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// A code page the printer can be switched to with `ESC t n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodePage {
    /// KZ-1048 (RK1048, STRK1048-2002): all Kazakh letters.
    Kz1048,
    /// PC866: Russian only.
    Cp866,
    /// Windows-1251: Russian plus І/і.
    Cp1251,
}

/// Bytes where KZ-1048 differs from windows-1251.
const KZ1048_PATCH: [(u8, char); 16] = [
    (0x8D, 'Қ'),
    (0x8E, 'Һ'),
    (0x9D, 'қ'),
    (0x9E, 'һ'),
    (0xA1, 'Ұ'),
    (0xA2, 'ұ'),
    (0xA3, 'Ә'),
    (0xA5, 'Ө'),
    (0xAA, 'Ғ'),
    (0xAF, 'Ү'),
    (0xB4, 'ө'),
    (0xBA, 'ғ'),
    (0xBC, 'ә'),
    (0xBD, 'Ң'),
    (0xBE, 'ң'),
    (0xBF, 'ү'),
];

/// Decode table (byte 0x80..=0xFF → char) and a sorted encode table for one page.
struct Table {
    high: [Option<char>; 128],
    encode: Vec<(char, u8)>,
    /// The byte of each Cyrillic letter U+0400..=U+04FF, 0 where the page lacks it: most receipt text,
    /// looked up without a search.
    cyrillic: [u8; 256],
}

impl Table {
    fn build(enc: &'static encoding_rs::Encoding, patch: &[(u8, char)]) -> Table {
        let mut high = [None; 128];
        for b in 0x80u8..=0xFF {
            let byte = [b];
            let (s, had_errors) = enc.decode_without_bom_handling(&byte);
            let c = s.chars().next();
            // C1 controls (encoding_rs maps unassigned 0x98 to U+0098) are never printed.
            high[(b - 0x80) as usize] = match c {
                Some(c) if !had_errors && !('\u{80}'..='\u{9f}').contains(&c) => Some(c),
                _ => None,
            };
        }
        for &(b, c) in patch {
            high[(b - 0x80) as usize] = Some(c);
        }
        let mut encode: Vec<(char, u8)> =
            high.iter().enumerate().filter_map(|(i, c)| c.map(|c| (c, i as u8 + 0x80))).collect();
        encode.sort_unstable();
        let mut cyrillic = [0u8; 256];
        for &(c, b) in &encode {
            if let Some(i) = (c as u32).checked_sub(0x400).filter(|i| *i < 256) {
                cyrillic[i as usize] = b;
            }
        }
        Table { high, encode, cyrillic }
    }
}

fn table(page: CodePage) -> &'static Table {
    static KZ: OnceLock<Table> = OnceLock::new();
    static C866: OnceLock<Table> = OnceLock::new();
    static C1251: OnceLock<Table> = OnceLock::new();
    match page {
        CodePage::Kz1048 => KZ.get_or_init(|| Table::build(encoding_rs::WINDOWS_1251, &KZ1048_PATCH)),
        CodePage::Cp866 => C866.get_or_init(|| Table::build(encoding_rs::IBM866, &[])),
        CodePage::Cp1251 => C1251.get_or_init(|| Table::build(encoding_rs::WINDOWS_1251, &[])),
    }
}

impl CodePage {
    /// The byte for `c`, or `None` when the page lacks it. ASCII printable maps to itself;
    /// control characters are never encodable (they would be printer commands).
    pub fn encode_char(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        let t = table(self);
        if let Some(i) = (c as u32).checked_sub(0x400).filter(|i| *i < 256) {
            return Some(t.cyrillic[i as usize]).filter(|b| *b != 0);
        }
        t.encode.binary_search_by(|(k, _)| k.cmp(&c)).ok().map(|i| t.encode[i].1)
    }

    /// Encodes the whole string, or `None` if any character is missing.
    pub fn encode(self, s: &str) -> Option<Vec<u8>> {
        s.chars().map(|c| self.encode_char(c)).collect()
    }

    /// The character a byte stands for (printable bytes only).
    pub fn decode_byte(self, b: u8) -> Option<char> {
        match b {
            0x20..=0x7E => Some(b as char),
            0x80..=0xFF => table(self).high[(b - 0x80) as usize],
            _ => None,
        }
    }

    /// `c` in this page, or the look-alike it prints as when the page lacks it ([`closest`]).
    pub fn encode_or_closest(self, c: char) -> Option<Vec<u8>> {
        if let Some(b) = self.encode_char(c) {
            return Some(vec![b]);
        }
        closest(c).and_then(|alt| self.encode(alt))
    }

    /// A human name for listings and the self-test page.
    pub fn name(self) -> &'static str {
        match self {
            CodePage::Kz1048 => "KZ-1048",
            CodePage::Cp866 => "CP866",
            CodePage::Cp1251 => "CP1251",
        }
    }
}

/// What a letter or sign prints as on a page that lacks it and a printer that cannot download it: the
/// closest glyph (the Belarusian and Ukrainian `І` is drawn like the Latin `I`, as CP866 printers print it),
/// straight quotes for «», a hyphen for dashes, `тг` for ₸, the base letter for a Kazakh one.
pub fn closest(c: char) -> Option<&'static str> {
    Some(match c {
        'І' => "I",
        'і' => "i",
        'Ґ' => "Г",
        'ґ' => "г",
        '«' | '»' | '„' | '“' | '”' => "\"",
        '‘' | '’' | 'ʼ' => "'",
        '—' | '–' | '‑' => "-",
        '₸' => "тг",
        'Ә' => "А",
        'ә' => "а",
        'Ғ' => "Г",
        'ғ' => "г",
        'Қ' => "К",
        'қ' => "к",
        'Ң' => "Н",
        'ң' => "н",
        'Ө' => "О",
        'ө' => "о",
        'Ұ' | 'Ү' => "У",
        'ұ' | 'ү' => "у",
        'Һ' => "Х",
        'һ' => "х",
        '\u{a0}' => " ",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kazakh_only_in_kz1048() {
        let kk = "ӘәҒғҚқҢңӨөҰұҮүҺһІі";
        assert_eq!(CodePage::Kz1048.encode(kk).map(|v| v.len()), Some(18));
        assert_eq!(CodePage::Cp866.encode("Ә"), None);
        assert_eq!(CodePage::Cp1251.encode("І"), Some(vec![0xB2]));
        assert_eq!(CodePage::Cp866.encode("Ёж"), Some(vec![0xF0, 0xA6]));
        assert_eq!(CodePage::Kz1048.encode("\u{1b}"), None);
    }

    #[test]
    fn belarusian_on_cp866_prints_its_own_letters_or_their_look_alikes() {
        // Ў ў are in CP866; І і and «» are not and print as the Latin I i and straight quotes.
        assert_eq!(CodePage::Cp866.encode_or_closest('ў'), Some(vec![0xF7]));
        assert_eq!(CodePage::Cp866.encode_or_closest('І'), Some(vec![b'I']));
        assert_eq!(CodePage::Cp866.encode_or_closest('«'), Some(vec![b'"']));
        assert_eq!(CodePage::Cp866.encode_or_closest('₸'), CodePage::Cp866.encode("тг"));
        assert_eq!(CodePage::Cp866.encode_or_closest('€'), None);
    }
}
