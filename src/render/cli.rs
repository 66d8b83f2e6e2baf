//! `kassa render`: render a document JSON file (or the self-test page) to a file; `kassa
//! templates check` for integrators' CI; `kassa templates context-doc`.
//!
//! The CLI is where file I/O happens; it calls the same `Renderer` the HTTP API uses.
use super::backend::listing::listing;
use super::{Diagnostic, Format, PrinterProfile, RenderOptions, Renderer, RendererConfig, TemplateKey, TemplateUsed};
use std::path::PathBuf;

/// Output formats of the command line (`escpos-hex` is the annotated listing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CliFormat {
    Png,
    Txt,
    Html,
    Escpos,
    EscposHex,
}

/// Arguments of `kassa render`.
#[derive(Clone, Debug, clap::Args)]
pub struct RenderArgs {
    /// Document JSON (a response_data object or the whole API response).
    #[arg(long, required_unless_present_any = ["self_test", "sample"])]
    pub document: Option<PathBuf>,
    /// Render a bundled sample document (ticket_sale, ticket_return, ticket_markup,
    /// ticket_offline, ticket_20_items_kk, money_placement, x_report, z_report, self_test).
    #[arg(long, conflicts_with = "document")]
    pub sample: Option<String>,
    /// Render the printer self-test page instead of a document.
    #[arg(long)]
    pub self_test: bool,
    #[arg(long, value_enum, default_value = "png")]
    pub format: CliFormat,
    /// Document kind: ticket, money-placement, x-report, z-report, self-test. Inferred from
    /// `command_type`/`report_type` when omitted.
    #[arg(long)]
    pub kind: Option<String>,
    /// PNG width in pixels (default: the profile's width in dots).
    #[arg(long)]
    pub width: Option<i64>,
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    #[arg(long, default_value_t = 128)]
    pub threshold: i64,
    /// Text/HTML columns (default: the profile's).
    #[arg(long)]
    pub columns: Option<i64>,
    /// Heading language: ru, kk, ru+kk, kk+ru.
    #[arg(long, default_value = "ru+kk")]
    pub lang: String,
    /// Mark the output as a copy.
    #[arg(long)]
    pub copy: bool,
    /// Printer profile id from the shipped `profiles/*.toml` or the profiles folder, e.g.
    /// generic-58, generic-80, epson-tm-t88 (an unknown id lists the known ones).
    #[arg(long, default_value = "generic-58")]
    pub profile: String,
    /// Folder of extra printer profiles (default: `spool.profiles_dir` of `--config`).
    #[arg(long)]
    pub profiles_dir: Option<PathBuf>,
    /// Configuration file: its `spool.profiles_dir` and `render.template_dir` are used unless
    /// given as flags.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Send the whole receipt as raster (ESC/POS).
    #[arg(long)]
    pub raster_everything: bool,
    /// Folder with override templates (`kkm/<ofd_id>/` inside for one KKM's own).
    #[arg(long)]
    pub template_dir: Option<PathBuf>,
    /// The KKM (OFD id) whose own templates are used first.
    #[arg(long)]
    pub kkm: Option<String>,
    /// Fail (exit 1, no output written) on any template or markup problem instead of
    /// falling back to the built-in template.
    #[arg(long)]
    pub strict: bool,
    /// Print the template context of the document as JSON instead of rendering.
    #[arg(long)]
    pub dump_context: bool,
    /// Output file (default: standard output).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

/// Arguments of `kassa templates`.
#[derive(Clone, Debug, clap::Args)]
pub struct TemplatesArgs {
    #[command(subcommand)]
    pub command: TemplatesCommand,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum TemplatesCommand {
    /// Check override templates against every bundled sample: exits 1 on any problem, each
    /// reported at the template's line and column. Without --dir, checks the built-ins.
    Check {
        /// The override folder (its `kkm/<ofd_id>/` folders are checked too).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print `docs/template-context.md` (the variables templates see), generated from the code.
    ContextDoc,
    /// Print a built-in template's source (ticket, money-placement, x-report, z-report, self-test).
    Show { kind: String },
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("cannot tell the document kind; pass --kind (ticket, money-placement, x-report, z-report, self-test)")]
    Kind,
    #[error("{0}")]
    Profile(String),
    #[error("unknown sample {0:?}")]
    Sample(String),
    #[error("{0} template problem(s)")]
    Problems(usize),
    #[error(transparent)]
    Render(#[from] super::RenderError),
    #[error(
        "usage: binary output (PNG, ESC/POS) is not written to a terminal; give -o FILE or redirect it (> out.png)"
    )]
    BinaryToTerminal,
}

fn read(path: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.clone(), source })
}

