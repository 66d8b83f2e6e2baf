//! Templates: minijinja sources that turn a document's JSON into receipt markup.
//!
//! The engine is sandboxed: it has no loader, so `include`/`import` find nothing and a
//! template is fully described by its own source (which is what `TemplateUsed::sha256`
//! covers). Every `{{ value }}` is escaped for the markup (see `markup::escape`), so document
//! data cannot inject directives.
//!
//! A render is bounded, so no template (an integrator's override, a playground draft) can hold a
//! thread or the memory for long: fuel bounds its work and the data it creates ([`FUEL`]), the
//! markup it writes is at most [`MAX_MARKUP_BYTES`], it runs at most [`MAX_RENDER_TIME`], and it
//! stops at its next write once the caller cancels it ([`cancellable`]: the playground does when
//! its client leaves). A recursion limit stops runaway macros.
//!
//! Compiled templates are cached by content hash; this module does no file I/O (the override
//! folder is read by `store`).
pub mod lines;
pub mod lint;
pub mod native;
pub mod pinned;
pub mod store;

use super::error::{Diagnostic, Stage};
use super::headings::heading;
use super::markup;
use super::money;
use minijinja::value::ValueKind;
use minijinja::{Environment, State, UndefinedBehavior, Value};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

thread_local! {
    /// The cancel flag of the renders running on this thread ([`cancellable`]), and whether a render saw it.
    static CANCEL: RefCell<Option<(Arc<AtomicBool>, Cell<bool>)>> = const { RefCell::new(None) };
}

/// Runs `f` with every render on this thread stopping at its next write once `cancel` turns true; says
/// whether work was cut short by it (a check found it set).
pub fn cancellable<T>(cancel: &Arc<AtomicBool>, f: impl FnOnce() -> T) -> (T, bool) {
    struct Reset(Option<(Arc<AtomicBool>, Cell<bool>)>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let before = self.0.take();
            CANCEL.with(|c| *c.borrow_mut() = before);
        }
    }
    let _reset = Reset(CANCEL.with(|c| c.borrow_mut().replace((cancel.clone(), Cell::new(false)))));
    let out = f();
    let cut = CANCEL.with(|c| c.borrow().as_ref().is_some_and(|(_, seen)| seen.get()));
    (out, cut)
}

/// Whether the renders of this thread were cancelled ([`cancellable`]); work that finds so stops.
pub fn cancelled() -> bool {
    CANCEL.with(|c| {
        c.borrow().as_ref().is_some_and(|(flag, seen)| {
            let cancelled = flag.load(Ordering::SeqCst);
            if cancelled {
                seen.set(true);
            }
            cancelled
        })
    })
}

/// Why a render stopped before the template's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    TooLong,
    TooSlow,
    Cancelled,
}

impl Stop {
    fn message(self) -> String {
        match self {
            Stop::TooLong => format!(
                "the template wrote more than {} KiB of markup, far more than any receipt: stopped",
                MAX_MARKUP_BYTES >> 10
            ),
            Stop::TooSlow => format!("the template ran longer than {} s: stopped", MAX_RENDER_TIME.as_secs()),
            Stop::Cancelled => "the render was cancelled".to_string(),
        }
    }
}

/// The template's output, refused past [`MAX_MARKUP_BYTES`], [`MAX_RENDER_TIME`] or a cancel.
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    deadline: Instant,
    stop: &'a Cell<Option<Stop>>,
    /// Writes since the clock was last read: it is read every [`CLOCK_EVERY`] writes, not at each.
    writes: u32,
}

/// Writes between two readings of the clock (a write is a few bytes of markup: far under a millisecond).
const CLOCK_EVERY: u32 = 64;

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let stop = if cancelled() {
            Some(Stop::Cancelled)
        } else if self.out.len() + buf.len() > MAX_MARKUP_BYTES {
            Some(Stop::TooLong)
        } else if {
            self.writes += 1;
            self.writes.is_multiple_of(CLOCK_EVERY)
        } && Instant::now() > self.deadline
        {
            Some(Stop::TooSlow)
        } else {
            None
        };
        if let Some(stop) = stop {
            self.stop.set(Some(stop));
            return Err(std::io::Error::other(stop.message()));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fuel of one render (minijinja's: about one per instruction and one per 64 bytes of data a template
/// creates): five times what the built-in ticket uses for the largest receipt a front takes (1 000 items,
/// about 77 000), and no value a template makes can pass about 25 MB.
pub const FUEL: u64 = 400_000;
/// Markup one render may write: five times the largest receipt's (about 106 KB for 1 000 items).
pub const MAX_MARKUP_BYTES: usize = 512 * 1024;
/// How long one render may run.
pub const MAX_RENDER_TIME: Duration = Duration::from_secs(5);
/// Nesting depth of macro calls and includes.
const RECURSION_LIMIT: usize = 32;
/// Compiled templates kept; the set is tiny (built-ins plus a few override versions).
const COMPILED_CACHE_LIMIT: usize = 64;

/// Where a template's source came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateOrigin {
    /// Embedded in the binary.
    Builtin,
    /// An integrator's file in the override folder.
    Override(PathBuf),
    /// Passed in by the caller, e.g. the source stored with a document for a reprint.
    Stored,
}

/// The exact template that rendered a document: store `sha256` (and `source`) with the
/// document to reprint it byte-identically later with `Renderer::render_with_source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateUsed {
    pub name: String,
    /// Lower-case hex SHA-256 of `source` (UTF-8 bytes).
    pub sha256: String,
    pub source: Arc<str>,
    pub origin: TemplateOrigin,
}

