//! Which template line produced which markup line.
//!
//! Markup errors must point at the integrator's template, not at the generated markup. Before
//! compiling, `mark` puts one invisible character (a code point of Unicode's private-use plane
//! 15 that encodes the line number) at the start of every template line that outputs literal
//! text; tag-only lines (`{% … %}`, `{# … #}`), lines opening with `{{-` (their output joins the
//! previous line's) and lines inside tags get none, so the rendered
//! markup is byte-for-byte the same once the markers are removed (`markup::parse` does that and
//! keeps the line numbers). The marker goes after the line's indentation, so whitespace control
//! (`-%}`, `lstrip_blocks`) behaves as without it.
//!
//! The same scan finds block tags, so an unclosed `{% if %}` can be reported where it opens
//! instead of at the end of the file.

/// First code point of the markers: line `n` is `MARKER_BASE + n`.
const MARKER_BASE: u32 = 0xF0000;
/// Last usable code point of the plane (U+FFFFE/U+FFFFF are non-characters).
const MARKER_LAST: u32 = 0xFFFFD;

/// The template line a marker character stands for.
pub fn marker_line(c: char) -> Option<usize> {
    let v = c as u32;
    (MARKER_BASE + 1..=MARKER_LAST).contains(&v).then(|| (v - MARKER_BASE) as usize)
}

/// The marker of template line `line`, if the plane has one for it.
pub fn marker(line: usize) -> Option<char> {
    u32::try_from(line)
        .ok()
        .and_then(|l| l.checked_add(MARKER_BASE))
        .filter(|v| *v <= MARKER_LAST)
        .and_then(char::from_u32)
}

/// A block tag that needs an end tag, where it opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenBlock {
    /// `if`, `for`, `macro`, …
    pub keyword: String,
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// The tag as written, e.g. `{% if x %}`.
    pub tag: String,
}

/// A template source with line markers, and what the scan learned.
#[derive(Clone, Debug, Default)]
pub struct Marked {
    pub source: String,
    /// Byte offsets in the original source where a marker was inserted.
    inserted_at: Vec<usize>,
    /// Block tags never closed, outermost first.
    pub unclosed: Vec<OpenBlock>,
}

impl Marked {
    /// The original source's byte offset of a byte offset in `source`.
    pub fn original_offset(&self, marked: usize) -> usize {
        let mut shift = 0;
        for &at in &self.inserted_at {
            // Each marker is 4 bytes of UTF-8 (plane 15).
            if at + shift + 4 <= marked {
                shift += 4;
            } else {
                break;
            }
        }
        marked.saturating_sub(shift)
    }
}

/// Keywords whose tag needs `{% endKEYWORD %}`.
const BLOCKS: &[&str] = &["if", "for", "macro", "call", "filter", "with", "block", "autoescape"];

#[derive(PartialEq)]
enum State {
    Text,
    /// Inside `{{ … }}` or `{% … %}` (the closing char before `}`), with an open string quote.
    Tag {
        close: char,
        quote: Option<char>,
        start: usize,
    },
    Comment,
    /// Inside `{% raw %}`: tags are text until `{% endraw %}`.
    Raw,
}

/// Inserts the line markers (see the module documentation).
pub fn mark(src: &str) -> Marked {
    let mut out = Marked { source: String::with_capacity(src.len() + src.len() / 8), ..Marked::default() };
    let mut stack: Vec<OpenBlock> = Vec::new();
    let mut state = State::Text;
    let mut line = 1;
    let mut at_line_start = true;
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        let Some(c) = rest.chars().next() else { break };
        if at_line_start && matches!(state, State::Text | State::Raw) {
            let indent = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            out.source.push_str(&rest[..indent]);
            i += indent;
            let rest = &src[i..];
            let blank = rest.is_empty() || rest.starts_with('\n') || rest.starts_with("\r\n");
            // `{{-` at the start of a line trims the line break before it, joining this line's
            // output to the previous one: a marker would stop the trim, so it gets none.
            let tag_line = (state == State::Text
                && (rest.starts_with("{%") || rest.starts_with("{#") || rest.starts_with("{{-")))
                || (state == State::Raw && is_tag(rest, "endraw"));
            if !blank
                && !tag_line
                && let Some(m) = marker(line)
            {
                out.inserted_at.push(i);
                out.source.push(m);
            }
            at_line_start = false;
            continue;
        }
        match state {
            State::Text | State::Raw => {
                if state == State::Raw && is_tag(rest, "endraw") {
                    state = State::Tag { close: '%', quote: None, start: i };
                    out.source.push_str("{%");
                    i += 2;
                    continue;
                }
                if state == State::Text && (rest.starts_with("{{") || rest.starts_with("{%")) {
                    state = State::Tag { close: if bytes[i + 1] == b'{' { '}' } else { '%' }, quote: None, start: i };
                    out.source.push_str(&rest[..2]);
                    i += 2;
                    continue;
                }
                if state == State::Text && rest.starts_with("{#") {
                    state = State::Comment;
                    out.source.push_str("{#");
                    i += 2;
                    continue;
                }
            }
            State::Comment => {
                if rest.starts_with("#}") {
                    state = State::Text;
                    out.source.push_str("#}");
                    i += 2;
                    continue;
                }
            }
            State::Tag { close, quote, start } => match quote {
                Some(q) if c == '\\' => {
                    // Keep the escaped character inside the string.
                    let n = rest.chars().nth(1).map(char::len_utf8).unwrap_or(0);
                    out.source.push_str(&rest[..1 + n]);
                    i += 1 + n;
                    state = State::Tag { close, quote: Some(q), start };
                    continue;
                }
                Some(q) if c == q => state = State::Tag { close, quote: None, start },
                Some(_) => {}
                None if c == '"' || c == '\'' => state = State::Tag { close, quote: Some(c), start },
                None if c == close && rest[1..].starts_with('}') => {
                    out.source.push(c);
                    out.source.push('}');
                    i += 2;
                    let tag = &src[start..i];
                    state = if close == '%' { block_tag(tag, src, start, &mut stack) } else { State::Text };
                    continue;
                }
                None => {}
            },
        }
        out.source.push(c);
        i += c.len_utf8();
        if c == '\n' {
            line += 1;
            at_line_start = true;
        }
    }
    out.unclosed = stack;
    out
}

