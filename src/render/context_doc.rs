//! `docs/template-context.md`, generated from the code: the variables a template sees per
//! document kind (walked from the bundled samples through the same `context_json` the renderer
//! uses), the heading keys with their Russian and Kazakh texts, and the filters.
//!
//! `kassa templates context-doc` prints it; `tests/render/render_context_doc.rs` fails when the file
//! in the repository differs, so the document cannot drift from the code.
use super::headings;
use super::samples::samples;
use super::{RenderOptions, TemplateKey, context_json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Longest example shown in a table cell.
const EXAMPLE_CHARS: usize = 48;

/// What the renderer adds to every document, with a description.
const ADDED: &[(&str, &str, &str)] = &[
    ("lang", "string", "heading language: `ru`, `kk`, `ru+kk` or `kk+ru`"),
    ("copy", "bool", "true for a reprint; the renderer adds the КОПИЯ / КӨШІРМЕ banner itself"),
    ("headings", "map", "heading overrides by key (`RenderOptions::headings`); `t(key)` reads them first"),
];

fn type_name(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(o) if o.contains_key("bills") => "money",
        serde_json::Value::Object(o) if o.contains_key("date") && o.contains_key("time") => "datetime",
        serde_json::Value::Object(_) => "map",
    }
}

fn example(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::String(s) => format!("{s:?}"),
        serde_json::Value::Array(a) => format!("{} item(s)", a.len()),
        serde_json::Value::Object(o) if o.contains_key("bills") => {
            format!(
                "{} (`| money`)",
                super::template::tiyn_of(&minijinja::Value::from(minijinja::value::Serde(v)))
                    .map(super::money::format_tiyn)
                    .unwrap_or_default()
            )
        }
        serde_json::Value::Object(o) if o.contains_key("date") && o.contains_key("time") => {
            "`| dt` → date and time".into()
        }
        serde_json::Value::Object(_) => String::new(),
        other => other.to_string(),
    };
    let mut short: String = s.chars().take(EXAMPLE_CHARS).collect();
    if short.len() < s.len() {
        short.push('…');
    }
    short.replace('|', "\\|").replace('\n', " ")
}

/// `path → (type, example)` of one kind.
type Paths = BTreeMap<String, (String, String)>;

/// Collects `path → (type, example)`; list elements are `path[]`. Money and date-time maps
/// are leaves (their filters take them whole), but their parts are listed too.
fn walk(v: &serde_json::Value, path: &str, out: &mut Paths) {
    if !path.is_empty() {
        out.entry(path.to_string()).or_insert_with(|| (type_name(v).to_string(), example(v)));
    }
    match v {
        serde_json::Value::Object(o) => {
            for (k, child) in o {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                walk(child, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for item in a {
                walk(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Per kind: its samples and the variables the document lists for it (`path → (type, example)`).
fn documented() -> Vec<(TemplateKey, Vec<super::samples::Sample>, Paths)> {
    let per_kind: Vec<(TemplateKey, Vec<super::samples::Sample>, Paths)> = TemplateKey::ALL
        .iter()
        .map(|kind| {
            let mut paths = BTreeMap::new();
            let list = samples(*kind);
            for s in &list {
                walk(&context_json(&s.document, &RenderOptions::default()), "", &mut paths);
            }
            (*kind, list, paths)
        })
        .collect();
    per_kind
        .iter()
        .map(|(kind, list, own)| {
            // A list that is empty in every sample of this kind (e.g. `ads_info` of a report) has
            // the same elements as in other kinds' samples: list those too.
            let mut paths = own.clone();
            for (path, (ty, _)) in own {
                let element = format!("{path}[]");
                if ty == "list" && !own.contains_key(&element) {
                    for (_, _, other) in &per_kind {
                        for (p, v) in other.range(element.clone()..) {
                            if !p.starts_with(&element) {
                                break;
                            }
                            paths.entry(p.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            (*kind, list.clone(), paths)
        })
        .collect()
}

/// The variables a template of `kind` can read: every path this document lists for it
/// (`body.amounts.total`, `body.itemsList[].commodity.name`) and the ones added to every document. A template
/// reading anything else reads nothing: a misspelling (`kassa templates check` reports it).
pub fn known_paths(kind: TemplateKey) -> &'static std::collections::BTreeSet<String> {
    static KNOWN: std::sync::OnceLock<std::collections::HashMap<TemplateKey, std::collections::BTreeSet<String>>> =
        std::sync::OnceLock::new();
    static EMPTY: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let all = KNOWN.get_or_init(|| {
        documented()
            .into_iter()
            .map(|(kind, _, paths)| {
                let mut set: std::collections::BTreeSet<String> = paths.into_keys().collect();
                set.extend(ADDED.iter().map(|(n, _, _)| n.to_string()));
                (kind, set)
            })
            .collect()
    });
    all.get(&kind).unwrap_or(&EMPTY)
}

/// The whole document.
pub fn generate() -> String {
    let mut out = String::new();
    out.push_str(
        "# Template context\n\n\
<!-- Generated by `kassa templates context-doc > docs/template-context.md`; do not edit by hand.\n     \
tests/render/render_context_doc.rs fails when this file is out of date. -->\n\n\
What a template in `templates/` sees: the document as the API returns it (`response_data`, with the\n\
API's field names), plus the variables the renderer adds. Paths use dots (`body.amounts.total`); `[]`\n\
marks the elements of a list (`{% for item in body.itemsList %}` … `item.commodity.name`). Missing fields\n\
are empty, never an error. Examples come from the bundled sample documents\n\
(`kassa render --dump-context` prints the context of any document). The markup the template\n\
writes is described in `receipt-markup.md`.\n\n\
Types: `money` is `{bills, coins}` (print with `| money`), `datetime` is\n\
`{date{year,month,day}, time{hour,minute,second}}` (print with `| dt`); quantities and\n\
percentages are integers in thousandths (`| qty`, `| percent`).\n\n\
## Added to every document\n\n| variable | type | meaning |\n|---|---|---|\n",
    );
    for (name, ty, meaning) in ADDED {
        let _ = writeln!(out, "| `{name}` | {ty} | {meaning} |");
    }
    for (kind, list, paths) in documented() {
        let names: Vec<&str> = list.iter().map(|s| s.name).collect();
        let _ = write!(
            out,
            "\n## {} (`{}`, `--kind {}`)\n\nFrom the samples {}.\n\n| variable | type | example |\n|---|---|---|\n",
            kind_title(kind),
            kind.template_name(),
            kind.cli_name(),
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        );
        for (path, (ty, ex)) in paths {
            if ADDED.iter().any(|(n, _, _)| path == *n || path.starts_with(&format!("{n}."))) {
                continue;
            }
            let _ = writeln!(out, "| `{path}` | {ty} | {ex} |");
        }
    }
    out.push_str("\n## Headings: `t(\"key\")`\n\nIn `lang`; bilingual languages join both with ` / ` (once when equal).\n\n| key | ru | kk |\n|---|---|---|\n");
    for (key, ru, kk) in headings::all() {
        let _ = writeln!(out, "| `{key}` | {ru} | {kk} |");
    }
    out
}

fn kind_title(kind: TemplateKey) -> &'static str {
    match kind {
        TemplateKey::TICKET => "Ticket (sale, purchase, returns)",
        TemplateKey::MONEY_PLACEMENT => "Money placement (cash in or out)",
        TemplateKey::X_REPORT => "X report",
        TemplateKey::Z_REPORT => "Z report",
        TemplateKey::SELF_TEST => "Printer self-test page",
        _ => "Other",
    }
}
