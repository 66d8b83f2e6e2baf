//! The template playground (`/playground`): the page's files, and its extension methods in the same JSON
//! envelope, for administrators only (71 otherwise).
//!
//! `PlaygroundInit` lists what the page offers (kinds, samples, journal documents, profiles, printers,
//! KKMs); `PlaygroundTemplate` the template in force and its saved versions; `PlaygroundRender` renders
//! an edited source exactly (no fallback), in every format, with its problems at their lines;
//! `PlaygroundSave` writes the override (shared or per KKM) and keeps the version it replaces;
//! `PlaygroundPrint` sends a test print. Documents keep the template version that first rendered them,
//! so saving never changes a reprint.
use super::answer::document_answer;
use crate::country::kz::access::Role;
use crate::country::kz::books::JournalFilter;
use crate::country::kz::front::AppState;
use crate::country::kz::front::auth::Auth;
use crate::country::kz::front::codes::ErrorCode;
use crate::country::kz::front::error::{ApiError, ok};
use crate::country::kz::front::extract::Params;
use crate::country::kz::front::print::{render_profile, spool_error};
use crate::country::kz::{Caller, Core};
use crate::render::backend::listing::listing;
use crate::render::{
    Diagnostic, Format, PrinterProfile, RenderError, RenderOptions, Renderer, Stage, TemplateKey, TemplateOrigin,
    TemplateUsed,
};
use crate::spool::config::{DocFormat, PrinterType};
use crate::spool::{JobKey, JobRequest};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Journal documents offered per KKM, newest first.
const DOCUMENTS_PER_KKM: usize = 30;
/// How far back the journal is read for them (a busy till writes thousands of receipts a week).
const JOURNAL_DAYS: i64 = 7;
/// Paper speed assumed for the seconds-to-paper estimate: a common figure for receipt printers.
const PAPER_MM_PER_SECOND: f64 = 150.0;
/// Largest template source accepted from the page.
const MAX_SOURCE_BYTES: usize = 256 * 1024;

const PAGE: &str = include_str!("../../../../../web/playground/index.html");
const SCRIPT: &str = include_str!("../../../../../web/playground/app.js");
const STYLE: &str = include_str!("../../../../../web/playground/app.css");

/// The page and its assets: static, outside the method table (every call the page makes needs the PIN).
pub fn pages() -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/playground", get(page))
        .route("/playground/app.js", get(script))
        .route("/playground/app.css", get(style))
}

/// `GET /playground`: the page (static; every call it makes needs the administrator PIN).
pub async fn page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], PAGE).into_response()
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SCRIPT)
        .into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], STYLE).into_response()
}

fn admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Administrator {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::KkmAccessDenied,
            crate::text!("песочница — для администраторов", "құмсалғыш әкімшілерге арналған"),
        ))
    }
}

fn failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::MethodExecutionException, e.to_string())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(failed)?
}

/// Sets a render's cancel flag when dropped: when the request's future goes, its client left.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs rendering work off the async threads; it stops at its next step once the client leaves
/// (`render::template::cancellable`), so an abandoned render does not keep a thread busy.
async fn rendering<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    let flag = Arc::new(AtomicBool::new(false));
    let _cancel = CancelOnDrop(flag.clone());
    blocking(move || {
        let (out, cut) = crate::render::template::cancellable(&flag, f);
        if cut {
            tracing::info!("render cancelled: the client left");
        }
        out
    })
    .await
}

/// Stops rendering work whose client left.
fn still_wanted() -> Result<(), ApiError> {
    if crate::render::template::cancelled() {
        return Err(ApiError::new(
            ErrorCode::MethodExecutionException,
            crate::text!("отрисовка прервана: клиент ушёл", "сызу тоқтатылды: клиент кетті"),
        ));
    }
    Ok(())
}

fn kind_name(kind: TemplateKey) -> Value {
    Value::from(kind.stem())
}

