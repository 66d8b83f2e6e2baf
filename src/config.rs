//! Configuration: CLI flags, an optional TOML file, and embedded defaults.
use clap::Args;
use std::path::PathBuf;

/// Flags of `kassa serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Folder for the SQLite database and other state.
    #[arg(long, default_value = "./kassa-data")]
    pub data_dir: PathBuf,
    /// Optional TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
}
