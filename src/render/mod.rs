//! Receipt rendering: document JSON → template → markup → model → layout → back-end.
//!
//! 1. `template`: a minijinja template (built-in, or an override file of the same name)
//!    turns the document JSON into receipt markup (`docs/receipt-markup.md`).
//! 2. `markup::parse` turns markup into a width-independent `model::Document`.
//! 3. `layout::layout` places it on a character grid of a given width, with dot geometry.
//! 4. A back-end (`backend::{text, html, escpos, png}`) turns the layout into bytes.
//!
//! Apart from reading override templates (`template::store`) and the command line (`cli`),
//! nothing here does I/O or reads the clock: fonts are embedded, dates come from the document,
//! so rendering the same document with the same template source gives the same bytes years
//! later.
//!
//! Rendering is synchronous and CPU-bound (about a millisecond per receipt); call it from
//! `spawn_blocking` in async code. `Renderer` is `Send + Sync`: share one behind an `Arc`.
//!
//! A broken template never loses a receipt: its error (the template's own file, line and
//! column, with the offending text) is returned as a diagnostic and the built-in template
//! renders instead. A markup error (an unknown directive or style word) counts the same: it
//! is never printed. `Renderer::preview` renders a template exactly, errors and all, for the
//! playground and `kassa templates check`.
//!
//! ```
//! use kassa::render::{TemplateKey, Format, RenderOptions, Renderer, RendererConfig};
//! let renderer = Renderer::new(RendererConfig::default());
//! let doc = serde_json::json!({"command_type": 6, "body": {"operation": 0,
//!     "sum": {"bills": 1000, "coins": 0}}});
//! let out = renderer
//!     .render(TemplateKey::MONEY_PLACEMENT, &doc, &RenderOptions::default(), Format::Text)
//!     .unwrap();
//! assert!(String::from_utf8(out.bytes).unwrap().contains("1 000.00"));
//! assert_eq!(out.template.name, "money_placement.j2");
//! ```
pub mod backend;
pub mod cli;
pub mod codepage;
pub mod context_doc;
pub mod dither;
pub mod error;
pub mod font;
pub mod headings;
pub mod kind;
pub mod layout;
pub mod markup;
pub mod model;
pub mod money;
pub mod options;
pub mod profile;
pub mod qr;
pub mod raster;
pub mod samples;
pub mod template;

pub use codepage::CodePage;
pub use error::{Diagnostic, OptionsError, RenderError, Stage};
pub use kind::TemplateKey;
pub use layout::{Geometry, Layout};
pub use options::{Format, RenderOptions};
pub use profile::{CodePageSlot, PrinterProfile};
pub use template::{TemplateOrigin, TemplateUsed};

use model::{Align, Block, Document, Style};
use std::path::PathBuf;
use std::sync::Arc;
use template::store::{self, TemplateStore};

/// Renderer configuration.
#[derive(Clone, Debug, Default)]
pub struct RendererConfig {
    /// Folder whose `ticket.j2`, `money_placement.j2`, `x_report.j2`, `z_report.j2` or
    /// `self_test.j2` (and `by/…`, `ua/…` for those countries) replace the built-ins; re-read when the file
    /// changes.
    pub override_dir: Option<PathBuf>,
}

/// The result of a render: the bytes, exactly which template made them, and any problems
/// that did not stop rendering.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub template: TemplateUsed,
    pub diagnostics: Vec<Diagnostic>,
}

/// A laid-out document before encoding (see [`encode`]).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub layout: Layout,
    pub template: TemplateUsed,
    pub diagnostics: Vec<Diagnostic>,
}

/// Renders documents with built-in or overridden templates. Cheap to share (`&self`).
pub struct Renderer {
    store: TemplateStore,
    /// Problems already reported, by template hash and text (see [`Renderer::first_report`]).
    reported: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Problems remembered as reported; past it the set starts afresh (a problem may then be logged again).
const REPORTED_LIMIT: usize = 4096;

impl Renderer {
    pub fn new(config: RendererConfig) -> Renderer {
        Renderer { store: TemplateStore::new(config.override_dir), reported: Default::default() }
    }

