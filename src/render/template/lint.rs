//! Static checks of a template source, for mistakes that rendering alone can miss: a filter
//! name in a branch no sample reaches (minijinja only looks filters up when it runs them), and
//! a heading key that does not exist (`t("totl")` prints `totl`). Used by `kassa templates
//! check`, `kassa render --strict` and the playground; printing itself is not affected.
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

/// Unknown filters and heading keys of `tpl`, at their lines and columns.
pub fn lint(tpl: &TemplateUsed) -> Vec<Diagnostic> {
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
    fn the_built_in_templates_are_clean() {
        for kind in crate::render::DocumentKind::ALL {
            let tpl = crate::render::template::store::builtin(kind);
            assert_eq!(lint(&tpl), vec![], "{}", tpl.name);
        }
    }
}
