//! The line markers that trace markup back to template lines never change what a template outputs:
//! for random templates mixing text, expressions, nested blocks, comments, raw blocks, block `set` and
//! every whitespace-control form, the marked render with the markers removed equals plain minijinja's
//! render of the source (configured the same way), and every marker names a line that outputs text.
use kassa::render::template::lines::marker_line;
use kassa::render::template::{TemplateOrigin, TemplateUsed, render_markup};
use proptest::prelude::*;

/// A template piece: a leaf line or a block around more pieces.
#[derive(Clone, Debug)]
enum Piece {
    Line(String),
    If(String, String, Vec<Piece>),
    For(String, String, Vec<Piece>),
}

fn dash() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), Just("-".to_string())]
}

fn leaf() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        Just("text".to_string()),
        Just("@center: mid".to_string()),
        Just("@row 1 a>: {{ x }} | {{ l | length }}".to_string()),
        Just("".to_string()),
        Just("a {{ x }} b".to_string()),
        Just("{{ x }}".to_string()),
        Just("{# note #}".to_string()),
        Just("{#- note -#}".to_string()),
        Just("{% raw %}{{ kept }}{% endraw %}".to_string()),
        Just("{% set s %}inner {{ x }}\nsecond{% endset %}{{ s }}".to_string()),
        Just("{{ \"%}\" }} quoted".to_string()),
        Just("{% set n = 1 %}".to_string()),
    ];
    (text, dash(), 0usize..3).prop_map(|(t, d, indent)| {
        let t = if d.is_empty() { t } else { t.replace("{{ x }}", "{{- x -}}") };
        format!("{}{t}", " ".repeat(indent))
    })
}

fn piece() -> impl Strategy<Value = Piece> {
    leaf().prop_map(Piece::Line).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (dash(), dash(), prop::collection::vec(inner.clone(), 0..4)).prop_map(|(a, b, v)| Piece::If(a, b, v)),
            (dash(), dash(), prop::collection::vec(inner, 0..4)).prop_map(|(a, b, v)| Piece::For(a, b, v)),
        ]
    })
}

fn write(p: &Piece, out: &mut String) {
    match p {
        Piece::Line(l) => {
            out.push_str(l);
            out.push('\n');
        }
        Piece::If(a, b, body) => {
            out.push_str(&format!("{{%{a} if a {b}%}}\n"));
            body.iter().for_each(|p| write(p, out));
            out.push_str(&format!("{{%{a} endif {b}%}}\n"));
        }
        Piece::For(a, b, body) => {
            out.push_str(&format!("  {{%{a} for i in l {b}%}}\n"));
            body.iter().for_each(|p| write(p, out));
            out.push_str(&format!("{{%{a} endfor {b}%}}\n"));
        }
    }
}

fn plain(src: &str, ctx: &serde_json::Value) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.set_syntax(minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build()?);
    env.render_str(src, minijinja::value::Serde(ctx))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn markers_change_nothing_but_name_lines(pieces in prop::collection::vec(piece(), 1..6), a in any::<bool>()) {
        let mut src = String::new();
        pieces.iter().for_each(|p| write(p, &mut src));
        let ctx = serde_json::json!({"a": a, "x": "v", "l": [1, 2]});
        let expected = plain(&src, &ctx).map_err(|e| TestCaseError::fail(format!("{e}: {src}")))?;
        let tpl = TemplateUsed::new("t.j2", &src, TemplateOrigin::Stored);
        let marked = render_markup(&tpl, &minijinja::Value::from(minijinja::value::Serde(&ctx)))
            .map_err(|d| TestCaseError::fail(format!("{d}: {src}")))?;
        let stripped: String = marked.chars().filter(|c| marker_line(*c).is_none()).collect();
        prop_assert_eq!(&stripped, &expected, "source:\n{}", src);
        let source_lines: Vec<&str> = src.lines().collect();
        for line in marked.chars().filter_map(marker_line) {
            let text = source_lines.get(line - 1).copied().unwrap_or_default().trim_start();
            prop_assert!(!text.is_empty() && !text.starts_with("{%") && !text.starts_with("{#"),
                "marker for line {} ({:?}) in:\n{}", line, text, src);
        }
    }
}