fn parse_kind(name: &str) -> Result<TemplateKey, ApiError> {
    TemplateKey::from_stem(name).ok_or_else(|| {
        ApiError::field(
            "kind",
            crate::text!(
                "ticket, money_placement, x_report, z_report или self_test",
                "ticket, money_placement, x_report, z_report немесе self_test"
            ),
        )
    })
}

fn kkm_key(kkm: Option<i64>) -> Option<String> {
    kkm.map(|k| k.to_string())
}

/// `PlaygroundInit`: everything the page's pickers offer.
pub async fn init(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    admin(&caller)?;
    let (core, printing) = (state.core.clone(), state.printing.clone());
    let answer = blocking(move || {
        let mut kkms = Vec::new();
        let mut documents = Vec::new();
        for kkm in core.kkm_list(&caller, None)? {
            let ofd_id = kkm.settings.ofd_id;
            kkms.push(json!({"ofd_id": ofd_id, "name": kkm.settings.local_name}));
            let since = chrono::Local::now().naive_local() - chrono::Duration::days(JOURNAL_DAYS);
            let rows =
                core.journal(&caller, ofd_id, JournalFilter { from: Some(since), ..JournalFilter::default() })?;
            for doc in rows.iter().rev().take(DOCUMENTS_PER_KKM) {
                let report_type = doc.extra.get("report_type").and_then(|v| v.as_i64());
                let Some(kind) =
                    crate::country::kz::front::print::template_of_command(i64::from(doc.command), report_type)
                else {
                    continue;
                };
                documents.push(json!({
                    "kkm_ofd_id": ofd_id, "kind": kind_name(kind), "fr_shift_number": doc.fr_shift_number,
                    "shift_document_number": doc.shift_document_number, "fiscal_id": doc.fiscal_id,
                    "date": doc.created_at.format("%d.%m.%Y %H:%M:%S").to_string(),
                }));
            }
        }
        let samples: Vec<Value> = TemplateKey::ALL
            .iter()
            .flat_map(|k| crate::render::samples::samples(*k))
            .map(|s| json!({"name": s.name, "kind": kind_name(s.kind)}))
            .collect();
        let profiles: Vec<Value> = printing
            .spooler
            .profiles()
            .values()
            .map(|p| {
                let r = render_profile(p);
                json!({"id": p.id, "name": p.name, "width_dots": r.width_dots, "columns": r.columns,
                    "link_baud": p.link_baud})
            })
            .collect();
        let printers: Vec<Value> = printing
            .spooler
            .printers()
            .map_err(spool_error)?
            .iter()
            .map(|p| json!({"ID": p.id, "name": p.name, "type": p.printer_type.code()}))
            .collect();
        let kinds: Vec<Value> =
            TemplateKey::ALL.iter().map(|k| json!({"kind": kind_name(*k), "template": k.template_name()})).collect();
        Ok(json!({"kinds": kinds, "samples": samples, "documents": documents, "profiles": profiles,
            "printers": printers, "kkms": kkms}))
    })
    .await?;
    Ok(ok(answer))
}

#[derive(Deserialize)]
pub struct TemplateRequest {
    kind: String,
    #[serde(default)]
    kkm_ofd_id: Option<i64>,
    /// A saved version's name (from `history`): answers that version's source instead.
    #[serde(default)]
    version: Option<String>,
}

/// The variables a template can use, per template file, from `docs/template-context.md` (generated from
/// the code and checked by a test, so the panel is as true as the document).
const CONTEXT_DOC: &str = include_str!("../../../../../docs/template-context.md");

