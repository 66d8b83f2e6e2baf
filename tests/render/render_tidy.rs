//! Tidiness of `src/render`: every file opens with a `//!` doc comment, render imports no part
//! to its left (a country, the store, the spooler), and no placeholder macros are left in.
use std::path::Path;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn render_sources_are_tidy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(&root.join("src/render"), &mut all);
    all.push(root.join("benches/render.rs"));
    assert!(all.len() > 15);
    for path in all {
        let text = std::fs::read_to_string(&path).expect("read");
        let shown = path.display();
        assert!(text.starts_with("//!"), "{shown} must open with a //! doc comment");
        for banned in ["crate::country", "crate::store", "crate::spool"] {
            assert!(!text.contains(banned), "{shown} imports {banned}: render sits right of it");
        }
        for banned in ["todo!(", "unimplemented!(", concat!("#[ig", "nore")] {
            assert!(!text.contains(banned), "{shown} contains {banned}");
        }
    }
}
