//! Configuration: embedded defaults, overridden by an optional TOML file, overridden by CLI flags and
//! `KASSA_ADMIN_PIN`. Every option has a default, so `kassa serve` needs no file. One file per country's
//! sections (`kz`: the root keys, `by`: `[by]`, `ua`: `[ua]`); nothing here imports a country.
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub mod by;
pub mod devices;
pub mod kz;
pub mod ua;

pub use kz::{
    CoreConfig, DEMO_ADMIN_PIN, FiscalConfig, HttpConfig, MIN_RECONNECT_MS, OfdConfig, OfdLinkConfig, Socks5Config,
    StatusPolicy, default_ofds, default_protocol,
};

/// Flags of `kassa serve`. Each one, when given, wins over the TOML file.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Folder for the SQLite database and other state [default: ./kassa-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Where the fiscal data lives: a PostgreSQL URL (`postgres://USER@HOST/DATABASE`, issue 25) instead of
    /// the SQLite file in the data folder [default: SQLite; `store.url`; env KASSA_STORE_URL].
    #[arg(long, env = "KASSA_STORE_URL")]
    pub store: Option<String>,
    /// TOML configuration file (see README: every key is optional).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Belarusian front: HTTP listener for the cash-service envelope (off by default; `by.listen`).
    #[arg(long)]
    pub by_listen: Option<String>,
    /// Belarusian front: TCP listener, 4-byte length-framed (off by default; `by.tcp_listen`).
    #[arg(long)]
    pub by_tcp_listen: Option<String>,
    /// Ukrainian front: HTTP listener for the Vchasno.Kasa DM API (off by default; `ua.listen`; port 3939).
    #[arg(long)]
    pub ua_listen: Option<String>,
}

/// The whole configuration of a Kassa server.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Folder for the SQLite database and other state.
    pub data_dir: PathBuf,
    /// PIN of the administrator created at first start. `KASSA_ADMIN_PIN` overrides it.
    pub admin_pin: String,
    /// Prefix of generated factory numbers (ЗНМ), as the licence gives it.
    pub vendor_id_prefix: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Open HTTP connections at most; at the cap the oldest idle or slow one makes room (`listen::slots`).
    pub max_connections: usize,
    /// A request's head must arrive within this many milliseconds (also closes idle keep-alive connections).
    pub header_timeout_ms: u64,
    /// A request's body must arrive within this many milliseconds.
    pub body_timeout_ms: u64,
    /// Throttling of wrong PINs.
    pub auth: AuthConfig,
    /// The fiscal data operators Kassa may talk to (`GetOFDList`). The first one is the default.
    pub ofd: Vec<OfdConfig>,
    /// Timing of the OFD link.
    pub ofd_link: OfdLinkConfig,
    /// Limits of the fiscal core.
    pub fiscal: FiscalConfig,
    /// Receipt rendering.
    pub render: RenderConfig,
    /// Printers and the print queue. Absent: one virtual printer writing files into `<data_dir>/printed`.
    pub spool: Option<crate::spool::config::SpoolConfig>,
    /// The Belarusian front and its simulated СКО (`country::by`).
    pub by: by::ByConfig,
    /// The Ukrainian front and its test ПРРО (`country::ua`).
    pub ua: ua::UaConfig,
    /// HTTP conventions of the API.
    pub http: HttpConfig,
    /// Browser POS apps allowed to call the API (CORS).
    pub cors: CorsConfig,
    /// Where the fiscal data lives.
    pub store: StoreConfig,
    /// The Belarusian and Ukrainian devices of a PostgreSQL store's other tenants (issue 25), served under
    /// `/t/<tenant>/` on this node's listeners: `[tenants.<name>.by]`, `[tenants.<name>.ua]`.
    pub tenants: std::collections::BTreeMap<String, TenantConfig>,
}

/// One tenant's devices on the Belarusian and Ukrainian fronts (their listeners are the node's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantConfig {
    pub by: Option<by::ByConfig>,
    pub ua: Option<ua::UaConfig>,
}

