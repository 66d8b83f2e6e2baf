//! The Kazakh front's sections of the configuration. They are root keys of the file (`[[ofd]]`, `[ofd_link]`,
//! `[fiscal]`, `[http]`, `admin_pin`, ...), where Kazakhstan, the first country, always had them.
use serde::Deserialize;

/// The sections the Kazakh fiscal core reads; the other root keys (listener, HTTP, CORS, PIN throttle) belong
/// to its front and the listener kit, and the core never sees them.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// PIN of the administrator created at first start.
    pub admin_pin: String,
    /// Prefix of generated factory numbers (ЗНМ).
    pub vendor_id_prefix: String,
    /// The fiscal data operators (`GetOFDList`); the first is the default.
    pub ofd: Vec<OfdConfig>,
    /// Timing of the OFD link.
    pub ofd_link: OfdLinkConfig,
    /// Limits of the fiscal core.
    pub fiscal: FiscalConfig,
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
