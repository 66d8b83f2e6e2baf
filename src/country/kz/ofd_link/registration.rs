//! Registration: `SaveKKM` asks the OFD (COMMAND_INFO with `get_reg_info`) for the KKM's registration data
//! and ticket ads whenever a KKM is created or its token or OFD changes. Nothing is saved when the OFD
//! cannot confirm the KKM.
use crate::country::kz::books;
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::link::Outcome;
use crate::country::kz::ofd::client::Credentials;
use crate::country::kz::ofd::convert::{self, RegInfo, ServiceBlock, TicketAd};
use crate::country::kz::ofd::result::ResultClass;
use crate::country::kz::pipeline::reqnum_step;
use crate::country::kz::{Caller, Core};
use crate::ledger::within;
use crate::store::{KkmRow, PrinterEntity, VatCertificate};
use crate::text;
use std::sync::Arc;

/// `SaveKKM` input. `None` keeps the stored value on update and takes the default on create.
#[derive(Debug, Clone, Default)]
pub struct SaveKkm {
    pub ofd_id: i64,
    /// `None` or `Some(0)` keeps the stored token.
    pub ofd_token: Option<u32>,
    pub ofd_uid: Option<String>,
    pub local_name: Option<String>,
    pub use_software_vpn: Option<bool>,
    pub auto_withdraw_money: Option<bool>,
    /// `Some(None)` clears the printer.
    pub printer: Option<Option<PrinterEntity>>,
    pub vat_certificate: Option<VatCertificate>,
    pub custom_data: Option<serde_json::Value>,
    pub bindings: Option<Vec<i64>>,
}

/// What the OFD said about a KKM.
#[derive(Debug, Clone)]
pub struct Registration {
    pub reg_info: serde_json::Value,
    pub ads: serde_json::Value,
    /// The token after the exchange (the OFD may have issued a new one).
    pub token: u32,
    /// The REQNUM the exchange used.
    pub reqnum: u16,
}

/// Keeps the newest version of each ad type: the OFD sends only ads newer than those the device holds.
pub fn merge_ads(held: &serde_json::Value, fresh: Vec<TicketAd>) -> serde_json::Value {
    let mut ads: Vec<TicketAd> = serde::Deserialize::deserialize(held).unwrap_or_default();
    for ad in fresh {
        match ads.iter_mut().find(|a| a.info.ad_type == ad.info.ad_type) {
            Some(old) if old.info.version < ad.info.version => *old = ad,
            Some(_) => {}
            None => ads.push(ad),
        }
    }
    serde_json::to_value(ads).unwrap_or_else(|_| serde_json::json!([]))
}

impl Core {
    /// `SaveKKM`: validates, registers with the OFD when needed, then saves.
    pub async fn save_kkm(self: &Arc<Self>, caller: &Caller, cmd: SaveKkm) -> FiscalResult<KkmRow> {
        caller.require_admin(text!("сохранять кассы", "кассаларды сақтай"))?;
        let ofd_id = cmd.ofd_id;
        let existing = self.blocking(move |core| core.ledger.read(|tx| books::kkm_by_ofd_id(tx, ofd_id))).await?;
        if let Some(k) = &existing {
            // A known KKM's registration takes its REQNUM and wakes its sender: the node serving it does that.
            self.ledger.serve_here(k.device_id, crate::ledger::serving::REQUEST).await?;
        }
        let token = cmd.ofd_token.filter(|t| *t != 0);
        let uid = cmd.ofd_uid.clone();
        let changed = match &existing {
            None => true,
            Some(k) => {
                // A token given while the OFD refuses it, or while the KKM is blocked, is checked again.
                token.is_some_and(|t| t != k.settings.ofd_token || k.is_invalid_token || k.is_blocked)
                    || uid.as_deref().is_some_and(|u| !u.eq_ignore_ascii_case(&k.settings.ofd_uid))
            }
        };
        let registration = if changed {
            self.check_save(caller, &cmd)?;
            Some(self.register(&cmd, existing.as_ref()).await?)
        } else {
            None
        };
        let who = caller.clone();
        let saved = self.blocking(move |core| core.save_kkm_settings(&who, cmd, registration)).await?;
        if changed && existing.is_some() {
            // A new token lets a stopped queue go on.
            self.wake_sender(saved.device_id);
        }
        Ok(saved)
    }

