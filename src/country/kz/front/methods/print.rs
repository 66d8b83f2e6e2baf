//! Printers and receipts: `GetPrinterList` and `GetDocumentImage` of the seed, and the extension methods
//! `RenderDocument`, `PrintDocument`, `GetPrintJobs`, `RetryPrintJob` and `CancelPrintJob`.
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Params;
use crate::country::kz::front::json::IntIn;
use crate::country::kz::front::print::{ImageParams, KzReceipts, spool_error};
use crate::country::kz::{Caller, Core, FiscalError, Role};
use crate::render::options::Format;
use crate::spool::config::{Link, PrinterType};
use crate::spool::{Job, JobFilter, JobKey};
use crate::text;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

pub async fn printer_list(State(state): State<AppState>, Auth(_caller): Auth) -> Result<Response, ApiError> {
    let printing = state.printing.clone();
    let printers = tokio::task::spawn_blocking(move || printing.spooler.discover())
        .await
        .map_err(task_failed)?
        .map_err(spool_error)?;
    Ok(ok(printer_list_json(&printers)))
}

/// The `GetPrinterList` answer of these printers (also what `kassa printers` prints).
pub fn printer_list_json(printers: &[crate::spool::PrinterInfo]) -> serde_json::Value {
    printers
        .iter()
        .map(|p| {
            let mut entry =
                json!({"ID": p.id, "name": p.name, "type": seed_type(p.printer_type), "link": link_kind(&p.link)});
            // Extension field, only when there is something to say (a printer without a status back-channel).
            if let Some(w) = &p.warning {
                entry["warning"] = json!(w);
            }
            entry
        })
        .collect()
}

/// The seed's PrinterTypeEnum (1–3) of a printer: a network or virtual printer takes ESC/POS like a COM one.
pub(crate) fn seed_type(t: PrinterType) -> u8 {
    match t {
        PrinterType::Network | PrinterType::Virtual => PrinterType::Com.code(),
        other => other.code(),
    }
}

