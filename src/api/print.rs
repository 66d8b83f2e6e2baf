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
use crate::render::codepage::CodePage;
use crate::render::options::{Format, RenderOptions};
use crate::render::profile::{CodePageSlot, PrinterProfile as RenderProfile};
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

/// The layout engine's profile for a spooler profile: the code pages it can encode, KZ-1048 first.
pub fn render_profile(p: &SpoolProfile) -> RenderProfile {
    let mut pages: Vec<CodePageSlot> = p
        .code_pages
        .iter()
        .filter_map(|c| {
            let page = match c.encoding.to_ascii_lowercase().as_str() {
                "kz1048" | "rk1048" | "kz-1048" => CodePage::Kz1048,
                "cp866" | "pc866" | "ibm866" => CodePage::Cp866,
                "windows-1251" | "cp1251" | "wpc1251" => CodePage::Cp1251,
                _ => return None,
            };
            Some(CodePageSlot { page, esc_t: c.esc_t })
        })
        .collect();
    // Kazakh text prints as text only on KZ-1048; the other pages carry Russian.
    pages.sort_by_key(|s| match s.page {
        CodePage::Kz1048 => 0,
        CodePage::Cp866 => 1,
        CodePage::Cp1251 => 2,
    });
    let base = if p.width_dots >= 576 { RenderProfile::generic_80mm() } else { RenderProfile::generic_58mm() };
    RenderProfile {
        name: p.id.clone(),
        width_dots: p.width_dots,
        columns: p.fonts.first().map(|f| f.columns as u16).unwrap_or(base.columns),
        code_pages: pages,
        native_qr: p.native_qr,
        cutter: p.cutter,
        raster_everything: p.raster_everything,
        ..base
    }
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

    /// Renders a stored document with the template version it keeps (recording the current one when it was
    /// never rendered), so a reprint years later is identical.
    pub fn render(
        &self,
        core: &Core,
        answer: &DocumentAnswer,
        opts: &RenderOptions,
        format: Format,
    ) -> Result<Vec<u8>, ApiError> {
        let kind = kind_of(answer)?;
        let (current, diagnostics) = self.renderer.template(kind);
        for d in &diagnostics {
            tracing::warn!(template = %current.name, problem = %d, "template problem; the built-in one was used");
        }
        let current = TemplateRow {
            sha256: current.sha256.clone(),
            name: current.name.clone(),
            source: current.source.to_string(),
        };
        // A control receipt is no journal document: it is drawn with the current template.
        let kept = if answer.is_dummy { current } else { core.template_for(answer.doc.id, current)? };
        let json = document_answer(answer);
        let rendered = self
            .renderer
            .render_with_source(kind, &kept.source, &json, opts, format)
            .map_err(|e| ApiError::new(ErrorCode::MethodExecutionException, format!("rendering failed: {e}")))?;
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
        let data = self.render(core, answer, &opts, format)?;
        // Bytes for a resend after a failure mid-job: the same receipt marked КОПИЯ.
        let copy_data = if reprint {
            None
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
        // A job in the wrong state for the request (cancelling a printed one): a refusal, not a failure.
        e @ S::InvalidState { .. } => ApiError::new(ErrorCode::OperationFailed, e.to_string()),
        other => ApiError::new(ErrorCode::MethodExecutionException, format!("print queue: {other}")),
    }
}
