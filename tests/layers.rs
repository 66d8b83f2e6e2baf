//! The one-way map of ARCHITECTURE.md, checked on the sources: the shared parts import no front and no
//! country's rules, and a country's front reaches the core only through the shared parts.
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn check(part: &str, banned: &[&str]) {
    for (path, text) in sources(part) {
        assert!(text.starts_with("//!"), "{} must open with a //! doc comment", path.display());
        for b in banned {
            assert!(!text.contains(b), "{} uses {b}: it sits left of {part} on the map", path.display());
        }
    }
}

#[test]
fn the_ledger_knows_no_front_no_rules_and_no_printing() {
    check("ledger", &["crate::country", "crate::receipt", "crate::render", "crate::spool"]);
}

#[test]
fn the_receipt_step_knows_no_front_and_no_country() {
    check("receipt", &["crate::country"]);
}

#[test]
fn the_belarusian_front_reaches_the_core_only_through_the_shared_parts() {
    check("country/by", &["crate::country::kz", "crate::country::ua"]);
}

#[test]
fn the_ukrainian_front_reaches_the_core_only_through_the_shared_parts() {
    check("country/ua", &["crate::country::kz", "crate::country::by"]);
}

#[test]
fn the_listeners_know_no_front() {
    check("listen", &["crate::country"]);
}

/// The fronts: each country's request handling.
const FRONTS: [&str; 5] =
    ["country/kz/front", "country/by/front.rs", "country/by/actions.rs", "country/ua/front.rs", "country/ua/tasks.rs"];

#[test]
fn fronts_import_no_store_rows() {
    // A front names the rows it reads through the part that hands them out (the ledger, the Kazakh books, the
    // registry, the receipt step); it may hold the store itself, to give it to those parts.
    for front in FRONTS {
        for (path, text) in sources(front) {
            for line in text.lines().filter(|l| l.contains("crate::store::")) {
                assert_eq!(line.trim(), "use crate::store::Store;", "{}: a front imports a store row", path.display());
            }
        }
    }
}

#[test]
fn the_configuration_imports_no_country() {
    check("config", &["crate::country"]);
}

#[test]
fn the_kazakh_country_reaches_no_other_country() {
    check("country/kz", &["crate::country::by", "crate::country::ua"]);
}

#[test]
fn the_ofd_protocol_is_a_leaf_that_knows_no_api() {
    check(
        "country/kz/ofd",
        &[
            "crate::country::kz::front",
            "crate::country::kz::ofd_link",
            "crate::country::kz::pipeline",
            "crate::country::kz::registry",
            "crate::country::kz::rules",
            "crate::store",
            "crate::ledger",
            "api_code",
        ],
    );
}

#[test]
fn the_library_names_each_part_by_one_path() {
    // The older aliases (`kassa::api`, `kassa::fiscal`, `kassa::ofd`) are gone: a part has the path of its folder.
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("read");
    for line in lib.lines() {
        assert!(!line.trim_start().starts_with("pub use"), "src/lib.rs re-exports a part under a second name: {line}");
    }
}

/// The sources of `part` (a folder or a file under `src/`).
fn sources(part: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    let path = root.join(part);
    if path.is_dir() {
        files(&path, &mut all);
    } else {
        all.push(path);
    }
    assert!(!all.is_empty(), "{part}: no sources");
    all.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).expect("read"))).collect()
}

#[test]
fn render_knows_no_country() {
    check(
        "render",
        &["crate::country", "crate::receipt", "crate::ledger", "crate::store", "crate::spool", "crate::config"],
    );
    // A template is a (country, file) key; which document takes which template is the country's (its
    // `Printable`). The country folders are named only where the built-in templates are listed.
    for (path, text) in sources("render") {
        let shown = path.display().to_string();
        let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        for line in &code {
            assert!(!line.contains("command_type"), "{shown} reads a country's command: {line}");
        }
        if shown.ends_with("render/kind.rs") || shown.ends_with("render/template/store.rs") {
            continue;
        }
        for country in ["\"kz\"", "\"by\"", "\"ua\""] {
            assert!(!text.contains(country), "{shown} names the country {country} outside the built-in templates");
        }
    }
}

/// Every `crate::render::` path of `part` names an item of render's root (`TemplateKey`, `Format`, …), never a
/// module inside it (`render::backend::grid`, `render::template::store`).
fn uses_render_only_by_its_root(part: &str) {
    for (path, text) in sources(part) {
        for (i, _) in text.match_indices("crate::render::") {
            let next = text[i + "crate::render::".len()..].chars().next().unwrap_or(' ');
            assert!(
                next == '{' || next.is_ascii_uppercase(),
                "{} reaches inside render: {}",
                path.display(),
                text[i..].lines().next().unwrap_or_default()
            );
        }
    }
}

#[test]
fn the_belarusian_and_ukrainian_fronts_reach_neither_the_spooler_nor_render_internals() {
    // They render and print through the receipt step (`receipt::Printable`, `Printing::render_forms`).
    check("country/by", &["crate::spool"]);
    check("country/ua", &["crate::spool"]);
    uses_render_only_by_its_root("country/by");
    uses_render_only_by_its_root("country/ua");
}