/// `{name, type, example}` of each variable the template `file` sees, the ones added to every document first.
fn variables(file: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut section: Option<bool> = None;
    for line in CONTEXT_DOC.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            let wanted = heading.starts_with("Added to every document") || heading.contains(&format!("(`{file}`"));
            section = Some(wanted);
            continue;
        }
        if section != Some(true) {
            continue;
        }
        let cells: Vec<&str> = line.split(" | ").map(|c| c.trim_matches(|ch| ch == '|' || ch == ' ')).collect();
        if let [name, kind, example] = cells[..]
            && let Some(name) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`'))
        {
            out.push(json!({"name": name, "type": kind, "example": example.replace("\\|", "|")}));
        }
    }
    out
}

/// A saved version as the page lists it: its file name, when it was replaced, its SHA-256 prefix.
fn version_entry(path: &std::path::Path) -> Option<Value> {
    let name = path.file_name()?.to_str()?;
    let mut parts = name.rsplitn(3, '.');
    let sha = parts.next().unwrap_or("");
    let secs: i64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let when = chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.with_timezone(&chrono::Local).format("%d.%m.%Y %H:%M:%S").to_string())
        .unwrap_or_default();
    Some(json!({"name": name, "replaced_at": when, "sha256": sha}))
}

fn origin_name(origin: &TemplateOrigin, renderer: &Renderer) -> &'static str {
    match origin {
        TemplateOrigin::Builtin => "builtin",
        TemplateOrigin::Stored => "stored",
        TemplateOrigin::Override(path) => {
            let shared = renderer.store().override_dir().map(|d| path.parent() == Some(d)).unwrap_or(false);
            if shared { "shared" } else { "kkm" }
        }
    }
}

/// `PlaygroundTemplate`: the template in force for a kind (on a KKM), and its saved versions.
pub async fn template(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<TemplateRequest>,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let kind = parse_kind(&req.kind)?;
    let printing = state.printing.clone();
    let kkm = kkm_key(req.kkm_ofd_id);
    let answer = blocking(move || {
        let renderer = &printing.renderer;
        let saved = renderer.store().history(kind, kkm.as_deref());
        if let Some(version) = &req.version {
            let path = saved
                .iter()
                .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(version.as_str()))
                .ok_or_else(|| ApiError::field("version", format!("no saved version {version:?} of this template")))?;
            let source = std::fs::read_to_string(path).map_err(failed)?;
            return Ok(json!({"kind": kind_name(kind), "version": version, "source": source}));
        }
        let (tpl, diagnostics) = renderer.template_for(kind, kkm.as_deref()).map_err(render_failed)?;
        let history: Vec<Value> = saved.iter().filter_map(|p| version_entry(p)).collect();
        Ok(json!({
            "variables": variables(&kind.template_name()),
            "kind": kind_name(kind), "name": tpl.name, "source": tpl.source.to_string(), "sha256": tpl.sha256,
            "origin": origin_name(&tpl.origin, renderer), "history": history, "diagnostics": diagnostics,
            "builtin": Renderer::builtin_template(kind).map(|t| t.source.to_string()).unwrap_or_default(),
        }))
    })
    .await?;
    Ok(ok(answer))
}

/// Which document to render: a bundled sample or a journal document.
#[derive(Deserialize, Default)]
pub struct DocumentRef {
    #[serde(default)]
    sample: Option<String>,
    #[serde(default)]
    kkm_ofd_id: Option<i64>,
    #[serde(default)]
    fr_shift_number: Option<i64>,
    #[serde(default)]
    shift_document_number: Option<i64>,
}

#[derive(Deserialize)]
pub struct RenderRequest {
    kind: String,
    source: String,
    #[serde(default)]
    document: DocumentRef,
    /// Printer profile id (default generic-58).
    #[serde(default)]
    profile: Option<String>,
    /// The KKM whose folder supplies `@image` files (and gets the saved override).
    #[serde(default)]
    kkm_ofd_id: Option<i64>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    copy: bool,
    #[serde(default)]
    image_scale: Option<f64>,
    #[serde(default)]
    image_pixel_draw_threshold: Option<i64>,
    /// `PlaygroundPrint`: the printer.
    #[serde(default)]
    printer_id: Option<i64>,
}

impl RenderRequest {
    fn checked(&self) -> Result<(TemplateKey, TemplateUsed), ApiError> {
        let kind = parse_kind(&self.kind)?;
        if self.source.len() > MAX_SOURCE_BYTES {
            return Err(ApiError::field(
                "source",
                crate::text!("длиннее {} байт", "{} байттан ұзын", MAX_SOURCE_BYTES),
            ));
        }
        Ok((kind, TemplateUsed::new(&kind.template_name(), &self.source, TemplateOrigin::Stored)))
    }
}

/// The document JSON a playground render uses.
fn document(
    core: &Core,
    caller: &Caller,
    kind: TemplateKey,
    r: &DocumentRef,
    profile: &PrinterProfile,
) -> Result<Value, ApiError> {
    if let (Some(ofd_id), Some(shift), Some(number)) = (r.kkm_ofd_id, r.fr_shift_number, r.shift_document_number) {
        let (kkm, doc) = core.document_at(caller, ofd_id, shift, number)?;
        return Ok(document_answer(core.answer(kkm.id, doc.ledger_id)?));
    }
    if kind == TemplateKey::SELF_TEST {
        return Ok(crate::render::cli::self_test_document(profile));
    }
    let samples = crate::render::samples::samples(kind);
    let wanted = r.sample.as_deref();
    samples.iter().find(|s| wanted.is_none_or(|w| w == s.name)).map(|s| s.document.clone()).ok_or_else(|| {
        ApiError::field("document", crate::text!("нет такого образца для этого вида", "бұл түрге мұндай үлгі жоқ"))
    })
}

/// Options and the spooler profile for a request.
fn options(
    state: &AppState,
    req: &RenderRequest,
) -> Result<(RenderOptions, crate::spool::profile::PrinterProfile), ApiError> {
    let id = req.profile.as_deref().unwrap_or("generic-58");
    let spool_profile = state.printing.spooler.profiles().get(id).cloned().ok_or_else(|| {
        ApiError::field("profile", crate::text!("нет профиля принтера {:?}", "{:?} принтер профилі жоқ", id))
    })?;
    let profile = render_profile(&spool_profile);
    let defaults = RenderOptions::default();
    let opts = RenderOptions {
        image_width: i64::from(profile.width_dots),
        image_scale: req.image_scale.unwrap_or(defaults.image_scale),
        image_pixel_draw_threshold: req.image_pixel_draw_threshold.unwrap_or(defaults.image_pixel_draw_threshold),
        lang: req.lang.clone().unwrap_or_else(|| state.printing.lang.clone()),
        copy: req.copy,
        profile,
        kkm: kkm_key(req.kkm_ofd_id),
        ..defaults
    };
    opts.validate().map_err(|e| ApiError::field(e.field(), e.to_string()))?;
    Ok((opts, spool_profile))
}

fn render_failed(e: RenderError) -> ApiError {
    match e {
        RenderError::Options(o) => ApiError::field(o.field(), o.to_string()),
        RenderError::TooLarge(why) => ApiError::field("source", why),
        other => failed(other),
    }
}

/// `PlaygroundRender`: the edited template exactly as written, in every format, with its problems.
pub async fn render(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<RenderRequest>,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let (kind, tpl) = req.checked()?;
    let (opts, spool_profile) = options(&state, &req)?;
    let (core, printing) = (state.core.clone(), state.printing.clone());
    let answer = rendering(move || {
        let doc = document(&core, &caller, kind, &req.document, &opts.profile)?;
        let renderer = &printing.renderer;
        let text = match renderer.preview(&tpl, &doc, &opts, Format::Text) {
            Ok(p) => p,
            Err(RenderError::Template(d)) => {
                return Ok(json!({"ok": false, "diagnostics": [d], "sha256": tpl.sha256}));
            }
            Err(e) => return Err(render_failed(e)),
        };
        // A template that draws more than a render may take is the template's problem, shown as one.
        let too_large = |why: String| {
            json!({"ok": false, "sha256": tpl.sha256,
            "diagnostics": [Diagnostic::new(Stage::Markup, &tpl.name, why)]})
        };
        let encode = |format: Format| -> Result<Result<(Vec<u8>, u32), String>, ApiError> {
            still_wanted()?;
            let p = renderer.preview(&tpl, &doc, &opts, format).map_err(render_failed)?;
            still_wanted()?;
            match crate::render::encode(&p.layout, &opts, format) {
                Ok(bytes) => Ok(Ok((bytes, p.layout.height))),
                Err(RenderError::TooLarge(why)) => Ok(Err(why)),
                Err(e) => Err(render_failed(e)),
            }
        };
        still_wanted()?;
        let (txt, html) = match crate::render::encode(&text.layout, &opts, Format::Text)
            .and_then(|txt| Ok((txt, crate::render::encode(&text.layout, &opts, Format::Html)?)))
        {
            Ok(both) => both,
            Err(RenderError::TooLarge(why)) => return Ok(too_large(why)),
            Err(e) => return Err(render_failed(e)),
        };
        let (png, _) = match encode(Format::Png)? {
            Ok(drawn) => drawn,
            Err(why) => return Ok(too_large(why)),
        };
        let (escpos, height_dots) = match encode(Format::EscPos)? {
            Ok(drawn) => drawn,
            Err(why) => return Ok(too_large(why)),
        };
        let link_seconds = spool_profile.link_baud.map(|baud| escpos.len() as f64 * 10.0 / f64::from(baud.max(1)));
        let paper_mm = f64::from(height_dots) * 25.4 / f64::from(spool_profile.dpi.max(1));
        let paper_seconds = paper_mm / PAPER_MM_PER_SECOND;
        Ok(json!({
            "ok": text.diagnostics.is_empty(),
            "diagnostics": text.diagnostics,
            "sha256": tpl.sha256,
            "text": String::from_utf8_lossy(&txt),
            "html": String::from_utf8_lossy(&html),
            "png": base64::engine::general_purpose::STANDARD.encode(&png),
            "escpos": {
                "bytes": escpos.len(),
                "data": base64::engine::general_purpose::STANDARD.encode(&escpos),
                "listing": listing(&escpos, &opts.profile),
                "link_baud": spool_profile.link_baud,
                "link_seconds": link_seconds,
                "paper_mm": (paper_mm * 10.0).round() / 10.0,
                "paper_seconds": (paper_seconds * 100.0).round() / 100.0,
                "seconds": (link_seconds.unwrap_or(0.0).max(paper_seconds) * 100.0).round() / 100.0,
            },
        }))
    })
    .await?;
    Ok(ok(answer))
}

/// The problems of a source against every sample of its kind; an error naming the first if any.
fn must_be_clean(
    renderer: &Renderer,
    kind: TemplateKey,
    tpl: &TemplateUsed,
    kkm: Option<&str>,
) -> Result<(), ApiError> {
    let problems: Vec<Diagnostic> = crate::render::cli::check_template(renderer, kind, tpl, kkm);
    match problems.first() {
        None => Ok(()),
        Some(d) => Err(ApiError::field("source", format!("{} problem(s); first: {d}", problems.len()))),
    }
}

/// `PlaygroundSave`: checks the source against the samples, then writes it as the override (for a KKM,
/// or shared), keeping the version it replaces.
pub async fn save(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<RenderRequest>,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let (kind, tpl) = req.checked()?;
    let printing = state.printing.clone();
    let kkm = kkm_key(req.kkm_ofd_id);
    if let Some(ofd_id) = req.kkm_ofd_id {
        let core = state.core.clone();
        let caller = caller.clone();
        blocking(move || core.kkm_for(&caller, ofd_id).map(|_| ()).map_err(ApiError::from)).await?;
    }
    let answer = rendering(move || {
        let renderer = &printing.renderer;
        must_be_clean(renderer, kind, &tpl, kkm.as_deref())?;
        still_wanted()?;
        let path = renderer.store().save(kind, kkm.as_deref(), &tpl.source).map_err(failed)?;
        tracing::info!(template = %tpl.name, sha256 = %tpl.sha256, path = %path.display(), "template saved from the playground");
        let history = renderer.store().history(kind, kkm.as_deref()).len();
        Ok(json!({"saved": path.display().to_string(), "sha256": tpl.sha256, "history": history}))
    })
    .await?;
    Ok(ok(answer))
}

/// `PlaygroundPrint`: a test print of the edited template on a printer (marked as a test, not fiscal).
pub async fn print(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<RenderRequest>,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let (kind, tpl) = req.checked()?;
    let printer_id = req
        .printer_id
        .ok_or_else(|| ApiError::field("printer_id", crate::text!("выберите принтер", "принтерді таңдаңыз")))?;
    let (mut opts, _) = options(&state, &req)?;
    let (core, printing) = (state.core.clone(), state.printing.clone());
    let job = rendering(move || {
        let printers = printing.spooler.printers().map_err(spool_error)?;
        let printer = printers.iter().find(|p| p.id == printer_id).ok_or_else(|| {
            ApiError::field("printer_id", crate::text!("нет принтера с ID {}", "ID {} принтері жоқ", printer_id))
        })?;
        opts.profile = render_profile(&printing.spooler.profile(printer_id).map_err(spool_error)?);
        opts.image_width = i64::from(opts.profile.width_dots);
        let doc = document(&core, &caller, kind, &req.document, &opts.profile)?;
        let (format, doc_format) = match printer.printer_type {
            PrinterType::System => (Format::Png, DocFormat::Png),
            _ => (Format::EscPos, DocFormat::EscPos),
        };
        let prepared = printing.renderer.preview(&tpl, &doc, &opts, format).map_err(|e| match e {
            RenderError::Template(d) => ApiError::field("source", d.to_string()),
            other => render_failed(other),
        })?;
        if let Some(d) = prepared.diagnostics.first() {
            return Err(ApiError::field("source", d.to_string()));
        }
        still_wanted()?;
        let bytes = crate::render::encode(&prepared.layout, &opts, format).map_err(render_failed)?;
        let key = JobKey::Label(format!("playground test {} {}", tpl.name, &tpl.sha256[..12]));
        printing.spooler.enqueue(JobRequest::new(printer_id, key, doc_format, bytes)).map_err(spool_error)
    })
    .await?;
    Ok(ok(json!({"job_id": job})))
}

#[derive(Deserialize)]
pub struct UploadRequest {
    /// The file name `@image` will use (`logo.png`).
    name: String,
    /// The PNG, base64.
    content: String,
    /// The KKM whose folder gets it; shared when absent.
    #[serde(default)]
    kkm_ofd_id: Option<i64>,
}

/// `PlaygroundUpload`: a picture (a logo) beside the templates, for `@image <name>`.
pub async fn upload(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Params(req): Params<UploadRequest>,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.content.trim())
        .map_err(|e| ApiError::field("content", format!("not base64: {e}")))?;
    if let Some(ofd_id) = req.kkm_ofd_id {
        let core = state.core.clone();
        let caller = caller.clone();
        blocking(move || core.kkm_for(&caller, ofd_id).map(|_| ()).map_err(ApiError::from)).await?;
    }
    let printing = state.printing.clone();
    let kkm = kkm_key(req.kkm_ofd_id);
    let path = blocking(move || {
        printing
            .renderer
            .store()
            .save_image(&req.name, kkm.as_deref(), &bytes)
            .map_err(|e| ApiError::field("content", e))
    })
    .await?;
    tracing::info!(path = %path.display(), "picture uploaded from the playground");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    Ok(ok(json!({"saved": name})))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_variables_panel_reads_the_context_document() {
        let vars = super::variables("ticket.j2");
        let names: Vec<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
        assert!(names.contains(&"lang"), "the variables of every document come first: {names:?}");
        assert!(names.contains(&"body.amounts.total"), "{names:?}");
        assert!(!super::variables("z_report.j2").iter().any(|v| v["name"] == "body.amounts.total"));
    }
}
