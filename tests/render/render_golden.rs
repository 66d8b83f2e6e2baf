//! Golden files: every document kind × {text at 32/42/48, HTML, annotated ESC/POS (58 mm CP866
//! with raster lines, 58 mm CP866 with user-defined characters, 80 mm KZ-1048), PNG at 384
//! and 576} compared byte for byte with `golden/<kind>/<case>.<output>`.
//!
//! On a mismatch the test writes `<file>.actual.<ext>` beside the golden file (and for PNG a
//! `<file>.diff.png` with the differing pixels inked) and fails listing them.
//! `KASSA_UPDATE_GOLDEN=1 cargo test --test render render_golden` rewrites the golden files.
use kassa::render::backend::listing::listing;
use kassa::render::backend::png::{decode_bitmap, encode_bitmap};
use kassa::render::cli::self_test_document;
use kassa::render::raster::Bitmap;
use kassa::render::{Format, PrinterProfile, RenderOptions, Renderer, RendererConfig, TemplateKey};
use std::path::{Path, PathBuf};

struct Case {
    name: &'static str,
    fixture: &'static str,
    kind: TemplateKey,
    lang: &'static str,
    copy: bool,
}

const CASES: &[Case] = &[
    Case { name: "ticket_sale", fixture: "ticket_sale", kind: TemplateKey::TICKET, lang: "ru+kk", copy: false },
    Case {
        name: "ticket_20_items_kk",
        fixture: "ticket_20_items_kk",
        kind: TemplateKey::TICKET,
        lang: "kk",
        copy: false,
    },
    Case { name: "ticket_markup", fixture: "ticket_markup", kind: TemplateKey::TICKET, lang: "ru", copy: false },
    Case { name: "ticket_return_copy", fixture: "ticket_return", kind: TemplateKey::TICKET, lang: "ru+kk", copy: true },
    Case { name: "ticket_offline", fixture: "ticket_offline", kind: TemplateKey::TICKET, lang: "kk+ru", copy: false },
    Case {
        name: "money_placement",
        fixture: "money_placement",
        kind: TemplateKey::MONEY_PLACEMENT,
        lang: "ru+kk",
        copy: false,
    },
    Case { name: "x_report", fixture: "x_report", kind: TemplateKey::X_REPORT, lang: "ru", copy: false },
    Case { name: "z_report", fixture: "z_report", kind: TemplateKey::Z_REPORT, lang: "kk", copy: false },
    Case { name: "self_test", fixture: "", kind: TemplateKey::SELF_TEST, lang: "ru+kk", copy: false },
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn document(case: &Case, profile: &PrinterProfile) -> serde_json::Value {
    if case.fixture.is_empty() {
        return self_test_document(profile);
    }
    let path = root().join("tests/fixtures").join(format!("{}.json", case.fixture));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Inserts `.actual` before the extension chain: `a.384.png` → `a.384.actual.png`.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    path.with_file_name(format!("{stem}.{tag}.{ext}"))
}

fn diff_png(expected: &[u8], actual: &[u8]) -> Option<Vec<u8>> {
    let a = decode_bitmap(expected).ok()?;
    let b = decode_bitmap(actual).ok()?;
    let (w, h) = (a.width.max(b.width), a.height.max(b.height));
    let mut d = Bitmap::new(w, h);
    for y in 0..h {
        for x in 0..w {
            if a.get(x, y) != b.get(x, y) {
                d.bits[y as usize * d.stride + (x as usize >> 3)] |= 0x80 >> (x & 7);
            }
        }
    }
    encode_bitmap(&d).ok()
}

/// Compares or (with KASSA_UPDATE_GOLDEN=1) rewrites one golden file.
fn check(path: &Path, actual: &[u8], failures: &mut Vec<String>) {
    let update = std::env::var("KASSA_UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let expected = std::fs::read(path).ok();
    if expected.as_deref() == Some(actual) {
        let _ = std::fs::remove_file(sibling(path, "actual"));
        return;
    }
    if update {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create golden dir");
        }
        std::fs::write(path, actual).expect("write golden");
        return;
    }
    let actual_path = sibling(path, "actual");
    let _ = std::fs::write(&actual_path, actual);
    if path.extension().is_some_and(|e| e == "png")
        && let Some(exp) = &expected
        && let Some(d) = diff_png(exp, actual)
    {
        let _ = std::fs::write(path.with_extension("diff.png"), d);
    }
    failures.push(format!("{} differs (actual written to {})", path.display(), actual_path.display()));
}

#[test]
fn golden_files() {
    let renderer = Renderer::new(RendererConfig::default());
    let mut failures = Vec::new();
    for case in CASES {
        let dir = root().join("golden").join(case.kind.cli_name());
        let base = RenderOptions { lang: case.lang.into(), copy: case.copy, ..RenderOptions::default() };
        let render = |opts: &RenderOptions, format: Format| {
            let doc = document(case, &opts.profile);
            let out = renderer.render(case.kind, &doc, opts, format).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert!(out.diagnostics.is_empty(), "{}: {:?}", case.name, out.diagnostics);
            out.bytes
        };
        for cols in [32, 42, 48] {
            let opts = RenderOptions { text_columns: Some(cols), ..base.clone() };
            let bytes = render(&opts, Format::Text);
            for line in String::from_utf8_lossy(&bytes).lines() {
                let width: usize = line.chars().count();
                assert!(width <= cols as usize, "{}: line wider than {cols}: {line:?}", case.name);
            }
            check(&dir.join(format!("{}.{cols}.txt", case.name)), &bytes, &mut failures);
        }
        check(&dir.join(format!("{}.html", case.name)), &render(&base, Format::Html), &mut failures);
        let udc = PrinterProfile { user_defined_chars: true, ..PrinterProfile::generic_58mm() };
        for (tag, profile) in [
            ("58mm", PrinterProfile::generic_58mm()),
            ("58mm-udc", udc),
            ("80mm-kz1048", PrinterProfile::epson_80mm_kz()),
        ] {
            let opts = RenderOptions { profile: profile.clone(), ..base.clone() };
            let text = listing(&render(&opts, Format::EscPos), &profile);
            check(&dir.join(format!("{}.escpos-{tag}.txt", case.name)), text.as_bytes(), &mut failures);
        }
        for width in [384, 576] {
            let profile = if width == 576 { PrinterProfile::generic_80mm() } else { PrinterProfile::generic_58mm() };
            let opts = RenderOptions { image_width: width, profile, ..base.clone() };
            check(&dir.join(format!("{}.{width}.png", case.name)), &render(&opts, Format::Png), &mut failures);
        }
    }
    // The seed's own image parameters: 576 px, scale 1.3, threshold 192.
    let seed_opts = RenderOptions {
        image_width: 576,
        image_scale: 1.3,
        image_pixel_draw_threshold: 192,
        lang: "ru".into(),
        ..RenderOptions::default()
    };
    let doc = document(&CASES[0], &seed_opts.profile);
    let png = renderer.render(TemplateKey::TICKET, &doc, &seed_opts, Format::Png).expect("render");
    check(&root().join("golden/ticket/ticket_sale.576-scale1.3-t192.png"), &png.bytes, &mut failures);
    assert!(failures.is_empty(), "golden mismatches:\n{}", failures.join("\n"));
}
