//! Static checks of a template source, for mistakes that rendering alone can miss: a filter
//! name in a branch no sample reaches (minijinja only looks filters up when it runs them), a
//! heading key that does not exist (`t("totl")` prints `totl`), and a variable the document never
//! has (`b.amounts.totl | money` prints nothing: missing fields render empty). Used by `kassa
//! templates check`, `kassa render --strict` and the playground, and once per template by the
//! server, which logs what it finds; printing itself is not affected.
use super::super::error::{Diagnostic, Stage};
use super::super::headings;
use super::lines::position;
use super::{TemplateUsed, new_env};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// True when the template environment has a filter called `name` (ours or minijinja's).
fn filter_exists(name: &str) -> bool {
    static KNOWN: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let known = KNOWN.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(&k) = known.lock().ok().and_then(|m| m.get(name).copied()).as_ref() {
        return k;
    }
    // Filters are looked up at run time: run one and see whether the lookup fails.
    let env = new_env();
    let exists = match env.render_str(&format!("{{{{ none | {name} }}}}"), ()) {
        Ok(_) => true,
        Err(e) => e.kind() != minijinja::ErrorKind::UnknownFilter,
    };
    if let Ok(mut m) = known.lock() {
        m.insert(name.to_string(), exists);
    }
    exists
}

/// The expression tags (`{{ … }}`, `{% … %}`) of a source, with their byte offsets; strings
/// inside them are kept.
fn tags(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = src[i..].find('{').map(|p| p + i) {
        let close = match src[open + 1..].chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                i = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        let mut quote: Option<char> = None;
        let mut end = None;
        let mut chars = src[body_start..].char_indices();
        while let Some((j, c)) = chars.next() {
            match quote {
                Some(_) if c == '\\' => {
                    chars.next();
                }
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if close != "#}" && (c == '"' || c == '\'') => quote = Some(c),
                None if src[body_start + j..].starts_with(close) => {
                    end = Some(body_start + j);
                    break;
                }
                None => {}
            }
        }
        let Some(end) = end else { break };
        if close != "#}" {
            out.push((body_start, &src[body_start..end]));
        }
        i = end + 2;
    }
    out
}

/// Identifier starting at byte `i` of `s`.
fn ident_at(s: &str, i: usize) -> &str {
    let rest = &s[i..];
    let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    &rest[..len]
}

/// Unknown filters, heading keys and variables of `tpl`, at their lines and columns.
pub fn lint(tpl: &TemplateUsed) -> Vec<Diagnostic> {
    let mut out = lint_names(tpl);
    if let Some(kind) = crate::render::TemplateKey::ALL.into_iter().find(|k| k.template_name() == tpl.name) {
        out.extend(unknown_variables(tpl, kind));
        out.sort_by_key(|d| (d.line, d.column));
    }
    out
}

/// Names a template may use that are no document variables: minijinja's globals and keywords.
const NOT_VARIABLES: &[&str] = &[
    "t",
    "range",
    "namespace",
    "loop",
    "super",
    "self",
    "caller",
    "varargs",
    "kwargs",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "if",
    "else",
    "elif",
    "endif",
    "for",
    "in",
    "endfor",
    "set",
    "endset",
    "not",
    "and",
    "or",
    "is",
    "macro",
    "endmacro",
    "call",
    "endcall",
    "with",
    "endwith",
    "filter",
    "endfilter",
    "block",
    "endblock",
    "recursive",
    "import",
    "from",
    "include",
    "extends",
    "as",
    "raw",
    "endraw",
    "autoescape",
    "endautoescape",
    "break",
    "continue",
    "do",
    "defined",
    "undefined",
];