/// True when `rest` starts with `{% KEYWORD` (with optional `-`/`+` and spaces).
fn is_tag(rest: &str, keyword: &str) -> bool {
    rest.strip_prefix("{%").map(|r| r.trim_start_matches(['-', '+']).trim_start()).is_some_and(|r| {
        r.starts_with(keyword) && !r[keyword.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

/// Tracks block openers and closers; returns the state after the tag (`Raw` after `{% raw %}`).
fn block_tag(tag: &str, src: &str, start: usize, stack: &mut Vec<OpenBlock>) -> State {
    let inner = tag.trim_start_matches("{%").trim_end_matches("%}").trim_matches(['-', '+']).trim();
    let word = inner.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
    let (line, column) = position(src, start);
    let open = |keyword: &str| OpenBlock { keyword: keyword.to_string(), line, column, tag: tag.to_string() };
    if word == "raw" {
        return State::Raw;
    }
    // `{% set x %}…{% endset %}` is a block; `{% set x = 1 %}` is not.
    if BLOCKS.contains(&word) || (word == "set" && !inner.contains('=')) {
        stack.push(open(word));
    } else if let Some(ended) = word.strip_prefix("end")
        && let Some(pos) = stack.iter().rposition(|b| b.keyword == ended)
    {
        stack.truncate(pos);
    }
    State::Text
}

/// 1-based line and character column of a byte offset.
pub fn position(src: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let before = &src[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|p| p + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        s.chars().filter(|c| marker_line(*c).is_none()).collect()
    }

    #[test]
    fn markers_only_on_text_lines() {
        let src = "{% if a %}\n  @center: {{ x }}\n{% endif %}\n{{ 'a\nb' }}\nplain\n";
        let m = mark(src);
        assert_eq!(strip(&m.source), src);
        let lines: Vec<Option<usize>> = m.source.lines().map(|l| l.chars().find_map(marker_line)).collect();
        assert_eq!(lines, vec![None, Some(2), None, Some(4), None, Some(6)]);
        assert!(m.unclosed.is_empty());
    }

    #[test]
    fn finds_unclosed_blocks() {
        let m = mark("a\n{% for x in y %}\n  {% if x %}\n  b\n{% endfor %}\n{% set s %}\n");
        let open: Vec<(&str, usize, usize)> =
            m.unclosed.iter().map(|b| (b.keyword.as_str(), b.line, b.column)).collect();
        assert_eq!(open, vec![("set", 6, 1)]);
        let m = mark("{% if a %}\n{% if b %}x{% endif %}\n");
        assert_eq!(m.unclosed.len(), 1);
        assert_eq!((m.unclosed[0].line, m.unclosed[0].tag.as_str()), (1, "{% if a %}"));
    }

    #[test]
    fn raw_blocks_and_strings() {
        let src = "{% raw %}\n{{ not a tag\n{% endraw %}\n{{ \"%}\" }}x\n";
        let m = mark(src);
        assert!(m.unclosed.is_empty());
        assert_eq!(strip(&m.source), src);
        assert_eq!(m.original_offset(m.source.find("endraw").unwrap_or(0)), src.find("endraw").unwrap_or(1));
    }
}
