//! The receipt step, below every front: from a stored document to the template version that renders it,
//! the printer profile it is laid out for and the print job that carries it.
//!
//! A front describes its document with [`Printable`] (which template, what context, which device folder,
//! which job key) and says how the document keeps its template version ([`TemplatePins`]); this module
//! does the rest the same way for every country. It knows no front's wire shapes and no country's rules.
//!
//! A print failure never fails the fiscal operation that asked for it: the document is committed before
//! anything is rendered, and a rendering or queueing error is logged and reported apart.
pub mod self_test;

use crate::render::options::{Format, RenderOptions};
use crate::render::profile::PrinterProfile as RenderProfile;
use crate::render::{Renderer, TemplateKey};
use crate::spool::config::{DocFormat, PrinterType};
use crate::spool::profile::PrinterProfile as SpoolProfile;
/// The print queue's names a front uses, so it need not reach into the spooler.
pub use crate::spool::{JobId, JobKey, PrinterId};
use crate::spool::{JobRequest, Spooler};
/// A template version, as the receipt step pins it.
pub use crate::store::TemplateRow;

/// What went wrong printing; each front turns it into its own error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptError {
    /// A caller's parameter is wrong (`field` names it).
    Field { field: String, message: String },
    /// Rendering or queueing failed.
    Failed(String),
}

impl ReceiptError {
    pub fn field(field: &str, message: impl std::fmt::Display) -> ReceiptError {
        ReceiptError::Field { field: field.to_string(), message: message.to_string() }
    }

    pub fn failed(message: impl Into<String>) -> ReceiptError {
        ReceiptError::Failed(message.into())
    }

    /// The text of the error.
    pub fn message(&self) -> &str {
        match self {
            ReceiptError::Field { message, .. } | ReceiptError::Failed(message) => message,
        }
    }
}

impl std::fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// A stored document as the receipt step sees it; each front implements it for its documents.
pub trait Printable {
    /// Which template lays it out: its country's folder and its file there. The country maps its documents
    /// to templates; render knows no country's commands.
    fn template(&self) -> Result<TemplateKey, ReceiptError>;
    /// The template context (the document as its templates know it).
    fn context(&self) -> serde_json::Value;
    /// The device's own template folder (templates and pictures), looked in before the shared one; none by
    /// default (the country's shared folder serves every device).
    fn device_folder(&self) -> Option<String> {
        None
    }
    /// The print queue's key for it (one receipt per document, never silently twice).
    fn job_key(&self) -> JobKey;
    /// The printer the device is set up to print on, if any.
    fn device_printer(&self) -> Option<PrinterId>;
}

/// How a document keeps the template version that first rendered it: given the version that rendered
/// it now, the version it keeps (stored the first time, returned ever after).
pub trait TemplatePins {
    /// The front's own error, so a ledger failure keeps the code it has in that front.
    type Error: From<ReceiptError>;
    fn keep(&self, actual: TemplateRow) -> Result<TemplateRow, Self::Error>;
}

/// A ledger document keeps its template through the ledger (`ledger::pins`); a ledger failure is a failed
/// render here, and each front maps that to its own code.
impl TemplatePins for crate::ledger::LedgerPins<'_> {
    type Error = ReceiptError;
    fn keep(&self, actual: TemplateRow) -> Result<TemplateRow, ReceiptError> {
        crate::ledger::LedgerPins::keep(self, actual).map_err(|e| ReceiptError::failed(e.to_string()))
    }
}

/// The renderer and the spooler, shared by the fronts.
pub struct Printing {
    pub renderer: Renderer,
    pub spooler: Spooler,
    /// Heading language for receipts.
    pub lang: String,
}

/// The image parameters of the seed (`image_width`, `image_scale`, `image_pixel_draw_threshold`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageParams {
    pub width: Option<i64>,
    pub scale: Option<f64>,
    pub threshold: Option<i64>,
}