/// The dotted names of an expression (`b.amounts.total`), with their byte offsets in it: strings, filter
/// and test names, keyword arguments and method calls left out.
fn dotted_names(expr: &str) -> Vec<(usize, String)> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'"' || c == b'\'' {
            quote = Some(c);
            i += 1;
            continue;
        }
        let starts = (c.is_ascii_alphabetic() || c == b'_') && (i == 0 || !is_name_byte(bytes[i - 1]));
        if !starts || (i > 0 && bytes[i - 1] == b'.') {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len()
            && (is_name_byte(bytes[end])
                || (bytes[end] == b'.' && end + 1 < bytes.len() && is_name_start(bytes[end + 1])))
        {
            end += 1;
        }
        let name = &expr[i..end];
        let before = expr[..i].trim_end();
        let after = expr[end..].trim_start();
        // A filter or test name, a keyword argument, or a call (`x.items()`, `t(...)`) is no variable path.
        let filter_or_test = before.ends_with('|') || before.ends_with(" is") || before.ends_with(" is not");
        let keyword_arg = after.starts_with('=') && !after.starts_with("==");
        let call = after.starts_with('(');
        if !filter_or_test && !keyword_arg {
            let path = if call { name.rsplit_once('.').map(|(p, _)| p).unwrap_or("") } else { name };
            if !path.is_empty() {
                out.push((i, path.to_string()));
            }
        }
        i = end;
    }
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// Variables of `tpl` that a `kind` document never has (`docs/template-context.md` lists those it has),
/// following `{% set x = path %}` and `{% for x in path %}` to the document's paths.
fn unknown_variables(tpl: &TemplateUsed, kind: crate::render::TemplateKey) -> Vec<Diagnostic> {
    let known = crate::render::context_doc::known_paths(kind);
    let roots: std::collections::BTreeSet<&str> =
        known.iter().map(|p| p.split(['.', '[']).next().unwrap_or("")).collect();
    // name → the document path it stands for (None: a value of the template's own).
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let src = &tpl.source;
    let mut out = Vec::new();
    let resolve = |names: &HashMap<String, Option<String>>, dotted: &str| -> Option<Option<String>> {
        let (root, rest) = dotted.split_once('.').map(|(r, x)| (r, Some(x))).unwrap_or((dotted, None));
        let base = match names.get(root) {
            Some(alias) => alias.clone(),
            None if roots.contains(root) => Some(root.to_string()),
            None => return None,
        };
        Some(base.map(|b| match rest {
            Some(r) => format!("{b}.{r}"),
            None => b,
        }))
    };
    for (start, body) in tags(src) {
        let trimmed = body.trim_start_matches(['-', '+', ' ', '\n', '\t']);
        let lead = body.len() - trimmed.len();
        // Bindings first: `set x = …`, `for a, b in …`, `macro m(args)`.
        let mut checked_from = 0;
        if let Some(rest) = trimmed.strip_prefix("set ") {
            if let Some((raw_target, expr)) = rest.split_once('=') {
                let target = raw_target.trim();
                let value = expr.trim().trim_end_matches(['-', ' ']);
                let plain = |v: &str| v.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
                let choices: Vec<&str> = value.split(" or ").map(str::trim).collect();
                checked_from = lead + 4 + raw_target.len() + 1;
                let alias = if choices.iter().all(|c| plain(c)) {
                    // `set b = body or money_placement`: the alternatives a document may carry; b is the one
                    // this document kind has, and the others are no mistake.
                    if choices.len() > 1 {
                        checked_from = body.len();
                    }
                    choices
                        .iter()
                        .filter_map(|c| resolve(&names, c).flatten())
                        .find(|p| known.contains(p))
                        .or_else(|| choices.first().and_then(|c| resolve(&names, c)).flatten())
                } else {
                    None
                };
                names.insert(target.to_string(), alias);
            }
        } else if let Some(rest) = trimmed.strip_prefix("for ")
            && let Some((targets, expr)) = rest.split_once(" in ")
        {
            // `for x in path` (or `(path if path is sequence else [])`): x is an element of that list; a
            // filtered list (`… | lines`) holds values of the template's own.
            let first = if expr.contains('|') {
                None
            } else {
                dotted_names(expr).into_iter().next().and_then(|(_, p)| resolve(&names, &p)).flatten()
            };
            for (k, target) in targets.split(',').enumerate() {
                let element =
                    if k == 0 && !targets.contains(',') { first.as_ref().map(|p| format!("{p}[]")) } else { None };
                names.insert(target.trim().to_string(), element);
            }
            checked_from = lead + 4 + targets.len() + 4;
        } else if let Some(rest) = trimmed.strip_prefix("macro ") {
            let args = rest.split_once('(').map(|(_, a)| a).unwrap_or("");
            for arg in args.trim_end_matches([')', ' ', '-']).split(',') {
                let arg = arg.split('=').next().unwrap_or("").trim();
                if !arg.is_empty() {
                    names.insert(arg.to_string(), None);
                }
            }
            if let Some(name) = rest.split('(').next() {
                names.insert(name.trim().to_string(), None);
            }
            continue;
        }
        // `a or b` of names: the alternatives a document may carry; only a chain none of whose names exists
        // is a mistake, reported at its first name.
        let expr = &body[checked_from..];
        let found = dotted_names(expr);
        let mut chains: Vec<Vec<(usize, String)>> = Vec::new();
        let mut prev_end = None;
        for (at, dotted) in found {
            if NOT_VARIABLES.contains(&dotted.split('.').next().unwrap_or("")) {
                continue;
            }
            let joined =
                prev_end.is_some_and(|end: usize| expr.get(end..at).is_some_and(|between| between.trim() == "or"));
            prev_end = Some(at + dotted.len());
            match chains.last_mut() {
                Some(chain) if joined => chain.push((at, dotted)),
                _ => chains.push(vec![(at, dotted)]),
            }
        }
        for chain in chains {
            let problems: Vec<Option<String>> =
                chain.iter().map(|(_, dotted)| variable_problem(&names, &resolve, known, kind, dotted)).collect();
            if problems.iter().any(Option::is_none) {
                continue;
            }
            let ((at, dotted), Some(message)) = (&chain[0], problems[0].clone()) else { continue };
            let (line, column) = position(src, start + checked_from + at);
            let mut d = Diagnostic::new(Stage::Template, &tpl.name, message).as_warning();
            d.line = Some(line);
            d.column = Some(column);
            d.snippet = Some(dotted.clone());
            out.push(d);
        }
    }
    out
}