/// The store of fiscal data: SQLite in the data folder (the default), or PostgreSQL.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`: serve from PostgreSQL (docs/scale-out.md). Absent:
    /// `kassa.db` in the data folder. The data folder is used either way (print queue, keys, templates).
    pub url: Option<String>,
    /// PostgreSQL: how long a node keeps a device's lease after it last used it; another node takes the device
    /// over only after this (a node that died stops its devices' sales for this long at most).
    pub lease_seconds: u64,
    /// PostgreSQL: the host name or address the other nodes reach this node's listeners at, to hand it a
    /// request for a device it serves. Absent: the address each listener is bound to (loopback for 0.0.0.0).
    pub advertise: Option<String>,
    /// PostgreSQL with tenants: how long a tenant goes without a request before this node lets go of its core
    /// and front (about 85 KB a tenant); its next request builds them again.
    pub tenant_idle_seconds: u64,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig { url: None, lease_seconds: 15, advertise: None, tenant_idle_seconds: 600 }
    }
}

/// Browsers, on every HTTP front (`listen::origin`): which web pages may call Kassa, and under which names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Web pages (origins, `https://pos.example.kz`) allowed to call Kassa besides its own; `*` allows any.
    /// A request from any other page is refused; these get CORS headers.
    pub allowed_origins: Vec<String>,
    /// Host names clients may address Kassa by besides `localhost`, loopback addresses, the address they
    /// reached and the machine's own name (`kassa.shop.lan`); `*` allows any. Stops DNS rebinding.
    pub allowed_hosts: Vec<String>,
}

/// Receipt rendering.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {
    /// Folder of integrator templates overriding the built-in ones by file name, re-read when they change.
    /// Default: `<data_dir>/templates`.
    pub template_dir: Option<PathBuf>,
    /// Heading language: `ru`, `kk`, `ru+kk` or `kk+ru`.
    pub lang: String,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig { template_dir: None, lang: "ru+kk".into() }
    }
}

/// Throttling of wrong PINs (the Kazakh operators' and the Belarusian СКО's), per client and for the whole
/// server (policy in `listen::throttle`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Wrong PINs from one client (address, OS user, app) within `forget_after_ms` before it is locked out.
    pub max_failures: u32,
    /// The first lockout of a client, in milliseconds; each further wrong PIN doubles it.
    pub lockout_ms: u64,
    /// Wrong PINs per minute the whole server tolerates before it stops checking PINs from terminals it
    /// does not know; each further exhaustion doubles the pause (1 min, 2, 4, ...).
    pub global_failures_per_minute: u32,
    /// The longest lockout, of a client or of the server, in milliseconds.
    pub max_lockout_ms: u64,
    /// Wrong PINs are forgotten after this long without one, in milliseconds.
    pub forget_after_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./kassa-data"),
            admin_pin: DEMO_ADMIN_PIN.into(),
            vendor_id_prefix: "ISCR".into(),
            max_body_bytes: 1024 * 1024,
            max_connections: 512,
            header_timeout_ms: 10_000,
            body_timeout_ms: 10_000,
            auth: AuthConfig::default(),
            ofd: default_ofds(),
            ofd_link: OfdLinkConfig::default(),
            fiscal: FiscalConfig::default(),
            render: RenderConfig::default(),
            spool: None,
            by: Default::default(),
            ua: Default::default(),
            http: HttpConfig::default(),
            cors: CorsConfig::default(),
            store: StoreConfig::default(),
            tenants: Default::default(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_failures: 5,
            lockout_ms: 30_000,
            global_failures_per_minute: 10,
            max_lockout_ms: 3_600_000,
            forget_after_ms: 3_600_000,
        }
    }
}