    /// Whether problem `d` of template `sha256` is reported for the first time: a server logs each problem
    /// of a template once, not once per receipt.
    pub fn first_report(&self, sha256: &str, d: &Diagnostic) -> bool {
        let mut seen = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= REPORTED_LIMIT {
            seen.clear();
        }
        seen.insert(format!("{sha256} {d}"))
    }

    /// The static problems of `tpl` (unknown variables, heading keys, filters), the first time they are asked
    /// for that template version; empty afterwards.
    pub fn lint_once(&self, tpl: &TemplateUsed) -> Vec<Diagnostic> {
        let first = {
            let mut seen = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            seen.insert(format!("{} linted", tpl.sha256))
        };
        if first { template::lint::lint(tpl) } else { Vec::new() }
    }

    /// The template currently in force for `key` (override or built-in), with its hash.
    pub fn template(&self, key: TemplateKey) -> Result<(TemplateUsed, Vec<Diagnostic>), RenderError> {
        self.template_for(key, None)
    }

    /// The template in force for `key` on device `kkm` (a KKM's OFD id): the device's own folder, then
    /// the shared override folder, then the built-in.
    pub fn template_for(
        &self,
        key: TemplateKey,
        kkm: Option<&str>,
    ) -> Result<(TemplateUsed, Vec<Diagnostic>), RenderError> {
        let (t, d) = self.store.get_for(key, kkm).ok_or_else(|| unknown(key))?;
        Ok(((*t).clone(), d.into_iter().collect()))
    }

    /// Where override templates live (shared, per KKM) and how they are saved.
    pub fn store(&self) -> &TemplateStore {
        &self.store
    }

    /// The built-in template for `key`; `None` when no country folder holds it.
    pub fn builtin_template(key: TemplateKey) -> Option<TemplateUsed> {
        store::builtin(key).map(|t| (*t).clone())
    }