/// What is wrong with the variable `dotted` (None: nothing).
fn variable_problem(
    names: &HashMap<String, Option<String>>,
    resolve: &dyn Fn(&HashMap<String, Option<String>>, &str) -> Option<Option<String>>,
    known: &std::collections::BTreeSet<String>,
    kind: crate::render::TemplateKey,
    dotted: &str,
) -> Option<String> {
    let root = dotted.split('.').next().unwrap_or("");
    let path = match resolve(names, dotted) {
        None => {
            return Some(format!(
                "unknown variable `{root}`: no such field or name (docs/template-context.md lists them); it prints nothing"
            ));
        }
        Some(None) => return None,
        Some(Some(path)) => path,
    };
    if path == "headings" || path.starts_with("headings.") {
        return None;
    }
    // The first segment the document never has. The elements of a list empty in every sample are not known,
    // so nothing below them is reported.
    let mut so_far = String::new();
    for segment in path.split('.') {
        let next = if so_far.is_empty() { segment.to_string() } else { format!("{so_far}.{segment}") };
        if let Some(list) = next.strip_suffix("[]")
            && known.contains(list)
            && !known.contains(&next)
        {
            return None;
        }
        if !known.contains(&next) {
            return Some(format!(
                "unknown variable `{dotted}`: a {} document has no `{next}` (docs/template-context.md lists its fields); it prints nothing",
                kind.cli_name()
            ));
        }
        so_far = next;
    }
    None
}

