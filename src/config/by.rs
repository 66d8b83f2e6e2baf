//! `[by]` in the configuration: the Belarusian front's listeners and the simulated СКО's registration.
use serde::Deserialize;

/// The СКО's PIN out of the box (a demo PIN: Kassa warns while it is in use).
pub const DEMO_PIN: &str = "12345678";

/// The Belarusian front. Off unless a listener is given (`--by-listen`, `by.listen`, `by.tcp_listen`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ByConfig {
    /// HTTP listener for the envelope (POST), e.g. `127.0.0.1:8090`. Off when absent.
    pub listen: Option<String>,
    /// TCP listener for 4-byte big-endian length-framed messages (port 1829 by convention). Off when absent.
    pub tcp_listen: Option<String>,
    /// The СКО (simulated, test mode).
    pub sko: SkoConfig,
    /// Items a document may hold (`AVQFR_TOO_MANY_ITEMS` above).
    pub max_items: usize,
    /// Documents a shift may hold (`AVQFR_MAX_DOC_COUNT_OVERFLOW` above).
    pub max_shift_documents: i64,
    /// The largest client withdrawal, a decimal string (`AVQFR_CH_WITHDRAW_MAX_SUM` above).
    pub client_withdraw_max: String,
    /// Hours a shift may stay open.
    pub shift_limit_hours: i64,
    /// The electronic receipt's site; `repr.link` is this with `?documentId=<UID>`.
    pub receipt_site: String,
    /// Paper width in characters for `repr` (48 on 80 mm paper).
    pub columns: usize,
    /// The language of Kassa's own error texts: `ru` (the default) or `be`; a message's `lang` header
    /// chooses for itself.
    pub lang: String,
}

/// Registration data of the simulated СКО, as the СККО would give it to a real one.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkoConfig {
    /// Serial of the СКО (the `token` header), `AVQ...`.
    pub serial: String,
    /// Registration number of the cash register (`device_id`).
    pub device_id: i64,
    pub company_name: String,
    /// УНП.
    pub tax_number: i64,
    pub trade_point_name: Option<String>,
    /// The legal address of the certificate; empty is `CRT_MISSING_LEGAL_ADDR` on every document.
    pub legal_address: String,
    /// The СКО's PIN (`authorize`); never logged.
    pub pin: String,
    /// The number of the first document, at the first start.
    pub first_number: i64,
    /// The number of the shift before the first one opened here.
    pub last_shift: i64,
    /// The СКО's UTC offset (`date_time` carries it).
    pub utc_offset: String,
    /// Test fixture: the СКО's clock stands at this RFC 3339 instant instead of the system clock.
    pub fixed_time: Option<String>,
    /// Test fixture: the UIDs of the next documents, in order (then UIDs are derived).
    pub uids: Vec<String>,
    /// Whether the simulated СКО reaches the СККО; when false documents wait unsent.
    pub connected: bool,
}

impl Default for ByConfig {
    fn default() -> ByConfig {
        ByConfig {
            listen: None,
            tcp_listen: None,
            sko: SkoConfig::default(),
            max_items: 500,
            max_shift_documents: 10_000,
            client_withdraw_max: "1000.00".into(),
            shift_limit_hours: 24,
            receipt_site: "https://receipts.test.imlab.by/".into(),
            columns: 48,
            lang: "ru".into(),
        }
    }
}

impl Default for SkoConfig {
    fn default() -> SkoConfig {
        SkoConfig {
            serial: "AVQ00000000001".into(),
            device_id: 100000001,
            company_name: "ООО \"Тестовая касса\"".into(),
            tax_number: 100000000,
            trade_point_name: None,
            legal_address: "г. Минск".into(),
            pin: DEMO_PIN.into(),
            first_number: 1,
            last_shift: 0,
            utc_offset: "+03:00".into(),
            fixed_time: None,
            uids: Vec::new(),
            connected: true,
        }
    }
}
