//! Configuration: embedded defaults, overridden by an optional TOML file, overridden by CLI flags and
//! `KASSA_ADMIN_PIN`. Every option has a default, so `kassa serve` needs no file.
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Flags of `kassa serve`. Each one, when given, wins over the TOML file.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Folder for the SQLite database and other state [default: ./kassa-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
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
    /// Open HTTP connections at most; at the cap the oldest idle or slow one makes room (`api::conn`).
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
    /// The Belarusian front and its simulated СКО (`crate::country::by`).
    pub by: crate::country::by::config::ByConfig,
    /// The Ukrainian front and its test ПРРО (`crate::country::ua`).
    pub ua: crate::country::ua::config::UaConfig,
    /// HTTP conventions of the API.
    pub http: HttpConfig,
    /// Browser POS apps allowed to call the API (CORS).
    pub cors: CorsConfig,
}

/// HTTP conventions of the API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// HTTP status of error answers: `vendor` (by code, as the vendor's server) or `always_200`.
    pub status_policy: StatusPolicy,
}

/// Which HTTP status an error answer gets; the body is the JSON envelope either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusPolicy {
    /// 400, 401, 403, 404 or 500 by the code, as the vendor's server answers.
    #[default]
    Vendor,
    /// Every answer at 200, for POS HTTP stacks that discard the body of an error status.
    #[serde(rename = "always_200")]
    Always200,
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

/// Timing of the OFD link (protocol 2.0.2 §5).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfdLinkConfig {
    /// Total time for one exchange (connect, resends, answer), in ms. The protocol's minimum is 5000;
    /// smaller values are honoured only for tests and logged as a warning.
    pub total_time_ms: u64,
    /// Pause between attempts to send the autonomous queue, in ms. The protocol's minimum is 60 000; a
    /// smaller value is refused at start unless every OFD is an emulator (see [`Config::validate`]).
    pub reconnect_ms: u64,
    /// Hours of autonomous mode after which new documents are refused (18).
    pub offline_limit_hours: i64,
}

/// Limits of the fiscal core.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FiscalConfig {
    /// Hours a shift may stay open (31 after that).
    pub shift_limit_hours: i64,
    /// How long a request waits for another operation on the same KKM before 69, in ms.
    pub busy_wait_ms: u64,
    /// Close a shift open past the limit with a Z report before the next sale, as the vendor's server does
    /// (default); off, such a sale is refused with 76 until the shift is closed.
    pub auto_close_shift: bool,
}

impl Default for OfdLinkConfig {
    fn default() -> Self {
        OfdLinkConfig { total_time_ms: 5_000, reconnect_ms: 60_000, offline_limit_hours: 72 }
    }
}

impl Default for FiscalConfig {
    fn default() -> Self {
        FiscalConfig { shift_limit_hours: 24, busy_wait_ms: 15_000, auto_close_shift: true }
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

/// One fiscal data operator.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OfdConfig {
    /// Unique identifier (`ofd_uid` in the API).
    pub uid: String,
    /// Display name.
    pub name: String,
    /// Where Kassa sends OFD requests: `"emulator"` for the built-in emulator, or `host:port`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Protocol version in the frame header: 202 (2.0.2, the seed's, default) or 203 (2.0.3: returns then
    /// need `parent_ticket`).
    #[serde(default = "default_protocol")]
    pub protocol_version: u16,
    /// The consumer site that checks tickets; used for locally composed QR codes.
    pub consumer_url: String,
    /// The SOCKS5 proxy ("software VPN") used for KKMs saved with `use_software_vpn: true`.
    #[serde(default)]
    pub socks5: Option<Socks5Config>,
    /// This `host:port` is an OFD emulator (`kassa ofd-emulator`, a test rig), not a real OFD: the
    /// protocol's minimum pause between resends (`ofd_link.reconnect_ms`) may then be shortened for tests.
    #[serde(default)]
    pub emulator: bool,
}

impl OfdConfig {
    /// The built-in emulator, or an endpoint declared to be one.
    pub fn is_emulator(&self) -> bool {
        self.emulator || self.endpoint == "emulator"
    }
}

/// A SOCKS5 proxy (RFC 1928), with optional username and password (RFC 1929).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Socks5Config {
    /// `host:port` of the proxy.
    pub addr: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn default_endpoint() -> String {
    "emulator".into()
}

/// The seed is written for protocol 2.0.2, whose returns need no original ticket; 2.0.3 is set per OFD.
pub fn default_protocol() -> u16 {
    202
}

/// The protocol's shortest pause between attempts to deliver the autonomous queue (2.0.2 §5).
pub const MIN_RECONNECT_MS: u64 = 60_000;

/// The demo administrator PIN used when neither the file nor `KASSA_ADMIN_PIN` sets one.
pub const DEMO_ADMIN_PIN: &str = "0000";

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

/// The embedded OFD list: the built-in emulator and Kazakhtelecom's test and production OFDs. Out of the
/// box all three are served by the built-in emulator (demo mode); a config file points them at real hosts.
pub fn default_ofds() -> Vec<OfdConfig> {
    let ofd = |uid: &str, name: &str, consumer: &str| OfdConfig {
        uid: uid.into(),
        name: name.into(),
        endpoint: default_endpoint(),
        protocol_version: default_protocol(),
        consumer_url: consumer.into(),
        socks5: None,
        emulator: false,
    };
    vec![
        ofd("4C49A0CB1DD4413387F6E6199CBB1B2A", "Казахтелеком - test", "http://consumer.test-oofd.kz"),
        ofd("76A41602F148468EA85FA0ECBA8B4BBB", "Казахтелеком", "http://consumer.oofd.kz"),
        ofd("EEEE0000000000000000000000000001", "Kassa OFD emulator", "http://consumer.test-oofd.kz"),
    ]
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