/// The layout engine's profile for a spooler profile (see `crate::profiles`).
pub fn render_profile(p: &SpoolProfile) -> RenderProfile {
    crate::profiles::render_profile(p)
}

/// Lays out for printer profile `p` (its width, columns and code pages). A printer that cannot print ₸ at all (in
/// no code page, no downloaded glyphs) gets "тг" on its amounts, and so does every preview made for it, so the
/// preview shows what the paper will (without it, every line with ₸ would go to such a printer as raster).
pub fn use_profile(opts: &mut RenderOptions, p: RenderProfile) {
    if !prints_as_text(&p, '₸') {
        opts.headings.entry("currency".into()).or_insert_with(|| "тг".into());
    }
    opts.profile = p;
}

/// Whether `c` prints as text on a printer with `p`: from one of its code pages or as a downloaded glyph.
pub fn prints_as_text(p: &RenderProfile, c: char) -> bool {
    p.user_defined_chars || p.code_pages.iter().any(|slot| slot.page.encode_char(c).is_some())
}

impl Printing {
    /// Render options for `params`, checked: an out-of-range value names its field.
    pub fn options(&self, params: ImageParams, copy: bool) -> Result<RenderOptions, ReceiptError> {
        let defaults = RenderOptions::default();
        let opts = RenderOptions {
            image_width: params.width.unwrap_or(defaults.image_width),
            image_scale: params.scale.unwrap_or(defaults.image_scale),
            image_pixel_draw_threshold: params.threshold.unwrap_or(defaults.image_pixel_draw_threshold),
            lang: self.lang.clone(),
            copy,
            ..defaults
        };
        opts.validate().map_err(|e| ReceiptError::field(e.field(), e))?;
        Ok(opts)
    }

    /// The printer profile a render is for: the profile named `profile` (shipped or from
    /// `spool.profiles_dir`), else printer `printer`'s; `None` when neither is given.
    pub fn target_profile(
        &self,
        profile: Option<&str>,
        printer: Option<PrinterId>,
    ) -> Result<Option<RenderProfile>, ReceiptError> {
        if let Some(id) = profile {
            let p = self.spooler.profiles().get(id).ok_or_else(|| {
                let known: Vec<&str> = self.spooler.profiles().keys().map(String::as_str).collect();
                ReceiptError::field("profile", format!("no printer profile {id:?}; known: {}", known.join(", ")))
            })?;
            return Ok(Some(render_profile(p)));
        }
        match printer {
            Some(id) => Ok(Some(render_profile(&self.spooler.profile(id).map_err(spool_error)?))),
            None => Ok(None),
        }
    }