/// Writes to `-o` or standard output; `binary` output (PNG, ESC/POS) never goes to a terminal.
fn write_out(output: &Option<PathBuf>, bytes: &[u8], binary: bool) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, bytes).map_err(|source| CliError::Io { path: path.clone(), source }),
        None => {
            use std::io::{IsTerminal as _, Write as _};
            // A PNG or ESC/POS bytes would garble the terminal (and ESC/POS may even reprogram it).
            if binary && std::io::stdout().is_terminal() {
                return Err(CliError::BinaryToTerminal);
            }
            std::io::stdout().write_all(bytes).map_err(|source| CliError::Io { path: "-".into(), source })
        }
    }
}

/// Finds a printer profile by id (`crate::profiles::lookup` in the binary: the same
/// shipped and user profiles the spooler uses).
pub type ProfileLookup<'a> = &'a dyn Fn(&str) -> Result<PrinterProfile, String>;

fn profile(args: &RenderArgs, lookup: ProfileLookup) -> Result<PrinterProfile, CliError> {
    let mut p = lookup(&args.profile).map_err(CliError::Profile)?;
    if args.raster_everything {
        p.raster_everything = true;
    }
    Ok(p)
}

/// The document of the self-test page: the profile's facts, how Kazakh letters go to the printer, and
/// whether each capability was verified.
pub fn self_test_document(p: &PrinterProfile) -> serde_json::Value {
    let pages: Vec<serde_json::Value> =
        p.code_pages.iter().map(|s| serde_json::json!({"name": s.page.name(), "esc_t": s.esc_t})).collect();
    let kz = p.code_pages.iter().find(|s| s.page == super::codepage::CodePage::Kz1048);
    let kazakh = match (kz, p.raster_everything, p.user_defined_chars) {
        (_, true, _) => "raster (the whole receipt)".to_string(),
        (Some(slot), _, _) => format!("text, KZ-1048 (ESC t {})", slot.esc_t),
        (None, _, true) => "text, downloaded glyphs (ESC & / ESC %)".to_string(),
        (None, _, false) => "raster lines".to_string(),
    };
    // "manual: source" → how it was checked, in the page's words.
    let checked: Vec<serde_json::Value> =
        [("user_defined_chars", "ESC & / ESC %", p.user_defined_chars), ("native_qr", "QR, GS ( k", p.native_qr)]
            .into_iter()
            .filter(|(_, _, on)| *on)
            .map(|(key, what, _)| {
                let how = match p.checked.get(key).and_then(|v| v.split(':').next()).map(str::trim) {
                    Some("hardware") => "checked on this model",
                    Some("manual") => "per the maker's manual",
                    _ => "NOT VERIFIED: check below",
                };
                serde_json::json!({"what": what, "how": how})
            })
            .collect();
    serde_json::json!({
        "profile": {
            "name": p.name,
            "width_dots": p.width_dots,
            "columns": p.columns,
            "native_qr": p.native_qr,
            "cutter": p.cutter,
            "code_pages": pages,
            "kazakh": kazakh,
            "checked": checked,
        }
    })
}

