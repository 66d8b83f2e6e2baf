//! Logging set-up: `tracing` with `RUST_LOG`-style filtering (default `info`), written to stderr so that a
//! command's own output on stdout (`kassa templates show ticket > ticket.j2`) never carries a log line.
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops (tests start many servers).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ =
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_target(false).try_init();
}
