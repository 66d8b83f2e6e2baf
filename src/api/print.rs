//! Printing after a fiscal operation, reprints and document images: the glue between a stored document,
//! the layout engine and the spooler.
//!
//! A print failure never fails the fiscal operation that asked for it: the document is committed before
//! anything is rendered, and a rendering or queueing error is logged and reported apart.
use super::codes::ErrorCode;
use super::error::ApiError;
use super::methods::answer::document_answer;
use crate::fiscal::Core;
use crate::fiscal::answer::DocumentAnswer;
use crate::render::options::{Format, RenderOptions};
use crate::render::profile::PrinterProfile as RenderProfile;
use crate::render::{DocumentKind, Renderer};
use crate::spool::config::{DocFormat, PrinterType};
use crate::spool::profile::PrinterProfile as SpoolProfile;
use crate::spool::{JobId, JobKey, JobRequest, PrinterId, Spooler};
use crate::store::TemplateRow;
use std::sync::Arc;

/// The renderer and the spooler, shared by the handlers.
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

/// Whether `c` prints as text on a printer with `p`: from one of its code pages or as a downloaded glyph.
pub fn prints_as_text(p: &RenderProfile, c: char) -> bool {
    p.user_defined_chars || p.code_pages.iter().any(|slot| slot.page.encode_char(c).is_some())
}

/// The kind of receipt a stored document is.
fn kind_of(a: &DocumentAnswer) -> Result<DocumentKind, ApiError> {
    let report_type = a.doc.extra.get("report_type").and_then(|v| v.as_i64());
    DocumentKind::from_command(i64::from(a.doc.command), report_type)
        .ok_or_else(|| ApiError::new(ErrorCode::MethodExecutionException, "this document has no receipt layout"))
}

impl Printing {
    /// Render options for `params`, checked: an out-of-range value is 2 naming its field.
    pub fn options(&self, params: ImageParams, copy: bool) -> Result<RenderOptions, ApiError> {
        let defaults = RenderOptions::default();
        let opts = RenderOptions {
            image_width: params.width.unwrap_or(defaults.image_width),
            image_scale: params.scale.unwrap_or(defaults.image_scale),
            image_pixel_draw_threshold: params.threshold.unwrap_or(defaults.image_pixel_draw_threshold),
            lang: self.lang.clone(),
            copy,
            ..defaults
        };
        opts.validate().map_err(|e| ApiError::field(e.field(), e))?;
        Ok(opts)
    }