    /// Renders `doc` (a document's context, or the Kazakh API's whole envelope) with the template in force
    /// for `key` as `format`: every back-end (text, HTML, ESC/POS, PNG, the padded grid forms) is a choice
    /// of this one call.
    pub fn render(
        &self,
        key: TemplateKey,
        doc: &serde_json::Value,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Rendered, RenderError> {
        let p = self.prepare(key, doc, opts, format)?;
        finish(p, opts, format)
    }

    /// Renders with a stored template source (a reprint of exactly what was printed). Does
    /// no I/O. A stored source that no longer renders falls back to the built-in.
    pub fn render_with_source(
        &self,
        key: TemplateKey,
        source: &str,
        doc: &serde_json::Value,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Rendered, RenderError> {
        let (used, document, diagnostics) = self.document_of(key, Some(source), doc, opts)?;
        let layout = layout::layout(&document, &geometry(opts, format));
        finish(Prepared { layout, template: (*used).clone(), diagnostics }, opts, format)
    }

    /// Several back-ends of one document from one run of its template (`source`, else the one in force):
    /// the bytes of each of `formats` in order, each layout made once per geometry.
    pub fn render_forms(
        &self,
        key: TemplateKey,
        source: Option<&str>,
        doc: &serde_json::Value,
        opts: &RenderOptions,
        formats: &[Format],
    ) -> Result<RenderedForms, RenderError> {
        let (used, document, diagnostics) = self.document_of(key, source, doc, opts)?;
        let mut layouts: Vec<(Geometry, Layout)> = Vec::new();
        let mut forms = Vec::with_capacity(formats.len());
        for format in formats {
            let g = geometry(opts, *format);
            let i = match layouts.iter().position(|(made, _)| *made == g) {
                Some(i) => i,
                None => {
                    layouts.push((g, layout::layout(&document, &g)));
                    layouts.len() - 1
                }
            };
            forms.push(encode(&layouts[i].1, opts, *format)?);
        }
        Ok(RenderedForms { forms, template: (*used).clone(), diagnostics })
    }

    /// One back-end of a document and of its copy (the КОПИЯ banner), for a print job that may have to be
    /// resent marked as a copy: the template runs once when it does not read `copy` (the built-in ones do
    /// not), so the copy is the same document with the banner added; otherwise it runs again for the copy.
    /// `opts.copy` is ignored: the first form is the original.
    pub fn render_with_copy(
        &self,
        key: TemplateKey,
        source: Option<&str>,
        doc: &serde_json::Value,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<RenderedCopies, RenderError> {
        let original = RenderOptions { copy: false, ..opts.clone() };
        let copy = RenderOptions { copy: true, ..opts.clone() };
        let (used, document, diagnostics) = self.document_of(key, source, doc, &original)?;
        let g = geometry(&original, format);
        let layout = layout::layout(&document, &g);
        let bytes = encode(&layout, &original, format)?;
        let copy_document = if template::reads(&used, "copy") {
            let (_, copy_document, _) = self.document_of(key, Some(&used.source), doc, &copy)?;
            copy_document
        } else {
            let mut d = document;
            mark_copy(&mut d, &copy);
            d
        };
        let copy_bytes = encode(&layout::layout(&copy_document, &g), &copy, format)?;
        Ok(RenderedCopies { original: bytes, copy: copy_bytes, template: (*used).clone(), diagnostics })
    }

    /// Lays out `tpl` exactly as written, without falling back to the built-in: markup
    /// problems come back in `Prepared::diagnostics` (the faulty lines left out), a template
    /// error as `RenderError::Template`. For previews and checks, not for printing.
    pub fn preview(
        &self,
        tpl: &TemplateUsed,
        doc: &serde_json::Value,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Prepared, RenderError> {
        opts.validate()?;
        let text = template::render_markup(tpl, &context(doc, opts)).map_err(RenderError::Template)?;
        let (mut document, markup_diags, _) = self.markup_of(tpl, &text, opts.kkm.as_deref());
        // Static checks too: an unknown filter in a branch this document does not reach.
        let mut diagnostics = template::lint::lint(tpl);
        diagnostics.extend(markup_diags);
        if opts.copy {
            mark_copy(&mut document, opts);
        }
        Ok(Prepared { layout: layout::layout(&document, &geometry(opts, format)), template: tpl.clone(), diagnostics })
    }

    /// Template, markup and layout, without encoding (benchmarks and previews use this).
    pub fn prepare(
        &self,
        key: TemplateKey,
        doc: &serde_json::Value,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Prepared, RenderError> {
        let (used, document, diagnostics) = self.document_of(key, None, doc, opts)?;
        Ok(Prepared {
            layout: layout::layout(&document, &geometry(opts, format)),
            template: (*used).clone(),
            diagnostics,
        })
    }

    /// Markup (`tpl`'s output) → model, with every problem at its template line and column.
    fn markup_of(
        &self,
        tpl: &TemplateUsed,
        text: &str,
        kkm: Option<&str>,
    ) -> (Document, Vec<Diagnostic>, Arc<TemplateUsed>) {
        // Pictures pinned in the source first (a kept version), then the template folders.
        let pinned = template::pinned::images(&tpl.source);
        let read = std::cell::RefCell::new(Vec::new());
        let images = |name: &str| match pinned.get(name) {
            Some(bytes) => store::TemplateStore::decode(bytes),
            None => {
                let bytes = self.store.image_file(name, kkm)?;
                let image = store::TemplateStore::decode(&bytes)?;
                read.borrow_mut().push((name.to_string(), bytes));
                Ok(image)
            }
        };
        let (document, mut diags) = markup::parse_with(text, &tpl.name, &images);
        template::locate_columns(&mut diags, &tpl.source);
        // The version that made this output: the source with the pictures it read pinned in.
        let read = read.into_inner();
        let made_by = if read.is_empty() {
            Arc::new(tpl.clone())
        } else {
            Arc::new(TemplateUsed::new(&tpl.name, &template::pinned::pin(&tpl.source, &read), tpl.origin.clone()))
        };
        (document, diags, made_by)
    }

    /// The markup document of `key`'s template (`source`, else the one in force for `opts.kkm`) for `doc`,
    /// with the template that made it and the problems met. On any template or markup error the built-in
    /// renders instead, keeping the error as a diagnostic; only the built-in's own errors are let through.
    /// A copy gets the КОПИЯ banner when `opts.copy` says so; a document whose own `copy` says so only tells
    /// its template (a country's look places the mark itself).
    #[allow(clippy::type_complexity)]
    fn document_of(
        &self,
        key: TemplateKey,
        source: Option<&str>,
        doc: &serde_json::Value,
        opts: &RenderOptions,
    ) -> Result<(Arc<TemplateUsed>, Document, Vec<Diagnostic>), RenderError> {
        opts.validate()?;
        let builtin = store::builtin(key).ok_or_else(|| unknown(key))?;
        let kkm = opts.kkm.as_deref();
        let (tpl, mut diagnostics) = match source {
            Some(src) => (Arc::new(TemplateUsed::new(&builtin.name, src, TemplateOrigin::Stored)), Vec::new()),
            None => {
                let (t, d) = self.store.get_for(key, kkm).ok_or_else(|| unknown(key))?;
                (t, d.into_iter().collect())
            }
        };
        let ctx = std::cell::OnceCell::new();
        let run = |t: &TemplateUsed| template::markup_for(t, doc, opts, &ctx).map(|text| self.markup_of(t, &text, kkm));
        let is_builtin = builtin.sha256 == tpl.sha256;
        let (used, mut document) = match run(&tpl) {
            // Warnings (an unknown variable, a missing picture) keep the template: it prints as written.
            Ok((document, d, made_by)) if d.iter().all(|d| d.warning) || is_builtin => {
                diagnostics.extend(d);
                (made_by, document)
            }
            Err(d) if is_builtin => return Err(RenderError::Builtin(d)),
            failed => {
                match failed {
                    Ok((_, d, _)) => diagnostics.extend(d),
                    Err(d) => diagnostics.push(d),
                }
                let (document, d, _) = run(&builtin).map_err(RenderError::Builtin)?;
                diagnostics.extend(d);
                (builtin, document)
            }
        };
        if opts.copy {
            mark_copy(&mut document, opts);
        }
        Ok((used, document, diagnostics))
    }
}

/// Several forms of one document (see [`Renderer::render_forms`]).
#[derive(Clone, Debug)]
pub struct RenderedForms {
    /// The bytes of each format asked for, in order.
    pub forms: Vec<Vec<u8>>,
    pub template: TemplateUsed,
    pub diagnostics: Vec<Diagnostic>,
}

/// A document and its copy in one back-end (see [`Renderer::render_with_copy`]).
#[derive(Clone, Debug)]
pub struct RenderedCopies {
    pub original: Vec<u8>,
    /// The same receipt marked КОПИЯ.
    pub copy: Vec<u8>,
    pub template: TemplateUsed,
    pub diagnostics: Vec<Diagnostic>,
}

fn unknown(key: TemplateKey) -> RenderError {
    RenderError::UnknownTemplate(key.template_name())
}

fn finish(p: Prepared, opts: &RenderOptions, format: Format) -> Result<Rendered, RenderError> {
    Ok(Rendered { bytes: encode(&p.layout, opts, format)?, template: p.template, diagnostics: p.diagnostics })
}

/// The geometry a format is laid out for.
pub fn geometry(opts: &RenderOptions, format: Format) -> Geometry {
    match format {
        Format::Text | Format::Html | Format::GridText | Format::GridHtml | Format::GridEscPos => {
            Geometry::text(opts.columns())
        }
        Format::EscPos => Geometry::printer(&opts.profile),
        Format::Png => Geometry::image(opts.width(), opts.scale()),
    }
}

/// Lines one receipt may run to: about ten times the largest receipt a front takes (1 000 items, about 2 200
/// lines); a template that feeds or repeats more (half a million blank lines) is stopped before they are drawn.
pub const MAX_LINES: u32 = 20_000;

/// Whether `layout` fits [`MAX_LINES`]; the error says how long it would be.
pub fn check_length(layout: &Layout) -> Result<(), RenderError> {
    let lines = layout.height / layout.geometry.line_h.max(1);
    if lines > MAX_LINES {
        return Err(RenderError::TooLarge(format!(
            "the receipt would be {lines} lines long, more than the {MAX_LINES} lines a render may draw: stopped"
        )));
    }
    Ok(())
}

/// Encodes a layout made for `geometry(opts, format)`.
pub fn encode(layout: &Layout, opts: &RenderOptions, format: Format) -> Result<Vec<u8>, RenderError> {
    check_length(layout)?;
    Ok(match format {
        Format::Text => backend::text::render(layout, opts).into_bytes(),
        Format::Html => backend::html::render(layout, opts).into_bytes(),
        Format::EscPos => {
            // A printer that takes everything as raster gets the whole receipt drawn at once.
            if opts.profile.raster_everything {
                backend::png::check_size(layout)?;
            }
            backend::escpos::render(layout, opts)
        }
        Format::Png => backend::png::render(layout, opts)?,
        Format::GridText => backend::grid::text(layout).into_bytes(),
        Format::GridHtml => backend::grid::html(layout).into_bytes(),
        Format::GridEscPos => backend::grid::escpos(layout, &backend::grid::Target::of(&opts.profile)),
    })
}

/// The template context: the document's fields plus `copy`, `lang` and `headings`.
pub fn context(doc: &serde_json::Value, opts: &RenderOptions) -> minijinja::Value {
    // Serialized straight from the document (no copy of it first): the same keys in the same order as
    // `context_json`.
    minijinja::Value::from(minijinja::value::Serde(ContextOf { doc, opts }))
}

/// The template context of [`context_json`], serialized without building it.
struct ContextOf<'a> {
    doc: &'a serde_json::Value,
    opts: &'a RenderOptions,
}

impl serde::Serialize for ContextOf<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Headings<'a>(&'a std::collections::BTreeMap<String, String>);
        impl serde::Serialize for Headings<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter())
            }
        }
        let d = self.doc.get("response_data").filter(|v| v.is_object()).unwrap_or(self.doc);
        let empty = serde_json::Map::new();
        let fields = d.as_object().unwrap_or(&empty);
        let doc_copy = fields.get("copy").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let copy = self.opts.copy || doc_copy;
        let headings = Headings(&self.opts.headings);
        let mut map = s.serialize_map(None)?;
        for (k, v) in fields {
            match k.as_str() {
                "copy" => map.serialize_entry(k, &copy)?,
                "lang" => map.serialize_entry(k, &self.opts.lang)?,
                "headings" => map.serialize_entry(k, &headings)?,
                _ => map.serialize_entry(k, v)?,
            }
        }
        for key in ["copy", "lang", "headings"].into_iter().filter(|k| !fields.contains_key(*k)) {
            match key {
                "copy" => map.serialize_entry(key, &copy)?,
                "lang" => map.serialize_entry(key, &self.opts.lang)?,
                _ => map.serialize_entry(key, &headings)?,
            }
        }
        map.end()
    }
}

