//! The fiscal core's side of the OFD link: which OFD a KKM talks to, request numbering, the service block,
//! and one exchange with the outcome sorted into what the core must do next.
pub mod cli;
pub mod codes;
pub mod fiscaliser;
pub mod outage;
pub mod outbox;
pub mod registration;
pub mod send;
pub mod wire;

use super::Core;
use super::error::{FiscalError, FiscalResult};
use crate::config::OfdConfig;
pub use crate::country::kz::ofd::client::next_reqnum;
use crate::country::kz::ofd::client::{ClientConfig, ClientError, Credentials, OfdClient, Reply};
use crate::country::kz::ofd::convert::{RegInfo, ServiceBlock, TicketAd};
use crate::country::kz::ofd::proto::Request;
use crate::country::kz::ofd::result::ResultClass;
use crate::country::kz::ofd::socks5::Socks5Proxy;
use crate::store::KkmRow;
use chrono::NaiveDateTime;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// Where the built-in emulator listens, when one runs in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Endpoints {
    pub emulator: Option<SocketAddr>,
}

/// What one exchange came to.
#[derive(Debug)]
pub enum Outcome {
    /// Accepted; the reply may carry a new token, a ticket number and a QR code.
    Accepted(Box<Reply>),
    /// No answer, or 254/255 within the total time: stay or go autonomous, retry later.
    Unreachable(String),
    /// 2: the token is wrong; nothing more is sent until a new one is saved.
    InvalidToken,
    /// Any other refusal: the request as sent will never be accepted.
    Refused(ResultClass),
}

impl Core {
    fn ofd_of(&self, kkm: &KkmRow) -> FiscalResult<&OfdConfig> {
        self.ofd(Some(&kkm.settings.ofd_uid))
    }

    /// A client for `ofd`, through its SOCKS5 proxy when the KKM uses the software VPN.
    fn client(&self, ofd: &OfdConfig, vpn: bool) -> FiscalResult<OfdClient> {
        let addr = if ofd.endpoint == "emulator" {
            self.endpoints
                .emulator
                .ok_or_else(|| FiscalError::OfdUnreachable("the built-in OFD emulator is not running".into()))?
                .to_string()
        } else {
            ofd.endpoint.clone()
        };
        let mut config = ClientConfig::new(addr);
        config.version = ofd.protocol_version;
        config.total_time = Duration::from_millis(self.config.ofd_link.total_time_ms);
        config.allow_short_total_time = self.config.ofd_link.total_time_ms < 5_000;
        if vpn {
            let proxy = ofd.socks5.as_ref().ok_or_else(|| {
                FiscalError::OfdUnreachable(format!("use_software_vpn is set, but OFD {} has no socks5 proxy", ofd.uid))
            })?;
            config.proxy = Some(Socks5Proxy {
                addr: proxy.addr.clone(),
                auth: proxy.username.clone().map(|u| (u, proxy.password.clone().unwrap_or_default())),
            });
        }
        Ok(OfdClient::new(config))
    }

    /// The protocol version of the OFD of `kkm`.
    pub(super) fn protocol_version(&self, kkm: &KkmRow) -> u16 {
        self.ofd_of(kkm).map_or_else(|_| crate::config::default_protocol(), |o| o.protocol_version)
    }

    /// The consumer site of the OFD of `kkm`, for locally composed check URLs.
    pub(super) fn consumer_url(&self, kkm: &KkmRow) -> String {
        self.ofd_of(kkm).map(|o| o.consumer_url.clone()).unwrap_or_default()
    }

    /// The service block every fiscal request carries: registration data and, when autonomous, the
    /// offline period up to now.
    pub(super) fn service_block(&self, kkm: &KkmRow, now: NaiveDateTime) -> ServiceBlock {
        // Read through references: `from_value` would copy each whole Value first.
        let reg_info = RegInfo::deserialize(&kkm.reg_info).ok();
        let offline_period = match (kkm.is_offline, kkm.offline_start_date) {
            (true, Some(begin)) => Some((begin, now)),
            _ => None,
        };
        let held_ads = Vec::<TicketAd>::deserialize(&kkm.ads_info)
            .unwrap_or_default()
            .iter()
            .map(|ad| (ad.info.ad_type, ad.info.version))
            .collect();
        ServiceBlock { get_reg_info: false, reg_info, offline_period, held_ads }
    }

    /// Sends one request with the KKM's token and the given REQNUM; a resend of the same document uses
    /// the same REQNUM, so the OFD recognises it.
    pub(super) async fn exchange(&self, kkm: &KkmRow, reqnum: u16, mut request: Request) -> FiscalResult<Outcome> {
        let ofd = self.ofd_of(kkm)?;
        if request.service.is_none() {
            request.service = Some(self.service_block(kkm, self.clock.now()).to_proto(ofd.protocol_version));
        }
        let creds = Credentials { id: kkm.settings.ofd_id as u32, token: kkm.settings.ofd_token, reqnum };
        self.exchange_with(ofd, creds, &request, kkm.settings.use_software_vpn).await
    }

    /// One exchange with `ofd`, sorted into an [`Outcome`].
    pub(super) async fn exchange_with(
        &self,
        ofd: &OfdConfig,
        creds: Credentials,
        request: &Request,
        vpn: bool,
    ) -> FiscalResult<Outcome> {
        let client = match self.client(ofd, vpn) {
            Ok(client) => client,
            Err(FiscalError::OfdUnreachable(why)) => return Ok(Outcome::Unreachable(why)),
            Err(e) => return Err(e),
        };
        Ok(match client.exchange(creds, request).await {
            Ok(reply) => match &reply.class {
                ResultClass::Ok => Outcome::Accepted(Box::new(reply)),
                ResultClass::Unavailable { code } => Outcome::Unreachable(format!("OFD answered {code}")),
                ResultClass::InvalidToken => Outcome::InvalidToken,
                other => Outcome::Refused(other.clone()),
            },
            Err(ClientError::Timeout { .. }) | Err(ClientError::Proxy(_)) => {
                Outcome::Unreachable("no answer from the OFD".into())
            }
            Err(e) => Outcome::Unreachable(e.to_string()),
        })
    }

    /// A decoded stored request, with a fresh service block (the offline period's end moves on).
    pub(super) fn stored_request(&self, kkm: &KkmRow, bytes: &[u8]) -> FiscalResult<Request> {
        let mut request = wire::decode(bytes).map_err(|e| FiscalError::Internal(format!("stored OFD request: {e}")))?;
        request.service = Some(self.service_block(kkm, self.clock.now()).to_proto(self.protocol_version(kkm)));
        Ok(request)
    }
}
