//! The `kassa` binary: argument parsing, logging set-up and dispatch. All behaviour lives in the library.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kassa",
    version,
    about = "Local cash core and receipt print server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (default 127.0.0.1:8080).
    Serve(kassa::config::ServeArgs),
    /// Render a document (or the printer self-test page) to PNG, text, HTML or ESC/POS.
    Render(kassa::render::cli::RenderArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    kassa::logging::init();
    let result = match cli.command {
        Command::Serve(args) => kassa::server::run_blocking(args),
        Command::Render(args) => kassa::render::cli::run(args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kassa: {e}");
            ExitCode::FAILURE
        }
    }
}
