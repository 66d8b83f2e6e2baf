//! The `kassa` binary: argument parsing, logging set-up and dispatch. All behaviour lives in the library.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod allocator;

#[global_allocator]
static ALLOCATOR: allocator::Chosen = allocator::Chosen::new();

#[derive(Parser)]
#[command(name = "kassa", version, about = "Local cash core and receipt print server")]
struct Cli {
    /// Log lines on stderr: `text` for a person, `json` (one object per line) for log collectors.
    #[arg(long, global = true, value_enum, default_value = "text", env = "KASSA_LOG_FORMAT")]
    log_format: kassa::logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (default 127.0.0.1:8080).
    Serve(kassa::config::ServeArgs),
    /// Copy kassa.db (consistently, also while the server runs) and pin.key into a new folder.
    Backup(kassa::maintenance::BackupArgs),
    /// Put a backup back into a data folder whose server is stopped (the replaced files are kept aside).
    Restore(kassa::maintenance::RestoreArgs),
    /// Check the data folder: SQLite's integrity check, the journals' hash chains, the commit mark, pin.key.
    Check(kassa::maintenance::CheckArgs),
    /// PostgreSQL: `migrate` creates or upgrades the schema, `copy` moves a shop's SQLite store into it, proven.
    Store(kassa::store::pg::cli::StoreArgs),
    /// PostgreSQL: `add` registers a tenant (a shop served at /t/<name>/) with its first administrator.
    Tenant(kassa::tenant_cli::TenantArgs),
    /// Talk to an OFD: decode frames, query registration info.
    Ofd(kassa::country::kz::ofd_link::cli::OfdArgs),
    /// Run an OFD emulator (demo mode) until Ctrl-C; `--admin` opens its fault-injection port.
    OfdEmulator(kassa::country::kz::ofd_link::cli::EmulatorArgs),
    /// Emulate an ESC/POS receipt printer on TCP and/or a pseudo-terminal.
    #[command(after_help = kassa::spool::cli::EMULATOR_HELP)]
    PrinterEmulator(kassa::spool::cli::EmulatorArgs),
    /// List printers (discovery) as GetPrinterList JSON, with stable ids.
    Printers(kassa::spool::cli::PrintersArgs),
    /// A configured printer: `self-test NAME` prints the self-test page (Kazakh letters, code pages, QR).
    Printer(kassa::receipt::self_test::PrinterArgs),
    /// Drive the spooler against one TCP printer (testing aid).
    #[command(hide = true)]
    SpoolDrive(kassa::spool::cli::DriveArgs),
    /// Render a document (or the printer self-test page) to PNG, text, HTML or ESC/POS.
    Render(kassa::render::cli::RenderArgs),
    /// Check override templates (exit 1 on any problem), print the template context document.
    Templates(kassa::render::cli::TemplatesArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    kassa::logging::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => kassa::server::run_blocking(args),
        Command::Backup(args) => kassa::maintenance::backup(args),
        Command::Restore(args) => kassa::maintenance::restore(args),
        Command::Check(args) => kassa::maintenance::check(args),
        Command::Store(args) => kassa::store::pg::cli::run(args),
        Command::Tenant(args) => kassa::tenant_cli::run(args),
        // Without --host, `ofd info` asks the KKM's configured OFD with its stored token: that needs the core.
        Command::Ofd(kassa::country::kz::ofd_link::cli::OfdArgs {
            command: kassa::country::kz::ofd_link::cli::OfdCommand::Info(info),
        }) if info.host.is_none() => kassa::server::ofd_info(info),
        Command::Ofd(args) => kassa::country::kz::ofd_link::cli::run(args).map_err(|e| e.to_string()),
        Command::OfdEmulator(args) => kassa::country::kz::ofd_link::cli::run_emulator(args).map_err(|e| e.to_string()),
        Command::PrinterEmulator(args) => kassa::spool::cli::emulator(args, |p| {
            let profile = kassa::receipt::render_profile(p);
            let font: std::sync::Arc<dyn kassa::spool::emulator::escpos::RomFont> =
                std::sync::Arc::new(kassa::rom_font::ReceiptRomFont::new(&profile));
            Some(font)
        })
        .map_err(|e| e.to_string()),
        Command::Printers(args) => kassa::server::printers(args),
        Command::Printer(args) => kassa::receipt::self_test::run(args).map(|report| println!("{report}")),
        Command::SpoolDrive(args) => kassa::spool::cli::drive(args).map_err(|e| e.to_string()),
        Command::Render(args) => {
            kassa::profiles::run_render(args, &kassa::country::kz::front::print::template_of_document)
        }
        Command::Templates(args) => kassa::render::cli::templates(args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Exit codes (README, "The command line"): 0 done, 1 failed (the reason on stderr), 2 a wrong command
        // line (clap's own errors exit 2 as well).
        Err(e) => {
            eprintln!("kassa: {e}");
            if e.starts_with("usage: ") { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}
