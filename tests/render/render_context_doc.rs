//! `docs/template-context.md` is generated from the code (`kassa templates context-doc`): this test fails
//! when the committed file differs, and names the command that brings it up to date.
use std::process::Command;

#[test]
fn template_context_doc_is_up_to_date() {
    let out = Command::new(env!("CARGO_BIN_EXE_kassa")).args(["templates", "context-doc"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(generated, kassa::render::context_doc::generate(), "the command prints the library's document");
    let path = format!("{}/docs/template-context.md", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/template-context.md is out of date: run `cargo run -- templates context-doc > docs/template-context.md`"
    );
}

#[test]
fn every_heading_and_every_template_variable_is_documented() {
    let doc = kassa::render::context_doc::generate();
    for (key, ru, kk) in kassa::render::headings::all() {
        assert!(doc.contains(&format!("| `{key}` | {ru} | {kk} |")), "heading {key}");
    }
    // Every `body.…`/`reg_info.…` path the built-in templates read is listed for its kind.
    for kind in kassa::render::TemplateKey::ALL {
        let source = kassa::render::template::store::builtin_source(kind).expect("built-in");
        let section_start = doc.find(&format!("(`{}`", kind.template_name())).expect("a section per kind");
        let section = &doc[section_start..];
        let section = &section[..section[1..].find("\n## ").map(|i| i + 1).unwrap_or(section.len())];
        for root in ["body.", "reg_info."] {
            for (i, _) in source.match_indices(root) {
                let path: String =
                    source[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
                let path = path.trim_end_matches('.');
                assert!(section.contains(&format!("`{path}")), "{}: `{path}` is not documented", kind.template_name());
            }
        }
    }
}
