//! `kassa printer self-test NAME`: the self-test page (the profile's facts, the Kazakh letters as this
//! printer gets them, every code page's sample and a QR code) laid out for a configured printer's profile and
//! sent straight over its link, so a shop checks a printer and its profile in one step.
//!
//! The page does not go through the print queue: it is no document, and the command works while the server
//! is stopped. A printer the server holds open (a serial port, a usblp device) answers busy; TCP printers
//! take it between the server's jobs.
use crate::config::Config;
use crate::render::{Format, RenderOptions, Renderer, RendererConfig, TemplateKey};
use crate::spool::config::{Link, PrinterType, SpoolConfig};
use crate::spool::transport;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `kassa printer`.
#[derive(Debug, clap::Args)]
pub struct PrinterArgs {
    #[command(subcommand)]
    pub command: PrinterCommand,
}

/// What `kassa printer` does.
#[derive(Debug, clap::Subcommand)]
pub enum PrinterCommand {
    /// Print the self-test page on a configured printer: Kazakh letters, code pages, a QR code.
    SelfTest(SelfTestArgs),
}

/// `kassa printer self-test NAME`.
#[derive(Debug, clap::Args)]
pub struct SelfTestArgs {
    /// The printer's `name` in the configuration's `[[spool.printers]]` (`virtual` without one).
    pub name: String,
    /// The configuration file of `kassa serve` (its `[spool]` section and `spool.profiles_dir`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Heading language: ru, kk, ru+kk or kk+ru.
    #[arg(long, default_value = "ru+kk")]
    pub lang: String,
    /// Write the page's bytes to this file instead of sending them.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// Runs `kassa printer`; the lines to print.
pub fn run(args: PrinterArgs) -> Result<String, String> {
    match args.command {
        PrinterCommand::SelfTest(a) => self_test(a),
    }
}

fn self_test(args: SelfTestArgs) -> Result<String, String> {
    let config = match &args.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    let spool = config.spool.clone().unwrap_or_else(|| SpoolConfig::serve_default(&config.data_dir));
    let printer = spool.printers.iter().find(|p| p.name == args.name).ok_or_else(|| {
        let names: Vec<&str> = spool.printers.iter().map(|p| p.name.as_str()).collect();
        format!("no printer {:?} in the configuration; configured: {}", args.name, names.join(", "))
    })?;
    let profiles = crate::spool::profile::load(spool.profiles_dir.as_deref()).map_err(|e| e.to_string())?;
    let spool_profile = profiles
        .get(&printer.profile)
        .ok_or_else(|| format!("printer {:?} names profile {:?}, which is unknown", printer.name, printer.profile))?;
    let profile = crate::profiles::render_profile(spool_profile);
    let page_printer = printer.link.printer_type() == PrinterType::System;
    let format = if page_printer { Format::Png } else { Format::EscPos };
    let opts = RenderOptions {
        image_width: i64::from(profile.width_dots),
        lang: args.lang.clone(),
        profile: profile.clone(),
        ..RenderOptions::default()
    };
    let renderer = Renderer::new(RendererConfig { override_dir: config.render.template_dir.clone() });
    let doc = crate::render::cli::self_test_document(&profile);
    let page = renderer.render(TemplateKey::SELF_TEST, &doc, &opts, format).map_err(|e| e.to_string())?;
    let mut report = vec![format!(
        "self-test page for {:?} (profile {}; Kazakh letters: {}), {} bytes",
        printer.name,
        spool_profile.id,
        doc["profile"]["kazakh"].as_str().unwrap_or_default(),
        page.bytes.len()
    )];
    for d in &page.diagnostics {
        report.push(format!("template problem (the built-in page was used): {d}"));
    }
    if let Some(path) = &args.output {
        std::fs::write(path, &page.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        report.push(format!("written to {}", path.display()));
        return Ok(report.join("\n"));
    }
    report.push(send(&printer.link, printer.query_status, &spool, &page.bytes, format)?);
    report.push(
        "Check the paper: the Kazakh lines (ӘҒҚҢӨҰҮҺІ әғқңөұүһі) must show the letters and the QR code must scan. If the \
         Kazakh lines are garbled while Russian prints, set user_defined_chars = false in your own copy of the profile \
         (spool.profiles_dir); if the QR is missing, native_qr = false."
            .to_string(),
    );
    Ok(report.join("\n"))
}

/// Sends `bytes` over `link` as one job; what the printer said after it.
fn send(link: &Link, query_status: bool, spool: &SpoolConfig, bytes: &[u8], format: Format) -> Result<String, String> {
    let started = Instant::now();
    let opts = transport::LinkOptions {
        io_timeout: spool.io_timeout(),
        chunk_bytes: spool.chunk_bytes,
        pace: spool.pace_serial,
    };
    let mut t = transport::open(link, &opts).map_err(|e| format!("the printer cannot be reached: {e}"))?;
    t.write_all(bytes).map_err(|e| format!("sending the page failed: {e}"))?;
    let name = format!("self-test.{}", if format == Format::Png { "png" } else { "escpos" });
    t.end_job(&name).map_err(|e| format!("sending the page failed: {e}"))?;
    let mut said = format!("sent over {} in {:.1} s", t.describe(), started.elapsed().as_secs_f64());
    if query_status && link.answers_status() {
        // The printer answers once it has read the page; allow it the page's transfer time at 9 600 baud.
        let wait = spool.status_timeout() + Duration::from_secs_f64(bytes.len() as f64 / 960.0);
        match t.read_status(wait) {
            Ok(Some(s)) => match s.blocking_reason() {
                None => said.push_str("; the printer answered: ready"),
                Some(r) => said.push_str(&format!("; the printer answered: {}", r.as_str())),
            },
            Ok(None) => {}
            Err(e) => said.push_str(&format!("; no status answer ({e})")),
        }
    }
    Ok(said)
}
