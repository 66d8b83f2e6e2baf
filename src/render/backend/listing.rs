//! A readable listing of ESC/POS bytes: one command per line, hex then meaning.
//!
//! Used for golden files and `kassa render --format escpos-hex`. Text is shown decoded in
//! the code page selected by the last `ESC t n` (looked up in the profile). Raster data is
//! summarised by size and a SHA-256 prefix instead of being dumped.
use crate::render::codepage::CodePage;
use crate::render::profile::PrinterProfile;
use crate::render::template::sha256_hex;
use std::fmt::Write as _;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

/// Lists `bytes` as produced for `profile`.
pub fn listing(bytes: &[u8], profile: &PrinterProfile) -> String {
    let mut out = String::new();
    let mut page: Option<CodePage> = None;
    let mut user_chars: std::collections::BTreeSet<u8> = Default::default();
    let mut user_on = false;
    let mut i = 0;
    let n = bytes.len();
    let at = |k: usize| bytes.get(k).copied();
    while i < n {
        let b = bytes[i];
        let (len, what): (usize, String) = match (b, at(i + 1)) {
            (0x1B, Some(b'@')) => (2, "ESC @ init".into()),
            (0x1C, Some(b'.')) => (2, "FS . cancel Kanji".into()),
            (0x1B, Some(b't')) if i + 2 < n => {
                let t = bytes[i + 2];
                // The profile's numbering first, then Epson's for self-test samples.
                page = profile.code_pages.iter().find(|s| s.esc_t == t).map(|s| s.page).or(match t {
                    53 => Some(CodePage::Kz1048),
                    17 => Some(CodePage::Cp866),
                    46 => Some(CodePage::Cp1251),
                    _ => None,
                });
                let name = page.map(|p| p.name()).unwrap_or("unknown page");
                (3, format!("ESC t {t} code page {name}"))
            }
            (0x1B, Some(b'E')) if i + 2 < n => (3, format!("ESC E {} bold", bytes[i + 2])),
            (0x1B, Some(b'3')) if i + 2 < n => (3, format!("ESC 3 {} line spacing (dots)", bytes[i + 2])),
            (0x1B, Some(b'%')) if i + 2 < n => {
                user_on = bytes[i + 2] & 1 != 0;
                (3, format!("ESC % {} user-defined characters {}", bytes[i + 2], if user_on { "on" } else { "off" }))
            }
            (0x1B, Some(b'&')) if i + 4 < n => {
                // ESC & y c1 c2, then per character x and y × x bytes.
                let (y, c1, c2) = (bytes[i + 2] as usize, bytes[i + 3], bytes[i + 4]);
                let mut end = i + 5;
                for code in c1..=c2.max(c1) {
                    let x = bytes.get(end).copied().unwrap_or(0) as usize;
                    end = (end + 1 + x * y).min(n);
                    user_chars.insert(code);
                }
                let sha = sha256_hex(&bytes[i + 5..end]);
                let _ = writeln!(
                    out,
                    "{}  ESC & define user-defined characters {:?}..={:?}, {} rows, sha256 {}",
                    hex(&bytes[i..i + 5]),
                    c1 as char,
                    c2 as char,
                    y * 8,
                    &sha[..16]
                );
                i = end;
                continue;
            }
            (0x1B, Some(b'a')) if i + 2 < n => (3, format!("ESC a {} align", bytes[i + 2])),
            (0x1B, Some(b'd')) if i + 2 < n => (3, format!("ESC d {} feed lines", bytes[i + 2])),
            (0x1B, Some(b'J')) if i + 2 < n => (3, format!("ESC J {} feed dots", bytes[i + 2])),
            (0x1B, Some(b'p')) if i + 4 < n => (5, "ESC p drawer pulse".into()),
            (0x1D, Some(b'!')) if i + 2 < n => (3, format!("GS ! {:#04x} size", bytes[i + 2])),
            (0x1D, Some(b'B')) if i + 2 < n => (3, format!("GS B {} inverse", bytes[i + 2])),
            (0x1D, Some(b'V')) if i + 3 < n => {
                let kind = if bytes[i + 2] == 66 { "partial" } else { "full" };
                (4, format!("GS V feed and {kind} cut"))
            }
            (0x1D, Some(b'v')) if i + 7 < n && bytes[i + 2] == b'0' => {
                let x = bytes[i + 4] as usize | (bytes[i + 5] as usize) << 8;
                let y = bytes[i + 6] as usize | (bytes[i + 7] as usize) << 8;
                let data_end = (i + 8 + x * y).min(n);
                let sha = sha256_hex(&bytes[i + 8..data_end]);
                let _ = writeln!(
                    out,
                    "{}  GS v 0 raster {}x{} dots, {} bytes, sha256 {}",
                    hex(&bytes[i..i + 8]),
                    x * 8,
                    y,
                    x * y,
                    &sha[..16]
                );
                i = data_end;
                continue;
            }
            (0x1D, Some(b'(')) if i + 4 < n && bytes[i + 2] == b'k' => {
                let p = bytes[i + 3] as usize | (bytes[i + 4] as usize) << 8;
                let end = (i + 5 + p).min(n);
                let f = bytes.get(i + 6).copied().unwrap_or(0);
                let what = match f {
                    65 => "QR model".to_string(),
                    67 => "QR module size".to_string(),
                    69 => "QR error correction".to_string(),
                    80 => format!("QR store {:?}", String::from_utf8_lossy(bytes.get(i + 8..end).unwrap_or(&[]))),
                    81 => "QR print".to_string(),
                    _ => format!("GS ( k fn {f}"),
                };
                let shown = if f == 80 { &bytes[i..(i + 8).min(end)] } else { &bytes[i..end] };
                let _ = writeln!(out, "{}  {what}", hex(shown));
                i = end;
                continue;
            }
            (0x0A, _) => (1, "LF".into()),
            _ if b >= 0x20 => {
                // A run of printable bytes.
                let mut j = i;
                while j < n && bytes[j] >= 0x20 {
                    j += 1;
                }
                let text: String = bytes[i..j]
                    .iter()
                    .map(|&c| match page {
                        _ if user_on && user_chars.contains(&c) => format!("{{udc {}}}", c as char),
                        Some(p) => p.decode_byte(c).unwrap_or('?').to_string(),
                        None if c < 0x80 => (c as char).to_string(),
                        None => "?".into(),
                    })
                    .collect();
                let _ = writeln!(out, "{}  text {text:?}", hex(&bytes[i..j]));
                i = j;
                continue;
            }
            _ => (1, "unknown".into()),
        };
        let _ = writeln!(out, "{}  {what}", hex(&bytes[i..(i + len).min(n)]));
        i += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_commands_do_not_panic() {
        let p = PrinterProfile::default();
        for bytes in [
            &[0x1D, b'(', b'k', 0x03, 0x00, 49, 80][..],
            &[0x1D, b'v', b'0', 0, 0x30, 0, 0x10, 0, 1, 2],
            &[0x1B, b't'],
            &[0x1B],
        ] {
            assert!(!listing(bytes, &p).is_empty());
        }
        assert_eq!(listing(&[0x1B, b'@'], &p), "1B 40  ESC @ init\n");
    }
}