impl TemplateUsed {
    pub fn new(name: &str, source: &str, origin: TemplateOrigin) -> TemplateUsed {
        TemplateUsed {
            name: name.to_string(),
            sha256: sha256_hex(source.as_bytes()),
            source: Arc::from(source),
            origin,
        }
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A compiled template version: its environment, its marked source, and the variables it reads (found once,
/// when first asked).
struct CompiledTemplate {
    env: Environment<'static>,
    marked: lines::Marked,
    reads: OnceLock<std::collections::HashSet<String>>,
}

type Compiled = Arc<CompiledTemplate>;

fn compiled_cache() -> &'static Mutex<HashMap<(String, String), Compiled>> {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), Compiled>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `tpl` compiled (once per process and version: cached by its hash).
fn compiled(tpl: &TemplateUsed) -> Result<Compiled, Diagnostic> {
    let key = (tpl.name.clone(), tpl.sha256.clone());
    if let Some(c) = compiled_cache().lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(c);
    }
    let marked = lines::mark(&tpl.source);
    let mut env = new_env();
    env.add_template_owned(tpl.name.clone(), marked.source.clone()).map_err(|e| diagnostic(tpl, &marked, &e))?;
    let c = Arc::new(CompiledTemplate { env, marked, reads: OnceLock::new() });
    if let Ok(mut m) = compiled_cache().lock() {
        if m.len() >= COMPILED_CACHE_LIMIT {
            m.clear();
        }
        m.insert(key, c.clone());
    }
    Ok(c)
}

/// Renders `tpl` with `ctx` into markup text, or a diagnostic at the template's line and
/// column. The text carries line markers (`lines`); `markup::parse` reads and removes them.
pub fn render_markup(tpl: &TemplateUsed, ctx: &Value) -> Result<String, Diagnostic> {
    let c = compiled(tpl)?;
    let (env, marked) = (&c.env, &c.marked);
    let t = env.get_template(&tpl.name).map_err(|e| diagnostic(tpl, marked, &e))?;
    let mut out = Vec::new();
    let stop = Cell::new(if cancelled() { Some(Stop::Cancelled) } else { None });
    let rendered = match stop.get() {
        Some(_) => None,
        None => {
            let writer = Bounded { out: &mut out, deadline: Instant::now() + MAX_RENDER_TIME, stop: &stop, writes: 0 };
            Some(t.render_captured_to(ctx, writer))
        }
    };
    match (rendered, stop.get()) {
        (Some(Ok(_)), _) => {
            String::from_utf8(out).map_err(|e| Diagnostic::new(Stage::Template, &tpl.name, e.to_string()))
        }
        (Some(Err(e)), Some(why)) => {
            let mut d = diagnostic(tpl, marked, &e);
            d.message = why.message();
            Err(d)
        }
        (Some(Err(e)), None) => Err(diagnostic(tpl, marked, &e)),
        (None, why) => Err(Diagnostic::new(Stage::Template, &tpl.name, why.unwrap_or(Stop::Cancelled).message())),
    }
}

/// The markup of `tpl` for `doc` (as [`render_markup`] gives it): the built-in ticket is written out in Rust
/// ([`native`]) when the document holds nothing it is unsure of; otherwise minijinja renders it over the
/// context, made on first need and kept in `ctx` for a second template (the built-in after an override failed).
pub fn markup_for(
    tpl: &TemplateUsed,
    doc: &serde_json::Value,
    opts: &crate::render::RenderOptions,
    ctx: &std::cell::OnceCell<Value>,
) -> Result<String, Diagnostic> {
    if tpl.sha256 == native::TICKET_SHA256
        && let Ok(text) = native::ticket(doc, opts)
    {
        return Ok(text);
    }
    render_markup(tpl, ctx.get_or_init(|| crate::render::context(doc, opts)))
}

/// Whether template `tpl` reads the context variable `name` anywhere (a template that does not compile counts
/// as reading it).
pub fn reads(tpl: &TemplateUsed, name: &str) -> bool {
    let Ok(c) = compiled(tpl) else { return true };
    let Ok(t) = c.env.get_template(&tpl.name) else { return true };
    c.reads.get_or_init(|| t.undeclared_variables(false)).contains(name)
}

/// Renders `tpl` into plain markup (markers removed), e.g. for `--dump-markup`.
pub fn render_plain_markup(tpl: &TemplateUsed, ctx: &Value) -> Result<String, Diagnostic> {
    render_markup(tpl, ctx).map(|s| s.chars().filter(|c| lines::marker_line(*c).is_none()).collect())
}

/// A minijinja error at the template's own line and column, with the offending text. An
/// error at the end of the input with a block still open is reported where the block opens.
fn diagnostic(tpl: &TemplateUsed, marked: &lines::Marked, e: &minijinja::Error) -> Diagnostic {
    let detail = e.detail().unwrap_or_default();
    let mut d = Diagnostic::new(
        Stage::Template,
        e.name().unwrap_or(&tpl.name),
        if detail.is_empty() { e.kind().to_string() } else { format!("{}: {detail}", e.kind()) },
    );
    d.line = e.line();
    if let Some(range) = e.range() {
        let (start, end) = (marked.original_offset(range.start), marked.original_offset(range.end));
        let (line, column) = lines::position(&tpl.source, start);
        d.line = Some(line);
        d.column = Some(column);
        d.snippet = tpl.source.get(start..end).map(|s| s.lines().next().unwrap_or_default().to_string());
    }
    let at_end = detail.contains("end of input")
        || d.line.is_some_and(|l| l >= tpl.source.lines().count().max(1) && !marked.unclosed.is_empty());
    if e.kind() == minijinja::ErrorKind::SyntaxError
        && at_end
        && let Some(open) = marked.unclosed.last()
    {
        d.message = format!("`{}` is never closed (expected `{{% end{} %}}`)", open.tag, open.keyword);
        d.line = Some(open.line);
        d.column = Some(open.column);
        d.snippet = Some(open.tag.clone());
    }
    d
}

/// Gives markup diagnostics (already at their template line) the column of their offending
/// text on that line, when the text is there literally (it may come from document data).
pub fn locate_columns(diags: &mut [Diagnostic], source: &str) {
    for d in diags.iter_mut().filter(|d| d.stage == Stage::Markup && d.column.is_none()) {
        let Some(text) = d.line.and_then(|l| source.lines().nth(l.saturating_sub(1))) else { continue };
        let found = d.snippet.as_deref().filter(|s| !s.is_empty()).and_then(|s| text.find(s));
        let byte = found.unwrap_or(text.len() - text.trim_start().len());
        d.column = Some(text[..byte].chars().count() + 1);
    }
}

fn new_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // Missing fields (and fields of missing objects) render empty instead of failing.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build() {
        env.set_syntax(syntax);
    }
    // A custom auto-escape mode makes macro output come back marked safe, so a macro's
    // markup is not escaped a second time; the formatter below does the escaping.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Custom("kassa-markup".into()));
    env.set_formatter(|out, _state, value| {
        if value.is_undefined() || value.is_none() {
            return Ok(());
        }
        // A value longer than any receipt is refused before it is copied and escaped.
        if value.as_str().is_some_and(|s| s.len() > MAX_MARKUP_BYTES) {
            return Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, Stop::TooLong.message()));
        }
        if value.is_safe() {
            return out.write_str(&value.to_string()).map_err(minijinja::Error::from);
        }
        out.write_str(&markup::escape(&value.to_string())).map_err(minijinja::Error::from)
    });
    env.add_filter("money", money_filter);
    env.add_filter("qty", thousandths_filter);
    env.add_filter("percent", thousandths_filter);
    env.add_filter("dt", dt_filter);
    env.add_filter("ad_text", ad_text_filter);
    env.add_filter("nonzero", nonzero_filter);
    env.add_filter("unit", unit_filter);
    env.add_filter("numbered", numbered_filter);
    env.add_filter("vat_totals", vat_totals_filter);
    env.add_function("t", t_function);
    env
}