/// Extension field `link` of `GetPrinterList`: how the printer is reached (`serial`, `tcp`, `virtual`, ...).
fn link_kind(link: &Link) -> String {
    serde_json::to_value(link)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// A document by its reprint key, with the image parameters.
#[derive(Deserialize)]
pub struct DocumentRequest {
    kkm_ofd_id: IntIn,
    fr_shift_number: IntIn,
    shift_document_number: IntIn,
    #[serde(default = "yes")]
    is_original: bool,
    #[serde(default)]
    image_width: Option<IntIn>,
    #[serde(default)]
    image_scale: Option<f64>,
    #[serde(default)]
    image_pixel_draw_threshold: Option<IntIn>,
    /// `RenderDocument`: png, txt, html or escpos.
    #[serde(default)]
    format: Option<String>,
    /// `PrintDocument`: the printer (default: the KKM's). `RenderDocument`: render for this
    /// printer's profile.
    #[serde(default)]
    printer_id: Option<IntIn>,
    /// `RenderDocument`: render for this printer profile id (e.g. `epson-tm-t88`).
    #[serde(default)]
    profile: Option<String>,
}

fn yes() -> bool {
    true
}

impl DocumentRequest {
    fn params(&self) -> ImageParams {
        ImageParams {
            width: self.image_width.map(|w| w.0),
            scale: self.image_scale,
            threshold: self.image_pixel_draw_threshold.map(|t| t.0),
        }
    }
}

/// Renders the document `req` names in `format`, on a blocking thread.
async fn render(
    state: &AppState,
    caller: crate::country::kz::Caller,
    req: &DocumentRequest,
    format: Format,
) -> Result<Vec<u8>, ApiError> {
    let mut opts = state.printing.options(req.params(), !req.is_original)?;
    // For a named profile or printer: its width in dots, its columns, its code pages.
    if let Some(p) = state.printing.target_profile(req.profile.as_deref(), req.printer_id.map(|p| p.0))? {
        if req.image_width.is_none() {
            opts.image_width = i64::from(p.width_dots);
        }
        crate::receipt::use_profile(&mut opts, p);
    }
    let (ofd_id, shift, number) = (req.kkm_ofd_id.0, req.fr_shift_number.0, req.shift_document_number.0);
    let (core, printing) = (state.core.clone(), state.printing.clone());
    tokio::task::spawn_blocking(move || {
        // Shift 0 holds a tax inspector's control receipts, kept apart from the journal.
        let answer = if shift == 0 {
            core.control_receipt_at(&caller, ofd_id, number)?
        } else {
            let (kkm, doc) = core.document_at(&caller, ofd_id, shift, number)?;
            core.answer(kkm.id, doc.ledger_id)?
        };
        printing.render_document(&core, &answer, &opts, format)
    })
    .await
    .map_err(task_failed)?
}

/// A blocking task that did not finish: code 4, its reason in the log.
fn task_failed(e: tokio::task::JoinError) -> ApiError {
    tracing::error!(error = %e, "a blocking task failed");
    ApiError::new(crate::country::kz::front::ErrorCode::MethodExecutionException, "")
}

/// `GetDocumentImage`: the PNG of a stored document, drawn with the template version it was first rendered
/// with. An unknown document answers the JSON envelope with 37 (the vendor's `operation_not_found`), never an
/// empty image.
pub async fn document_image(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<DocumentRequest>,
) -> Result<Response, ApiError> {
    let png = render(&state, caller, &req, Format::Png).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// `RenderDocument` (extension): the same document as text, HTML, ESC/POS (base64) or PNG (base64).
pub async fn render_document(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<DocumentRequest>,
) -> Result<Response, ApiError> {
    let name = req.format.clone().unwrap_or_else(|| "txt".into());
    let format = match name.as_str() {
        "txt" | "text" => Format::Text,
        "html" => Format::Html,
        "escpos" => Format::EscPos,
        "png" => Format::Png,
        _ => {
            return Err(ApiError::field(
                "format",
                text!("{:?}: txt, html, escpos или png", "{:?}: txt, html, escpos немесе png", name),
            ));
        }
    };
    let bytes = render(&state, caller, &req, format).await?;
    let content = match format {
        Format::Text | Format::Html | Format::GridText | Format::GridHtml => {
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Format::EscPos | Format::Png | Format::GridEscPos => base64::engine::general_purpose::STANDARD.encode(&bytes),
    };
    let encoding = if matches!(format, Format::Text | Format::Html) { "utf-8" } else { "base64" };
    Ok(ok(json!({"format": name, "encoding": encoding, "content": content})))
}

/// `PrintDocument` (extension): prints a stored document again, marked as a copy.
pub async fn print_document(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<DocumentRequest>,
) -> Result<Response, ApiError> {
    let (core, printing) = (state.core.clone(), state.printing.clone());
    let job = tokio::task::spawn_blocking(move || {
        let (kkm, doc) =
            core.document_at(&caller, req.kkm_ofd_id.0, req.fr_shift_number.0, req.shift_document_number.0)?;
        let answer = core.answer(kkm.id, doc.ledger_id)?;
        printing.enqueue_document(&core, &answer, req.params(), req.printer_id.map(|p| p.0), true)
    })
    .await
    .map_err(task_failed)??;
    Ok(ok(json!({"job_id": job})))
}

#[derive(Deserialize)]
pub struct JobsRequest {
    #[serde(default)]
    printer_id: Option<IntIn>,
    #[serde(default)]
    active_only: bool,
    #[serde(default)]
    limit: Option<u32>,
}

/// Whether `caller` may see and act on `job`, by the rules of the fiscal methods: a receipt's job belongs to
/// its KKM (administrators: every KKM; others: bound KKMs, 72 otherwise); any other job (a test page) is
/// administrators' only (71).
fn may_handle(core: &Core, caller: &Caller, job: &Job) -> Result<(), FiscalError> {
    match &job.key {
        JobKey::Document { kkm, .. } => {
            let ofd_id = kkm.parse::<i64>().map_err(|_| FiscalError::Internal(format!("print job KKM {kkm:?}")))?;
            core.kkm_for_reading(caller, ofd_id).map(|_| ())
        }
        JobKey::Label(_) => caller.require_admin(crate::text!(
            "управлять заданиями печати без кассы",
            "кассасыз басып шығару тапсырмаларын басқара"
        )),
    }
}

/// Checks that `caller` may act on job `id`; an unknown job is 2 naming `id`.
async fn check_job(state: &AppState, caller: Caller, id: i64) -> Result<(), ApiError> {
    let job = state.printing.spooler.job(id).map_err(spool_error)?;
    let job = job.ok_or_else(|| {
        ApiError::field("id", text!("нет задания печати с ID {}", "ID {} басып шығару тапсырмасы жоқ", id))
    })?;
    state.call(move |core| may_handle(core, &caller, &job)).await
}

/// `GetPrintJobs` (extension): print jobs with their states, oldest first (newest first with `limit`); a
/// caller below administrator sees only the jobs of its bound KKMs.
pub async fn print_jobs(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<JobsRequest>,
) -> Result<Response, ApiError> {
    let admin = caller.role == Role::Administrator;
    let filter = JobFilter {
        printer_id: req.printer_id.map(|p| p.0),
        active_only: req.active_only,
        limit: if admin { req.limit } else { None },
        ..Default::default()
    };
    let jobs = state.printing.spooler.list_jobs(&filter).map_err(spool_error)?;
    if admin {
        return Ok(ok(jobs));
    }
    let mut jobs: Vec<Job> = state
        .call(move |core| Ok(jobs.into_iter().filter(|job| may_handle(core, &caller, job).is_ok()).collect()))
        .await?;
    if let Some(limit) = req.limit {
        // The same answer as the queue's own limit: the newest `limit`, newest first.
        jobs.reverse();
        jobs.truncate(limit as usize);
    }
    Ok(ok(jobs))
}

#[derive(Deserialize)]
pub struct JobRequest {
    #[serde(alias = "ID")]
    id: IntIn,
}

/// `RetryPrintJob` (extension): sends a failed or paused job again now.
pub async fn retry_job(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<JobRequest>,
) -> Result<Response, ApiError> {
    check_job(&state, caller, req.id.0).await?;
    state.printing.spooler.retry(req.id.0).map_err(spool_error)?;
    Ok(ok("ok"))
}

/// `CancelPrintJob` (extension): drops a job that has not printed yet; a job being sent stops at the next
/// command boundary, and the answer says how much of it had gone to the printer.
pub async fn cancel_job(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<JobRequest>,
) -> Result<Response, ApiError> {
    check_job(&state, caller, req.id.0).await?;
    let spooler = state.printing.spooler.clone();
    let outcome = tokio::task::spawn_blocking(move || spooler.cancel(req.id.0))
        .await
        .map_err(task_failed)?
        .map_err(spool_error)?;
    Ok(ok(outcome))
}
