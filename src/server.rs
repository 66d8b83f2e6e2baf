//! Server start-up and shutdown.
use crate::config::ServeArgs;

/// Runs `kassa serve` until SIGINT or SIGTERM.
pub fn run_blocking(_args: ServeArgs) -> Result<(), String> {
    Err("serve: under construction".into())
}