fn int_of(v: &Value) -> Option<i128> {
    if let Some(i) = v.as_i64() {
        return Some(i as i128);
    }
    match v.kind() {
        ValueKind::String => v.as_str()?.trim().parse().ok(),
        _ => None,
    }
}

/// Money as tiyn: from `{bills, coins}`, an integer or a decimal number/string.
pub fn tiyn_of(v: &Value) -> Option<i128> {
    match v.kind() {
        ValueKind::Map => {
            let bills = v.get_attr("bills").ok().filter(|b| !b.is_undefined());
            let coins = v.get_attr("coins").ok().filter(|c| !c.is_undefined());
            if bills.is_none() && coins.is_none() {
                return None;
            }
            let b = bills.as_ref().and_then(int_of).unwrap_or(0);
            let c = coins.as_ref().and_then(int_of).unwrap_or(0);
            Some(money::from_parts(b, c))
        }
        ValueKind::Number => {
            if let Some(i) = v.as_i64() {
                return Some(i as i128 * 100);
            }
            money::parse_decimal(&v.to_string()).map(|f| f.rescale(2).units)
        }
        ValueKind::String => v.as_str().and_then(money::parse_decimal).map(|f| f.rescale(2).units),
        _ => None,
    }
}

/// `{{ m | money }}` → `1 750.00`; empty when the value is missing.
fn money_filter(v: Value) -> String {
    tiyn_of(&v).map(money::format_tiyn).unwrap_or_default()
}