/// Which template a document takes when no `--kind` is named: the country's mapping of its commands
/// (render knows none).
pub type TemplateOf<'a> = &'a dyn Fn(&serde_json::Value) -> Option<TemplateKey>;

/// Runs `kassa render`.
pub fn run(args: RenderArgs, profiles: ProfileLookup, template_of: TemplateOf) -> Result<(), CliError> {
    let profile = profile(&args, profiles)?;
    let (kind, doc) = if args.self_test {
        (TemplateKey::SELF_TEST, self_test_document(&profile))
    } else if let Some(name) = &args.sample {
        let s = super::samples::sample(name).ok_or_else(|| CliError::Sample(name.clone()))?;
        let doc = if s.kind == TemplateKey::SELF_TEST { self_test_document(&profile) } else { s.document };
        (s.kind, doc)
    } else {
        let path = args.document.clone().unwrap_or_default();
        let text = read(&path)?;
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|source| CliError::Json { path, source })?;
        let kind = match &args.kind {
            Some(k) => TemplateKey::from_cli_name(k).ok_or(CliError::Kind)?,
            None => template_of(&doc).ok_or(CliError::Kind)?,
        };
        (kind, doc)
    };
    let opts = RenderOptions {
        image_width: args.width.unwrap_or(profile.width_dots as i64),
        image_scale: args.scale,
        image_pixel_draw_threshold: args.threshold,
        text_columns: args.columns,
        lang: args.lang.clone(),
        copy: args.copy,
        profile,
        headings: Default::default(),
        kkm: args.kkm.clone(),
    };
    if args.dump_context {
        opts.validate().map_err(super::RenderError::from)?;
        let mut json = serde_json::to_string_pretty(&super::context_json(&doc, &opts)).unwrap_or_default();
        json.push('\n');
        return write_out(&args.output, json.as_bytes(), false);
    }
    let format = match args.format {
        CliFormat::Png => Format::Png,
        CliFormat::Txt => Format::Text,
        CliFormat::Html => Format::Html,
        CliFormat::Escpos | CliFormat::EscposHex => Format::EscPos,
    };
    let renderer = Renderer::new(RendererConfig { override_dir: args.template_dir.clone() });
    let (tpl, _) = renderer.template_for(kind, args.kkm.as_deref())?;
    let out = renderer.render(kind, &doc, &opts, format)?;
    let lint = if args.strict { super::template::lint::lint(&tpl) } else { Vec::new() };
    for d in lint.iter().chain(&out.diagnostics) {
        eprintln!("kassa render: {}", d.pretty(&tpl.source));
    }
    if args.strict && !(out.diagnostics.is_empty() && lint.is_empty()) {
        return Err(CliError::Problems(out.diagnostics.len() + lint.len()));
    }
    let bytes = match args.format {
        CliFormat::EscposHex => listing(&out.bytes, &opts.profile).into_bytes(),
        _ => out.bytes,
    };
    write_out(&args.output, &bytes, matches!(args.format, CliFormat::Png | CliFormat::Escpos))?;
    eprintln!(
        "kassa render: {} via {} (sha256 {})",
        args.output.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "stdout".into()),
        out.template.name,
        out.template.sha256
    );
    Ok(())
}

/// Every problem of `tpl` against every sample of its kind, in two languages, original and copy.
pub fn check_template(
    renderer: &Renderer,
    kind: TemplateKey,
    tpl: &TemplateUsed,
    kkm: Option<&str>,
) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = Vec::new();
    for sample in super::samples::samples(kind) {
        for (lang, copy) in [("ru+kk", false), ("kk", true)] {
            let opts =
                RenderOptions { lang: lang.into(), copy, kkm: kkm.map(str::to_string), ..RenderOptions::default() };
            let diags = match renderer.preview(tpl, &sample.document, &opts, Format::Text) {
                Ok(p) => p.diagnostics,
                Err(super::RenderError::Template(d)) => vec![d],
                Err(e) => vec![Diagnostic::new(super::Stage::Template, &tpl.name, e.to_string())],
            };
            let template_failed = diags.iter().any(|d| d.stage == super::Stage::Template);
            for d in diags {
                if !found.contains(&d) {
                    found.push(d);
                }
            }
            // A template that does not compile or run fails the same way on every sample.
            if template_failed {
                return found;
            }
        }
    }
    found
}

