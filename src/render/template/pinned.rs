//! Pictures pinned into a template version, so a reprint years later shows the logo the receipt had.
//!
//! A template that prints `@image logo.png` reads the file at render time; the file may change or go.
//! When a document keeps its template version (`receipt::TemplatePins`), the pictures that version read
//! are appended to its source as comments, one per file (`{#- kassa:image NAME` base64 `-#}`): comments
//! print nothing and change no line number, and the kept source, hashed and stored like any template,
//! now carries its pictures. Rendering a source looks in its pinned pictures before the folder.
use base64::Engine as _;
use std::collections::BTreeMap;

const OPEN: &str = "{#- kassa:image ";
const CLOSE: &str = "-#}";

/// The pictures pinned in `source`, by file name.
pub fn images(source: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut rest = source;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find(CLOSE) else { break };
        let body = &after[..end];
        let (name, data) = body.split_once('\n').unwrap_or((body, ""));
        let data: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
            out.insert(name.trim().to_string(), bytes);
        }
        rest = &after[end + CLOSE.len()..];
    }
    out
}

/// `source` with `used` pinned after it (files it pins already are left as they are), in name order, so
/// the same source and pictures always give the same text and hash.
pub fn pin(source: &str, used: &[(String, Vec<u8>)]) -> String {
    let have = images(source);
    let mut add: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (name, bytes) in used {
        if !have.contains_key(name) {
            add.insert(name, bytes);
        }
    }
    if add.is_empty() {
        return source.to_string();
    }
    let mut out = source.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, bytes) in add {
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        out.push_str(OPEN);
        out.push_str(name);
        out.push('\n');
        for line in data.as_bytes().chunks(100) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str(CLOSE);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_pictures_come_back_and_pinning_twice_changes_nothing() {
        let used = vec![("logo.png".to_string(), vec![1u8, 2, 3, 250]), ("a.png".to_string(), vec![9u8; 300])];
        let pinned = pin("@center: x\n@image logo.png\n", &used);
        assert!(pinned.starts_with("@center: x\n@image logo.png\n"));
        let back = images(&pinned);
        assert_eq!(back["logo.png"], vec![1, 2, 3, 250]);
        assert_eq!(back["a.png"], vec![9u8; 300]);
        assert_eq!(pin(&pinned, &used), pinned);
        assert_eq!(pin("@cut\n", &[]), "@cut\n");
    }
}