/// The template context as JSON (`kassa render --dump-context`).
pub fn context_json(doc: &serde_json::Value, opts: &RenderOptions) -> serde_json::Value {
    let d = doc.get("response_data").filter(|v| v.is_object()).unwrap_or(doc);
    let mut map = match d {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    // A document that says it is a copy stays one (a country's template marks it); `opts.copy` adds the banner.
    let doc_copy = map.get("copy").and_then(serde_json::Value::as_bool).unwrap_or(false);
    map.insert("copy".into(), (opts.copy || doc_copy).into());
    map.insert("lang".into(), opts.lang.clone().into());
    let headings: serde_json::Map<String, serde_json::Value> =
        opts.headings.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
    map.insert("headings".into(), headings.into());
    serde_json::Value::Object(map)
}

/// Adds the КОПИЯ banner at the top and before the final cut, whatever the template says.
fn mark_copy(doc: &mut Document, opts: &RenderOptions) {
    let banner = || Block::Text {
        align: Align::Center,
        style: Style { bold: true, wide: true, tall: true, inverse: true },
        text: opts.headings.get("copy").cloned().unwrap_or_else(|| headings::heading("copy", &opts.lang)),
    };
    let end = doc.blocks.iter().rposition(|b| matches!(b, Block::Cut { .. })).unwrap_or(doc.blocks.len());
    doc.blocks.insert(end, banner());
    doc.blocks.insert(0, banner());
}
