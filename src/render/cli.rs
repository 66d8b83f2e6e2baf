//! `kassa render`: render a document JSON file (or the self-test page) to a file.
//!
//! The CLI is where file I/O happens; it calls the same `Renderer` the HTTP API uses.
use super::backend::listing::listing;
use super::{DocumentKind, Format, PrinterProfile, RenderOptions, Renderer, RendererConfig};
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
    #[arg(long, required_unless_present = "self_test")]
    pub document: Option<PathBuf>,
    /// Render the printer self-test page instead of a document.
    #[arg(long)]
    pub self_test: bool,
    #[arg(long, value_enum, default_value = "png")]
    pub format: CliFormat,
    /// Document kind: ticket, money-placement, x-report, z-report, self-test. Inferred from
    /// `command_type`/`report_type` when omitted.
    #[arg(long)]
    pub kind: Option<String>,
    /// PNG width in pixels; 576 or more also selects the 80 mm profile.
    #[arg(long, default_value_t = 384)]
    pub width: i64,
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
    /// Printer profile: 58mm, 80mm, epson-80mm-kz, or a JSON file.
    #[arg(long)]
    pub profile: Option<String>,
    /// Send the whole receipt as raster (ESC/POS).
    #[arg(long)]
    pub raster_everything: bool,
    /// Folder with override templates.
    #[arg(long)]
    pub template_dir: Option<PathBuf>,
    /// Output file.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
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
    #[error("unknown profile {0:?}; use 58mm, 80mm, epson-80mm-kz or a JSON file")]
    Profile(String),
    #[error(transparent)]
    Render(#[from] super::RenderError),
}

fn read(path: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.clone(), source })
}

fn profile(args: &RenderArgs) -> Result<PrinterProfile, CliError> {
    let mut p = match args.profile.as_deref() {
        None if args.width >= 576 => PrinterProfile::generic_80mm(),
        None | Some("58mm") => PrinterProfile::generic_58mm(),
        Some("80mm") => PrinterProfile::generic_80mm(),
        Some("epson-80mm-kz") => PrinterProfile::epson_80mm_kz(),
        Some(file) => {
            let path = PathBuf::from(file);
            let text = read(&path)?;
            serde_json::from_str(&text).map_err(|source| CliError::Json { path, source })?
        }
    };
    if args.raster_everything {
        p.raster_everything = true;
    }
    Ok(p)
}

/// The document of the self-test page: the profile's facts.
pub fn self_test_document(p: &PrinterProfile) -> serde_json::Value {
    let pages: Vec<serde_json::Value> =
        p.code_pages.iter().map(|s| serde_json::json!({"name": s.page.name(), "esc_t": s.esc_t})).collect();
    serde_json::json!({
        "profile": {
            "name": p.name,
            "width_dots": p.width_dots,
            "columns": p.columns,
            "native_qr": p.native_qr,
            "cutter": p.cutter,
            "code_pages": pages,
        }
    })
}

/// Runs `kassa render`.
pub fn run(args: RenderArgs) -> Result<(), CliError> {
    let profile = profile(&args)?;
    let (kind, doc) = if args.self_test {
        (DocumentKind::SelfTest, self_test_document(&profile))
    } else {
        let path = args.document.clone().unwrap_or_default();
        let text = read(&path)?;
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|source| CliError::Json { path, source })?;
        let kind = match &args.kind {
            Some(k) => DocumentKind::from_cli_name(k).ok_or(CliError::Kind)?,
            None => DocumentKind::infer(&doc).ok_or(CliError::Kind)?,
        };
        (kind, doc)
    };
    let opts = RenderOptions {
        image_width: args.width,
        image_scale: args.scale,
        image_pixel_draw_threshold: args.threshold,
        text_columns: args.columns,
        lang: args.lang.clone(),
        copy: args.copy,
        profile,
        headings: Default::default(),
    };
    let format = match args.format {
        CliFormat::Png => Format::Png,
        CliFormat::Txt => Format::Text,
        CliFormat::Html => Format::Html,
        CliFormat::Escpos | CliFormat::EscposHex => Format::EscPos,
    };
    let renderer = Renderer::new(RendererConfig { override_dir: args.template_dir.clone() });
    let out = renderer.render(kind, &doc, &opts, format)?;
    for d in &out.diagnostics {
        eprintln!("kassa render: {d}");
    }
    let bytes = match args.format {
        CliFormat::EscposHex => listing(&out.bytes, &opts.profile).into_bytes(),
        _ => out.bytes,
    };
    std::fs::write(&args.output, bytes).map_err(|source| CliError::Io { path: args.output.clone(), source })?;
    eprintln!("kassa render: {} via {} (sha256 {})", args.output.display(), out.template.name, out.template.sha256);
    Ok(())
}