    /// The printer profile a render is for: the profile named `profile` (shipped or from
    /// `spool.profiles_dir`), else printer `printer`'s; `None` when neither is given.
    pub fn target_profile(
        &self,
        profile: Option<&str>,
        printer: Option<PrinterId>,
    ) -> Result<Option<RenderProfile>, ApiError> {
        if let Some(id) = profile {
            let p = self.spooler.profiles().get(id).ok_or_else(|| {
                let known: Vec<&str> = self.spooler.profiles().keys().map(String::as_str).collect();
                ApiError::field("profile", format!("no printer profile {id:?}; known: {}", known.join(", ")))
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
    pub fn render(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Vec<u8>, ApiError> {
        let kind = kind_of(answer)?;
        // The KKM's own template folder first (templates and pictures), then the shared one.
        let opts = &RenderOptions { kkm: Some(answer.kkm.settings.ofd_id.to_string()), ..opts.clone() };
        let (current, diagnostics) = self.renderer.template_for(kind, opts.kkm.as_deref());
        for d in &diagnostics {
            tracing::warn!(template = %current.name, problem = %d, "template problem; the built-in one was used");
        }
        let json = document_answer(answer);
        let failed = |e: crate::render::RenderError| {
            ApiError::new(ErrorCode::MethodExecutionException, format!("rendering failed: {e}"))
        };
        let trial = self.renderer.render_with_source(kind, &current.source, &json, opts, format).map_err(failed)?;
        for d in &trial.diagnostics {
            tracing::warn!(template = %current.name, problem = %d, "template problem; the built-in one was used");
        }
        let actual = TemplateRow {
            sha256: trial.template.sha256.clone(),
            name: trial.template.name.clone(),
            source: trial.template.source.to_string(),
        };
        // A control receipt is no journal document: it is always drawn with the current template.
        if answer.is_dummy {
            return Ok(trial.bytes);
        }
        let kept = core.template_for(answer.doc.id, actual)?;
        if kept.sha256 == trial.template.sha256 {
            return Ok(trial.bytes);
        }
        let rendered = self.renderer.render_with_source(kind, &kept.source, &json, opts, format).map_err(failed)?;
        for d in &rendered.diagnostics {
            tracing::warn!(template = %kept.name, problem = %d, "stored template problem; the built-in one was used");
        }
        Ok(rendered.bytes)
    }

    /// The printer a KKM prints on: its configured printer, else the first configured one (the virtual
    /// printer by default).
    fn printer_for(
        &self,
        answer: &DocumentAnswer,
        wanted: Option<PrinterId>,
    ) -> Result<(PrinterId, PrinterType), ApiError> {
        let printers = self.spooler.printers().map_err(spool_error)?;
        let wanted = wanted.or(answer.kkm.settings.printer.as_ref().map(|p| p.id));
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
            .ok_or_else(|| ApiError::new(ErrorCode::MethodExecutionException, "no printer is configured"))
    }

    /// Renders `answer` for its printer and puts it in the print queue. `reprint` marks a copy from the start.
    pub fn enqueue(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        params: ImageParams,
        printer: Option<PrinterId>,
        reprint: bool,
    ) -> Result<JobId, ApiError> {
        let (printer_id, printer_type) = self.printer_for(answer, printer)?;
        let (format, doc_format) = match printer_type {
            // A page printer prints the picture; a receipt printer gets ESC/POS for its profile.
            PrinterType::System => (Format::Png, DocFormat::Png),
            _ => (Format::EscPos, DocFormat::EscPos),
        };
        let mut opts = self.options(params, reprint)?;
        opts.profile = render_profile(&self.spooler.profile(printer_id).map_err(spool_error)?);
        if format == Format::EscPos && !prints_as_text(&opts.profile, '₸') {
            // Without this, every line with ₸ would go to such a printer as raster.
            opts.headings.entry("currency".into()).or_insert_with(|| "тг".into());
        }
        let data = self.render(core, answer, &opts, format)?;
        // Bytes for a resend after a failure mid-job: the same receipt marked КОПИЯ. A reprint is marked
        // already, so its resend is itself (the spooler would otherwise add its own banner: two marks).
        let copy_data = if reprint {
            Some(data.clone())
        } else {
            Some(self.render(core, answer, &RenderOptions { copy: true, ..opts }, format)?)
        };
        let key = JobKey::Document {
            kkm: answer.kkm.settings.ofd_id.to_string(),
            shift: answer.doc.fr_shift_number,
            number: answer.doc.shift_document_number,
        };
        let mut job = JobRequest::new(printer_id, key, doc_format, data);
        job.copy_data = copy_data;
        job.is_copy = reprint;
        self.spooler.enqueue(job).map_err(spool_error)
    }

    /// Prints a fiscal operation's receipt; a failure is logged, never returned: the operation stands.
    pub async fn print_after(self: &Arc<Self>, core: &Arc<Core>, answer: DocumentAnswer, params: ImageParams) {
        let (printing, core) = (self.clone(), core.clone());
        let doc = (answer.doc.fr_shift_number, answer.doc.shift_document_number);
        let done = tokio::task::spawn_blocking(move || printing.enqueue(&core, &answer, params, None, false)).await;
        match done {
            Ok(Ok(job)) => tracing::debug!(job, "receipt queued for printing"),
            Ok(Err(e)) => {
                tracing::error!(shift = doc.0, number = doc.1, error = %e.message(crate::api::error::Lang::Ru), "receipt not printed")
            }
            Err(e) => tracing::error!(error = %e, "printing task failed"),
        }
    }
}

/// A spooler failure in an API answer.
pub fn spool_error(e: crate::spool::SpoolError) -> ApiError {
    use crate::spool::SpoolError as S;
    match e {
        S::UnknownPrinter(id) => ApiError::field("printer_id", format!("no printer with ID {id}")),
        S::UnknownJob(id) => ApiError::field("id", format!("no print job with ID {id}")),
        // A call the job's state does not allow is the caller's to fix: 2 with the reason.
        e @ (S::InvalidState { .. } | S::AlreadyAtPrinter { .. }) => ApiError::field("id", e.to_string()),
        other => ApiError::new(ErrorCode::MethodExecutionException, format!("print queue: {other}")),
    }
}