    /// Renders a stored document with the template version it keeps (recording, when it was never rendered,
    /// the template that actually rendered it: the built-in one when the override in force is broken), so a
    /// reprint years later is identical.
    pub fn render<P: TemplatePins>(
        &self,
        pins: &P,
        doc: &dyn Printable,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Vec<u8>, P::Error> {
        let mut forms = self.render_forms(pins, doc, opts, &[format])?;
        Ok(forms.pop().unwrap_or_default())
    }

    /// The forms `formats` of a stored document (any back-ends: the Kazakh text, HTML, ESC/POS and PNG, a
    /// country's padded grid forms), in order, from one run of the template version it keeps.
    pub fn render_forms<P: TemplatePins>(
        &self,
        pins: &P,
        doc: &dyn Printable,
        opts: &RenderOptions,
        formats: &[Format],
    ) -> Result<Vec<Vec<u8>>, P::Error> {
        self.pinned(pins, doc, opts, |key, source, json, opts| {
            let r = self.renderer.render_forms(key, Some(source), json, opts, formats)?;
            Ok((r.forms, r.template, r.diagnostics))
        })
    }

    /// A stored document in `format` and the same marked as a copy (the bytes a print job resends after a
    /// failure mid-job), from one run of the template version it keeps (see `Renderer::render_with_copy`).
    pub fn render_with_copy<P: TemplatePins>(
        &self,
        pins: &P,
        doc: &dyn Printable,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<(Vec<u8>, Vec<u8>), P::Error> {
        self.pinned(pins, doc, opts, |key, source, json, opts| {
            let r = self.renderer.render_with_copy(key, Some(source), json, opts, format)?;
            Ok(((r.original, r.copy), r.template, r.diagnostics))
        })
    }

    /// Runs `render` with the template version `doc` keeps: the one in force is tried; when the document
    /// keeps another (it was rendered before), that one renders instead.
    fn pinned<P: TemplatePins, T>(
        &self,
        pins: &P,
        doc: &dyn Printable,
        opts: &RenderOptions,
        render: impl Fn(
            TemplateKey,
            &str,
            &serde_json::Value,
            &RenderOptions,
        ) -> Result<
            (T, crate::render::TemplateUsed, Vec<crate::render::Diagnostic>),
            crate::render::RenderError,
        >,
    ) -> Result<T, P::Error> {
        let key = doc.template()?;
        let failed = |e: crate::render::RenderError| ReceiptError::failed(format!("rendering failed: {e}"));
        // The device's own template folder first (templates and pictures), then the shared one.
        let opts = &RenderOptions { kkm: doc.device_folder(), ..opts.clone() };
        let (current, diagnostics) = self.renderer.template_for(key, opts.kkm.as_deref()).map_err(failed)?;
        self.log_problems(&current, &diagnostics);
        let json = doc.context();
        let (out, template, found) = render(key, &current.source, &json, opts).map_err(failed)?;
        self.log_problems(&current, &found);
        let actual = TemplateRow {
            sha256: template.sha256.clone(),
            name: template.name.clone(),
            source: template.source.to_string(),
        };
        let kept = pins.keep(actual)?;
        if kept.sha256 == template.sha256 {
            return Ok(out);
        }
        let (out, _, found) = render(key, &kept.source, &json, opts).map_err(failed)?;
        let stored = crate::render::TemplateUsed::new(&kept.name, &kept.source, crate::render::TemplateOrigin::Stored);
        self.log_problems(&stored, &found);
        Ok(out)
    }

    /// Logs the problems of template `tpl`: its static ones (unknown variables and heading keys) and those of a
    /// render, each once per template version, not once per receipt. A warning kept the template (something
    /// printed empty or as a key's name); anything else made the built-in one print instead.
    pub fn log_problems(&self, tpl: &crate::render::TemplateUsed, found: &[crate::render::Diagnostic]) {
        let lint = self.renderer.lint_once(tpl);
        for d in lint.iter().filter(|d| d.warning).chain(found) {
            if !self.renderer.first_report(&tpl.sha256, d) {
                continue;
            }
            if d.warning {
                tracing::warn!(template = %tpl.name, sha256 = %tpl.sha256, problem = %d, "template problem; it printed as written");
            } else {
                tracing::warn!(template = %tpl.name, sha256 = %tpl.sha256, problem = %d, "template problem; the built-in one was used");
            }
        }
    }

    /// The printer a device prints on: `wanted`, else its configured printer, else the first configured
    /// one (the virtual printer by default).
    pub fn printer_for(
        &self,
        device_printer: Option<PrinterId>,
        wanted: Option<PrinterId>,
    ) -> Result<(PrinterId, PrinterType), ReceiptError> {
        let printers = self.spooler.printers().map_err(spool_error)?;
        let wanted = wanted.or(device_printer);
        if let Some(p) = wanted.and_then(|id| printers.iter().find(|p| p.id == id)) {
            return Ok((p.id, p.printer_type));
        }
        if let Some(id) = wanted {
            tracing::warn!(printer = id, "the KKM's printer is unknown to the spooler; using the default printer");
        }
        printers
            .iter()
            .find(|p| p.configured)
            .map(|p| (p.id, p.printer_type))
            .ok_or_else(|| ReceiptError::failed("no printer is configured"))
    }

    /// Renders `doc` for its printer and puts it in the print queue. `reprint` marks a copy from the start.
    pub fn enqueue<P: TemplatePins>(
        &self,
        pins: &P,
        doc: &dyn Printable,
        params: ImageParams,
        printer: Option<PrinterId>,
        reprint: bool,
    ) -> Result<JobId, P::Error> {
        let (printer_id, printer_type) = self.printer_for(doc.device_printer(), printer)?;
        let (format, doc_format) = match printer_type {
            // A page printer prints the picture; a receipt printer gets ESC/POS for its profile.
            PrinterType::System => (Format::Png, DocFormat::Png),
            _ => (Format::EscPos, DocFormat::EscPos),
        };
        let mut opts = self.options(params, reprint)?;
        let profile = render_profile(&self.spooler.profile(printer_id).map_err(spool_error)?);
        if format == Format::EscPos {
            use_profile(&mut opts, profile);
        } else {
            opts.profile = profile; // a page printer draws the picture, ₸ and all
        }
        // Bytes for a resend after a failure mid-job: the same receipt marked КОПИЯ, from the same run of the
        // template. A reprint is marked already, so its resend is itself (the spooler would otherwise add its
        // own banner: two marks).
        let (data, copy_data) = if reprint {
            let data = self.render(pins, doc, &opts, format)?;
            (data.clone(), Some(data))
        } else {
            let (data, copy) = self.render_with_copy(pins, doc, &opts, format)?;
            (data, Some(copy))
        };
        let mut job = JobRequest::new(printer_id, doc.job_key(), doc_format, data);
        job.copy_data = copy_data;
        job.is_copy = reprint;
        Ok(self.spooler.enqueue(job).map_err(spool_error)?)
    }

    /// Queues bytes a front rendered itself (a country's own receipt layout) for `printer`, or the default
    /// printer when `None`.
    pub fn enqueue_bytes(
        &self,
        printer: Option<PrinterId>,
        key: JobKey,
        data: Vec<u8>,
        copy_data: Option<Vec<u8>>,
    ) -> Result<JobId, ReceiptError> {
        let (printer_id, _) = self.printer_for(None, printer)?;
        let mut job = JobRequest::new(printer_id, key, DocFormat::EscPos, data);
        job.copy_data = copy_data;
        self.spooler.enqueue(job).map_err(spool_error)
    }

    /// A document closed its shift (a Z report): the print queue gives up the shift's receipts that still
    /// wait for a printer nobody can reach (`Spooler::close_shift`). Call it before queueing the Z report
    /// itself, whether or not it is printed; a failure is logged, never returned.
    pub fn shift_closed(&self, key: &JobKey) {
        let JobKey::Document { kkm, shift, .. } = key else { return };
        if let Err(e) = self.spooler.close_shift(kkm, *shift) {
            tracing::error!(kkm, shift, error = %e, "print queue: the shift's waiting receipts were not given up");
        }
    }

    /// The spooler's profile of a printer as the layout engine sees it.
    pub fn profile_of(&self, printer: PrinterId) -> Result<RenderProfile, ReceiptError> {
        Ok(render_profile(&self.spooler.profile(printer).map_err(spool_error)?))
    }
}

/// A spooler failure as a receipt error.
pub fn spool_error(e: crate::spool::SpoolError) -> ReceiptError {
    use crate::spool::SpoolError as S;
    match e {
        S::UnknownPrinter(id) => ReceiptError::field("printer_id", format!("no printer with ID {id}")),
        S::UnknownJob(id) => ReceiptError::field("id", format!("no print job with ID {id}")),
        // A call the job's state does not allow is the caller's to fix, with the reason.
        e @ (S::InvalidState { .. } | S::AlreadyAtPrinter { .. }) => ReceiptError::field("id", e.to_string()),
        other => ReceiptError::failed(format!("print queue: {other}")),
    }
}