/// `{{ q | qty }}`, `{{ p | percent }}`: thousandths → `2`, `1.25`, `12`.
fn thousandths_filter(v: Value) -> String {
    int_of(&v).map(money::format_thousandths).unwrap_or_default()
}

/// `{{ c.measure_unit_code | unit }}` → `шт`, `дана` or `шт/дана` by `lang`; empty for an unknown code.
fn unit_filter(state: &State, v: Value) -> String {
    let code = v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|i| i.to_string())).unwrap_or_default();
    let lang = state.lookup("lang").and_then(|l| l.as_str().map(str::to_string)).unwrap_or_else(|| "ru".to_string());
    crate::render::headings::unit_in(&code, &lang).unwrap_or_default()
}

/// `{{ s.section_code | numbered }}` → `№1` for a number, the name as it is otherwise.
fn numbered_filter(v: Value) -> String {
    let s = v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|i| i.to_string())).unwrap_or_default();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) { format!("№{s}") } else { s }
}

/// `{% for tx in b.itemsList | vat_totals %}`: the items' own taxes (`commodity.taxesList`) summed by rate, for a
/// receipt whose taxes come per item: `{percent, is_in_total_sum, sum}` in the order the rates first appear.
fn vat_totals_filter(items: Value) -> Vec<Value> {
    let mut totals: Vec<((i128, bool), i128)> = Vec::new();
    let Ok(iter) = items.try_iter() else { return Vec::new() };
    for item in iter {
        let taxes = item.get_attr("commodity").and_then(|c| c.get_attr("taxesList")).ok();
        let Some(taxes) = taxes.and_then(|t| t.try_iter().ok()) else { continue };
        for tx in taxes {
            let percent = tx.get_attr("percent").ok().as_ref().and_then(int_of).unwrap_or(0);
            let included = tx.get_attr("is_in_total_sum").map(|v| v.is_true()).unwrap_or(false);
            let sum = tx.get_attr("sum").ok().as_ref().and_then(tiyn_of).unwrap_or(0);
            match totals.iter_mut().find(|(k, _)| *k == (percent, included)) {
                Some((_, total)) => *total += sum,
                None => totals.push(((percent, included), sum)),
            }
        }
    }
    totals
        .into_iter()
        .map(|((percent, included), sum)| {
            Value::from(minijinja::value::Serde(serde_json::json!({
                "percent": percent as i64,
                "is_in_total_sum": included,
                "sum": {"bills": (sum / 100) as i64, "coins": (sum % 100) as i64},
            })))
        })
        .collect()
}

/// True when money is present and not zero (for `{% if x | nonzero %}`).
fn nonzero_filter(v: Value) -> bool {
    tiyn_of(&v).is_some_and(|t| t != 0)
}

fn triple(v: &Value, a: &str, b: &str, c: &str) -> Option<(i64, i64, i64)> {
    if v.is_undefined() || v.is_none() {
        return None;
    }
    let get = |k: &str| v.get_attr(k).ok().and_then(|x| int_of(&x)).map(|x| x as i64).unwrap_or(0);
    Some((get(a), get(b), get(c)))
}