/// A configuration mistake, worded for the person editing the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// The Kazakh fiscal core's sections.
    pub fn kz_core(&self) -> CoreConfig {
        CoreConfig {
            admin_pin: self.admin_pin.clone(),
            vendor_id_prefix: self.vendor_id_prefix.clone(),
            ofd: self.ofd.clone(),
            ofd_link: self.ofd_link.clone(),
            fiscal: self.fiscal.clone(),
        }
    }

    /// Reads a TOML file; a missing key keeps its default.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
    }

    /// Defaults, then the file named by `--config`, then flags and the environment.
    pub fn resolve(args: &ServeArgs) -> Result<Config, ConfigError> {
        let mut config = match &args.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(listen) = &args.by_listen {
            config.by.listen = Some(listen.clone());
        }
        if let Some(listen) = &args.by_tcp_listen {
            config.by.tcp_listen = Some(listen.clone());
        }
        if let Some(listen) = &args.ua_listen {
            config.ua.listen = Some(listen.clone());
        }
        if let Some(listen) = &args.listen {
            config.listen = listen.clone();
        }
        if let Some(dir) = &args.data_dir {
            config.data_dir = dir.clone();
        }
        // The tools (`kassa printers`, `kassa ofd info`) have no --store: they read KASSA_STORE_URL as serve does.
        let store = args.store.clone().or_else(|| std::env::var("KASSA_STORE_URL").ok());
        if let Some(url) = store.filter(|u| !u.is_empty()) {
            config.store.url = Some(url);
        }
        if let Ok(pin) = std::env::var("KASSA_ADMIN_PIN") {
            config.admin_pin = pin;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: non-empty PIN, unique OFD uids, known protocol versions, and the protocol's
    /// minimum pause between resends to a real OFD.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.admin_pin.trim().is_empty() {
            return Err(ConfigError::Invalid("admin_pin must not be empty".into()));
        }
        for (name, tenant) in &self.tenants {
            if !crate::store::tenant::valid_name(name) || name == crate::store::tenant::DEFAULT {
                return Err(ConfigError::Invalid(format!(
                    "tenants.{name}: a tenant's name is 1 to 63 lower-case letters, digits and hyphens, and not \
                     `default` (the default tenant's devices are [by] and [ua])"
                )));
            }
            // A frame has no path: a tenant's Belarusian TCP listener is its only listener of its own.
            let listens = tenant.by.as_ref().is_some_and(|by| by.listen.is_some())
                || tenant.ua.as_ref().is_some_and(|ua| ua.listen.is_some());
            if listens {
                return Err(ConfigError::Invalid(format!(
                    "tenants.{name}: a tenant has no HTTP listener of its own: it is served under /t/{name}/ on \
                     by.listen and ua.listen (only by.tcp_listen may be its own)"
                )));
            }
        }
        if let Some(url) = &self.store.url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "store.url (--store, KASSA_STORE_URL) must be a PostgreSQL URL, postgres://USER@HOST/DATABASE; leave it \
                 out to keep the SQLite file in the data folder"
                    .into(),
            ));
        }
        if self.store.lease_seconds == 0 || self.store.lease_seconds > 3600 {
            return Err(ConfigError::Invalid(format!(
                "store.lease_seconds = {} must be 1 to 3600: a node keeps a device this long after it last used it",
                self.store.lease_seconds
            )));
        }
        if self.store.tenant_idle_seconds == 0 || self.store.tenant_idle_seconds > 86_400 {
            return Err(ConfigError::Invalid(format!(
                "store.tenant_idle_seconds = {} must be 1 to 86400: a node lets go of a tenant idle this long",
                self.store.tenant_idle_seconds
            )));
        }
        if self.ofd_link.reconnect_ms < MIN_RECONNECT_MS
            && let Some(real) = self.ofd.iter().find(|o| !o.is_emulator())
        {
            return Err(ConfigError::Invalid(format!(
                "ofd_link.reconnect_ms = {} is below the OFD protocol's minimum of {MIN_RECONNECT_MS} ms (one minute \
                 between attempts to deliver the autonomous queue): the OFD {} at {} may block a KKM that resends \
                 faster. Set reconnect_ms = {MIN_RECONNECT_MS} or more (a shorter pause is accepted only when every \
                 [[ofd]] is an emulator: endpoint = \"emulator\", or emulator = true for a test rig)",
                self.ofd_link.reconnect_ms, real.name, real.endpoint
            )));
        }
        for (i, ofd) in self.ofd.iter().enumerate() {
            if self.ofd[..i].iter().any(|o| o.uid.eq_ignore_ascii_case(&ofd.uid)) {
                return Err(ConfigError::Invalid(format!("ofd uid {} is listed twice", ofd.uid)));
            }
            if ![202, 203].contains(&ofd.protocol_version) {
                return Err(ConfigError::Invalid(format!(
                    "ofd {}: protocol_version must be 202 or 203, not {}",
                    ofd.uid, ofd.protocol_version
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let config: Config = toml::from_str("listen = \"127.0.0.1:9000\"\n[auth]\nmax_failures = 3\n").unwrap();
        assert_eq!(config.listen, "127.0.0.1:9000");
        assert_eq!(config.auth.max_failures, 3);
        assert_eq!(config.auth.lockout_ms, 30_000);
        assert_eq!(config.ofd.len(), 3);
    }

    #[test]
    fn a_tenant_has_a_fit_name_and_no_http_listener_of_its_own() {
        let tenant = |toml: &str| toml::from_str::<Config>(toml).unwrap().validate().map_err(|e| e.to_string());
        let fine =
            "[[tenants.shop-1.ua.prro]]\nfisid = \"1\"\ndevice = \"K\"\n[[tenants.shop-1.by.sko]]\nserial = \"A\"\n";
        assert_eq!(tenant(fine), Ok(()));
        let listening = tenant("[tenants.shop-1.ua]\nlisten = \"127.0.0.1:0\"\n").unwrap_err();
        assert!(listening.contains("no HTTP listener of its own"), "{listening}");
        assert_eq!(
            tenant("[tenants.shop-1.by]\ntcp_listen = \"127.0.0.1:0\"\n[[tenants.shop-1.by.sko]]\nserial = \"A\"\n"),
            Ok(())
        );
        for name in ["default", "Shop", "\"a/b\""] {
            let refused = tenant(&format!("[tenants.{name}.ua]\n")).unwrap_err();
            assert!(refused.contains("lower-case letters"), "{name}: {refused}");
        }
    }

    #[test]
    fn printers_of_every_kind_as_the_readme_shows_them() {
        let text = r#"
[spool]
profiles_dir = "/etc/kassa/profiles"

[[spool.printers]]
name = "Касса 1 (COM3)"
profile = "xprinter-xp-58"
link = { kind = "serial", path = "COM3", baud = 115200, flow = "hardware" }

[[spool.printers]]
name = "USB"
profile = "epson-tm-t20"
link = { kind = "usb_lp", path = "/dev/usb/lp0" }

[[spool.printers]]
name = "USB raw"
link = { kind = "usb", vendor_id = 0x04b8, product_id = 0x0e15 }

[[spool.printers]]
name = "RPP02"
profile = "rongta-rpp02"
link = { kind = "bluetooth", path = "/dev/rfcomm0", baud = 115200 }

[[spool.printers]]
name = "Kitchen"
profile = "epson-tm-t88"
link = { kind = "tcp", host = "192.168.1.50", port = 9100 }

[[spool.printers]]
name = "Office A4"
link = { kind = "ipp", host = "localhost", port = 631, queue = "HP_LaserJet", format = "png" }

[[spool.printers]]
name = "Files"
link = { kind = "virtual", dir = "./kassa-data/printed" }
"#;
        let config: Config = toml::from_str(text).unwrap();
        let spool = config.spool.unwrap();
        assert_eq!(spool.printers.len(), 7);
        assert_eq!(spool.printers[4].link, crate::spool::config::Link::Tcp { host: "192.168.1.50".into(), port: 9100 });
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("lisen = \"x\"").is_err());
    }

    #[test]
    fn a_short_reconnect_is_refused_towards_a_real_ofd_and_allowed_towards_emulators() {
        let mut config = Config::default();
        config.ofd_link.reconnect_ms = 100;
        assert!(config.validate().is_ok(), "the built-in emulator serves every default OFD");
        config.ofd[1].endpoint = "37.150.215.187:7777".into();
        let e = config.validate().unwrap_err().to_string();
        assert!(e.contains("reconnect_ms = 100") && e.contains("60000") && e.contains("37.150.215.187:7777"), "{e}");
        config.ofd[1].emulator = true;
        assert!(config.validate().is_ok(), "a test rig declared as an emulator");
        config.ofd[1].emulator = false;
        config.ofd_link.reconnect_ms = 60_000;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn duplicate_ofd_uids_are_refused() {
        let mut config = Config::default();
        config.ofd.push(config.ofd[0].clone());
        assert!(config.validate().is_err());
    }
}