/// Runs `kassa templates`.
pub fn templates(args: TemplatesArgs) -> Result<(), CliError> {
    match args.command {
        TemplatesCommand::ContextDoc => write_out(&None, super::context_doc::generate().as_bytes(), false),
        TemplatesCommand::Show { kind } => {
            let kind = TemplateKey::from_cli_name(&kind).ok_or(CliError::Kind)?;
            let source = super::template::store::builtin_source(kind).ok_or(CliError::Kind)?;
            write_out(&None, source.as_bytes(), false)
        }
        TemplatesCommand::Check { dir } => {
            let problems = check_folder(dir.as_deref())?;
            if problems > 0 {
                return Err(CliError::Problems(problems));
            }
            Ok(())
        }
    }
}

/// Checks a folder (and its KKM folders), printing each problem; returns how many.
fn check_folder(dir: Option<&std::path::Path>) -> Result<usize, CliError> {
    let renderer = Renderer::new(RendererConfig { override_dir: dir.map(|d| d.to_path_buf()) });
    let Some(dir) = dir else {
        let mut problems = 0;
        for kind in TemplateKey::ALL {
            let Some(tpl) = Renderer::builtin_template(kind) else { continue };
            problems += report(&check_template(&renderer, kind, &tpl, None), &tpl, "built-in");
        }
        eprintln!(
            "kassa templates check: {} built-in template(s) checked, {problems} problem(s)",
            TemplateKey::ALL.len()
        );
        return Ok(problems);
    };
    let io = |path: &std::path::Path, source| CliError::Io { path: path.to_path_buf(), source };
    let mut folders: Vec<(PathBuf, Option<String>)> = vec![(dir.to_path_buf(), None)];
    if let Ok(rd) = std::fs::read_dir(dir.join("kkm")) {
        let mut kkms: Vec<_> =
            rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        kkms.sort();
        folders.extend(kkms.into_iter().map(|k| (dir.join("kkm").join(&k), Some(k))));
    }
    let mut problems = 0;
    let mut checked = 0;
    for (folder, kkm) in folders {
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .map_err(|e| io(&folder, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".j2"))
            .collect();
        names.sort();
        for name in names {
            let path = folder.join(&name);
            let Some(kind) = TemplateKey::ALL.into_iter().find(|k| k.template_name() == name) else {
                eprintln!(
                    "{}: not a template name (ticket.j2, money_placement.j2, x_report.j2, z_report.j2, self_test.j2); it is never used",
                    path.display()
                );
                problems += 1;
                continue;
            };
            if let Some(k) = &kkm
                && renderer.store().kkm_dir(k).is_none()
            {
                eprintln!("{}: a KKM folder is named by the KKM's OFD id (digits); it is never used", folder.display());
                problems += 1;
                break;
            }
            let source = read(&path)?;
            let tpl = TemplateUsed::new(&name, &source, super::TemplateOrigin::Override(path.clone()));
            problems +=
                report(&check_template(&renderer, kind, &tpl, kkm.as_deref()), &tpl, &path.display().to_string());
            checked += 1;
        }
    }
    eprintln!("kassa templates check: {checked} template(s) checked, {problems} problem(s)");
    Ok(problems)
}

fn report(diags: &[Diagnostic], tpl: &TemplateUsed, label: &str) -> usize {
    for d in diags {
        let mut d = d.clone();
        if d.file == tpl.name {
            d.file = label.to_string();
        }
        eprintln!("{}\n", d.pretty(&tpl.source));
    }
    diags.len()
}