/// `{{ d | dt }}` → `17.01.2025 13:34:37`; `dt("date")` or `dt("time")` for one part.
fn dt_filter(v: Value, part: Option<String>) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    let date = v.get_attr("date").ok().and_then(|d| triple(&d, "year", "month", "day"));
    let time = v.get_attr("time").ok().and_then(|t| triple(&t, "hour", "minute", "second"));
    match part.as_deref() {
        Some("date") => money::format_datetime(date, None),
        Some("time") if date.is_some_and(|d| d.0 > 0) => money::format_datetime(None, time),
        Some("time") => String::new(),
        _ => money::format_datetime(date, time),
    }
}

/// `{{ ad.Text | ad_text(fiscal_id) }}` fills a `${ticket_number}` the lead left in.
fn ad_text_filter(text: Value, number: Option<Value>) -> String {
    let text = text.as_str().map(str::to_string).unwrap_or_default();
    let n = number.filter(|n| !n.is_undefined() && !n.is_none()).map(|n| n.to_string()).unwrap_or_default();
    text.replace("${ticket_number}", &n)
}

/// `{{ t("total") }}`: a heading in the context's `lang`, unless `headings` overrides it.
fn t_function(state: &State, key: String) -> String {
    if let Some(custom) =
        state.lookup("headings").and_then(|h| h.get_attr(&key).ok()).and_then(|v| v.as_str().map(str::to_string))
    {
        return custom;
    }
    if !super::headings::is_known(&key) {
        // Printed as its name, between marks the markup parser turns into a warning at this template line.
        return format!("{UNKNOWN_HEADING_OPEN}{key}{UNKNOWN_HEADING_CLOSE}");
    }
    let lang = state.lookup("lang").and_then(|l| l.as_str().map(str::to_string)).unwrap_or_else(|| "ru".to_string());
    heading(&key, &lang)
}

/// Invisible marks (Unicode private use, plane 16) around a heading key `t()` does not know: the markup
/// parser removes them and reports the key at the template line that printed it.
pub const UNKNOWN_HEADING_OPEN: char = '\u{10FFF0}';
/// See [`UNKNOWN_HEADING_OPEN`].
pub const UNKNOWN_HEADING_CLOSE: char = '\u{10FFF1}';

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str, ctx: serde_json::Value) -> Result<String, Diagnostic> {
        let tpl = TemplateUsed::new("test.j2", src, TemplateOrigin::Stored);
        render_plain_markup(&tpl, &Value::from(minijinja::value::Serde(&ctx)))
    }

    #[test]
    fn filters_and_escaping() {
        let out = render(
            "{{ m | money }} {{ q | qty }} {{ p | percent }}% {{ d | dt }} {{ name }} {{ missing.deep.x }}",
            serde_json::json!({
                "m": {"bills": 1750, "coins": 5}, "q": 1250, "p": 12000,
                "d": {"date": {"year": 2025, "month": 1, "day": 17}, "time": {"hour": 13, "minute": 4, "second": 7}},
                "name": "@cut | x"
            }),
        );
        assert_eq!(out.as_deref(), Ok("1 750.05 1.25 12% 17.01.2025 13:04:07 \\@cut \\| x "));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = render("ok\n{{ x | money }\n", serde_json::json!({})).err();
        let e = e.expect("syntax error");
        assert_eq!(e.file, "test.j2");
        assert_eq!(e.line, Some(2));
        let e = render("a\n  {% if x %}\nb\n{% for y in z %}{% endfor %}\nc\n", serde_json::json!({})).err();
        let e = e.expect("unclosed if");
        assert_eq!((e.line, e.column), (Some(2), Some(3)), "{e}");
        assert_eq!(e.snippet.as_deref(), Some("{% if x %}"));
        let e = render("line\n@center: {{ x | nosuch }}\n", serde_json::json!({})).err();
        let e = e.expect("unknown filter");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.column.is_some_and(|c| c > 10), "{e:?}");
    }

    #[test]
    fn sandbox_and_fuel() {
        let e = render("{% include '/etc/passwd' %}", serde_json::json!({})).err();
        assert!(e.is_some());
        let e = render(
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            serde_json::json!({}),
        )
        .err();
        assert!(e.expect("fuel").message.contains("fuel"));
    }

    #[test]
    fn ads_and_headings() {
        let out = render(
            "{{ t('total') }} {{ a | ad_text(n) }}",
            serde_json::json!({"lang": "kk", "a": "ФП ${ticket_number}", "n": "1008"}),
        );
        assert_eq!(out.as_deref(), Ok("БАРЛЫҒЫ ФП 1008"));
    }
}
