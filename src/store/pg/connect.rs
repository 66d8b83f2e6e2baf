//! A PostgreSQL connection from a `postgres://` URL, without TLS, and the target named without its password.
use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use std::str::FromStr;

/// A parsed target: the configuration and how to name it in messages (never with the password).
pub struct Target {
    config: Config,
    /// The URL as given, for the connections of `serve` (never shown: it may hold the password).
    pub(crate) url: String,
    pub name: String,
}

impl Target {
    /// Parses `url` (`postgres://user[:password]@host[:port]/database`, or libpq's `key=value` form).
    pub fn parse(url: &str) -> Result<Target, String> {
        let config = Config::from_str(url).map_err(|e| {
            format!("--to is not a PostgreSQL URL ({e}); write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        })?;
        if config.get_ssl_mode() == SslMode::Require {
            return Err("sslmode=require: this kassa connects to PostgreSQL without TLS (loopback and private \
                        networks; docs/scale-out.md says what TLS would take). Leave sslmode out or set it to \
                        disable or prefer"
                .into());
        }
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("(the OS user)");
        let db = config.get_dbname().unwrap_or("(the user's database)");
        let name = format!("postgres://{user}@{host}:{port}/{db}");
        Ok(Target { config, name, url: url.to_owned() })
    }
}

/// Connects to `target`.
pub fn connect(target: &Target) -> Result<Client, String> {
    target.config.connect(NoTls).map_err(|e| format!("cannot connect to {}: {}", target.name, describe(&e)))
}

/// A PostgreSQL error as a person reads it: the server's message with its detail and hint, or the client's.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_owned();
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; {hint}"));
            }
            text
        }
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}