/// Unknown filters and heading keys of `tpl`, at their lines and columns.
fn lint_names(tpl: &TemplateUsed) -> Vec<Diagnostic> {
    let src = &tpl.source;
    let mut out = Vec::new();
    let mut report = |offset: usize, message: String, snippet: &str| {
        let (line, column) = position(src, offset);
        let mut d = Diagnostic::new(Stage::Template, &tpl.name, message);
        d.line = Some(line);
        d.column = Some(column);
        d.snippet = Some(snippet.to_string());
        out.push(d);
    };
    for (start, body) in tags(src) {
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for (j, c) in body.char_indices() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '"' | '\'' => {
                    quote = Some(c);
                    // `t("key")` / `t('key')` with a literal key.
                    let before = body[..j].trim_end();
                    let called_t = before.ends_with("t(")
                        && !before[..before.len() - 2].ends_with(|p: char| p.is_alphanumeric() || p == '_' || p == '.');
                    if called_t && let Some(len) = body[j + 1..].find(c) {
                        let key = &body[j + 1..j + 1 + len];
                        let dynamic = body[j + 1 + len + 1..].trim_start().starts_with('~');
                        if !dynamic && !key.ends_with('.') && !headings::all().iter().any(|(k, _, _)| *k == key) {
                            report(
                                start + j + 1,
                                format!(
                                    "unknown heading key `{key}` (docs/template-context.md lists them); it would print as `{key}`"
                                ),
                                key,
                            );
                        }
                    }
                }
                '|' if !body[j + 1..].starts_with('|') && !body[..j].ends_with('|') => {
                    let after = &body[j + 1..];
                    let skip = after.len() - after.trim_start().len();
                    let name = ident_at(body, j + 1 + skip);
                    if !name.is_empty() && !filter_exists(name) {
                        report(start + j + 1 + skip, format!("unknown filter `{name}`"), name);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::TemplateOrigin;

    fn lint_src(src: &str) -> Vec<(usize, usize, String)> {
        lint(&TemplateUsed::new("t.j2", src, TemplateOrigin::Stored))
            .into_iter()
            .map(|d| (d.line.unwrap_or(0), d.column.unwrap_or(0), d.snippet.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn finds_unknown_filters_and_heading_keys_in_any_branch() {
        let src = "{% if never %}\n  {{ x | monee }} {{ y | money | upper }}\n{% endif %}\n@center: {{ t('totl') }} {{ t(\"total\") }} {{ t('op.' ~ n) }}\n{{ 'a | b' }}";
        assert_eq!(lint_src(src), vec![(2, 10, "monee".into()), (4, 16, "totl".into())]);
    }

    #[test]
    fn finds_variables_a_document_never_has_through_set_and_for() {
        let src = "{% set b = body %}\n{{ b.amounts.totl | money }} {{ (b.datetime or b.date_time) | dt }}\n{% for it in b.itemsList %}{{ it.comodity.name }}{{ it.commodity.name }}{% endfor %}\n{{ bdy.x }} {{ headings.anything }} {% set n = 1 %}{{ n }}";
        let found: Vec<(usize, usize, String)> = lint(&TemplateUsed::new("ticket.j2", src, TemplateOrigin::Stored))
            .into_iter()
            .inspect(|d| assert!(d.warning, "{d}"))
            .map(|d| (d.line.unwrap_or(0), d.column.unwrap_or(0), d.snippet.unwrap_or_default()))
            .collect();
        assert_eq!(
            found,
            vec![(2, 4, "b.amounts.totl".into()), (3, 31, "it.comodity.name".into()), (4, 4, "bdy.x".into())]
        );
    }

    #[test]
    fn the_built_in_templates_are_clean() {
        for kind in crate::render::template::store::builtin_keys() {
            let tpl = crate::render::template::store::builtin(kind).expect("a built-in");
            assert_eq!(lint(&tpl), vec![], "{}", tpl.name);
        }
    }
}
