//! Logging set-up: `tracing` with `RUST_LOG`-style filtering (default `info`), written to stderr so that a
//! command's own output on stdout (`kassa templates show ticket > ticket.j2`) never carries a log line.
//!
//! Two formats: `text` for a person (colour only when stderr is a terminal and `NO_COLOR` is unset, so a
//! journal or a file never gets escape codes) and `json`, one object per line, for log collectors.
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per event (`timestamp`, `level`, `fields.message`, the event's fields).
    Json,
}

/// Whether log lines may carry colour: stderr is a terminal and `NO_COLOR` is not set.
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber once; later calls are no-ops (tests start many servers).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(colour()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
    crate::progress::set_log_format(format);
}