    /// Asks the OFD about the KKM `cmd` describes.
    async fn register(self: &Arc<Self>, cmd: &SaveKkm, existing: Option<&KkmRow>) -> FiscalResult<Registration> {
        let ofd = self.ofd(cmd.ofd_uid.as_deref().or(existing.map(|k| k.settings.ofd_uid.as_str())))?.clone();
        let token = cmd.ofd_token.filter(|t| *t != 0).or(existing.map(|k| k.settings.ofd_token)).ok_or(
            FiscalError::InvalidField {
                field: "ofd_token",
                reason: text!("новой кассе нужен токен, выданный её ОФД", "жаңа кассаға оның ФДО берген токені керек"),
            },
        )?;
        let reqnum = match existing {
            // Commit the REQNUM before the request leaves, like every other.
            Some(k) => {
                let device = k.device_id;
                self.blocking(move |core| core.take_reqnum(device)).await?
            }
            None => 1,
        };
        let held = existing.map(|k| k.ads_info.clone()).unwrap_or_else(|| serde_json::json!([]));
        let service = ServiceBlock { get_reg_info: true, ..Default::default() };
        let request = convert::info_request(&service, ofd.protocol_version);
        let creds = Credentials { id: cmd.ofd_id as u32, token, reqnum };
        let vpn = cmd.use_software_vpn.or(existing.map(|k| k.settings.use_software_vpn)).unwrap_or(false);
        match self.exchange_with(&ofd, creds, &request, vpn).await? {
            Outcome::Accepted(reply) => {
                let service = reply.response.service.clone().unwrap_or_default();
                let reg_info = RegInfo::from_service(&service)
                    .ok_or_else(|| FiscalError::RegistrationFailed("the OFD sent no registration data".into()))?;
                Ok(Registration {
                    reg_info: serde_json::to_value(reg_info).map_err(|e| FiscalError::Internal(e.to_string()))?,
                    ads: merge_ads(&held, convert::ticket_ads(&service)),
                    token: reply.new_token().unwrap_or(token),
                    reqnum,
                })
            }
            Outcome::Unreachable(why) => Err(FiscalError::RegistrationFailed(why)),
            Outcome::InvalidToken => Err(FiscalError::InvalidToken),
            Outcome::Refused(ResultClass::UnknownId) => Err(FiscalError::UnknownAtOfd(cmd.ofd_id)),
            Outcome::Refused(class) => Err(FiscalError::OfdRefused {
                api_code: super::codes::api_code::INVALID_OFD_RESPONSE,
                reason: super::send::refusal_text(&class),
            }),
        }
    }
}

impl Core {
    /// Commits the next REQNUM of a KKM's device before a request that is no document leaves.
    fn take_reqnum(&self, device: i64) -> FiscalResult<u16> {
        let taken = self.ledger.write(|tx| within::take_request_number(tx, device, reqnum_step))?;
        Ok(u16::try_from(taken).unwrap_or_default())
    }

    /// Asks the OFD of KKM `ofd_id` for its registration data and current report (COMMAND_INFO), with the
    /// stored token and the next REQNUM; keeps a new token, the registration data and newer ads. Returns the
    /// OFD's answer as JSON.
    pub async fn ofd_info(self: &Arc<Self>, ofd_id: i64) -> FiscalResult<serde_json::Value> {
        let kkm = self
            .blocking(move |core| {
                let kkm = core.ledger.read(|tx| books::kkm_by_ofd_id(tx, ofd_id))?;
                let mut kkm = kkm.ok_or(FiscalError::KkmNotFound(ofd_id))?;
                kkm.ofd_reqnum = core.take_reqnum(kkm.device_id)?;
                Ok(kkm)
            })
            .await?;
        let ofd = self.ofd(Some(&kkm.settings.ofd_uid))?.clone();
        let mut service = self.service_block(&kkm, self.clock.now());
        service.get_reg_info = true;
        let request = convert::info_request(&service, ofd.protocol_version);
        let creds = Credentials { id: ofd_id as u32, token: kkm.settings.ofd_token, reqnum: kkm.ofd_reqnum };
        match self.exchange_with(&ofd, creds, &request, kkm.settings.use_software_vpn).await? {
            Outcome::Accepted(reply) => {
                let service = reply.response.service.clone().unwrap_or_default();
                let reg_info = RegInfo::from_service(&service).map(|r| serde_json::to_value(r).unwrap_or_default());
                let ads = convert::ticket_ads(&service);
                let token = reply.new_token();
                let kkm_id = kkm.id;
                self.blocking(move |core| {
                    core.ledger.write(|tx| {
                        let mut kkm = tx.kz_kkm_row(kkm_id)?.ok_or(FiscalError::KkmNotFound(ofd_id))?;
                        if let Some(reg) = reg_info {
                            kkm.reg_info = reg;
                        }
                        kkm.ads_info = merge_ads(&kkm.ads_info, ads);
                        if let Some(t) = token {
                            kkm.settings.ofd_token = t;
                        }
                        tx.update_kkm_state(&kkm)?;
                        Ok(())
                    })
                })
                .await?;
                serde_json::to_value(&reply.response).map_err(|e| FiscalError::Internal(e.to_string()))
            }
            Outcome::Unreachable(why) => Err(FiscalError::OfdUnreachable(why)),
            Outcome::InvalidToken => Err(FiscalError::InvalidToken),
            Outcome::Refused(ResultClass::UnknownId) => Err(FiscalError::UnknownAtOfd(ofd_id)),
            Outcome::Refused(class) => Err(FiscalError::OfdRefused {
                api_code: super::codes::api_code::INVALID_OFD_RESPONSE,
                reason: super::send::refusal_text(&class),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::country::kz::ofd::convert::TicketAdInfo;

    fn ad(kind: i32, version: u64, text: &str) -> TicketAd {
        TicketAd { info: TicketAdInfo { ad_type: kind, version }, text: text.into() }
    }

    #[test]
    fn newer_ads_replace_older_ones_of_their_type() {
        let held = serde_json::to_value(vec![ad(0, 5, "old"), ad(1, 3, "org")]).unwrap();
        let merged: Vec<TicketAd> =
            serde_json::from_value(merge_ads(&held, vec![ad(0, 6, "new"), ad(1, 2, "stale"), ad(4, 1, "info")]))
                .unwrap();
        assert_eq!(merged, vec![ad(0, 6, "new"), ad(1, 3, "org"), ad(4, 1, "info")]);
    }
}
