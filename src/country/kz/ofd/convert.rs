//! Builders for the service block and SYSTEM/INFO requests, and plain-Rust views of what the OFD
//! says about the device (registration data, ads), so the fiscal core need not walk prost structs.
//!
//! Money and dates convert here too: the wire carries `{bills, coins}` integers and zone-less
//! wall-clock `DateTime`s.
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;

use super::org::OrgRegInfo;
use super::proto::{
    self, CommandTypeEnum, KkmRegInfo, Money, Request, ServiceRequest, ServiceResponse, service_request,
};

/// Wall-clock time to the wire `DateTime` (seconds included).
pub fn to_proto_datetime(t: NaiveDateTime) -> proto::DateTime {
    proto::DateTime {
        date: proto::Date { year: t.year().max(0) as u32, month: t.month(), day: t.day() },
        time: proto::Time { hour: t.hour(), minute: t.minute(), second: Some(t.second()) },
    }
}

/// Wire `DateTime` to wall-clock time; `None` when the fields are not a real date and time.
pub fn from_proto_datetime(d: &proto::DateTime) -> Option<NaiveDateTime> {
    let year = i32::try_from(d.date.year).ok()?;
    NaiveDate::from_ymd_opt(year, d.date.month, d.date.day)?.and_hms_opt(
        d.time.hour,
        d.time.minute,
        d.time.second.unwrap_or(0),
    )
}

/// An amount in tiyn (1/100 tenge) to wire `Money`.
pub fn money_from_tiyn(tiyn: u64) -> Money {
    Money { bills: tiyn / 100, coins: (tiyn % 100) as u32 }
}

/// Wire `Money` to tiyn; `None` on overflow (coins above 99 are added, not rejected).
pub fn money_to_tiyn(m: &Money) -> Option<u64> {
    m.bills.checked_mul(100)?.checked_add(u64::from(m.coins))
}

/// Wire `Money` to a tenge amount with two decimals; `None` if it does not fit.
pub fn money_to_decimal(m: &Money) -> Option<Decimal> {
    let tiyn = i64::try_from(money_to_tiyn(m)?).ok()?;
    Some(Decimal::new(tiyn, 2))
}

/// A non-negative tenge amount to wire `Money`; `None` for negative amounts or fractions of a tiyn
/// (rounding is the fiscal core's decision, not the wire's).
pub fn money_from_decimal(d: Decimal) -> Option<Money> {
    if d.is_sign_negative() || d.round_dp(2) != d {
        return None;
    }
    let tiyn = d * Decimal::ONE_HUNDRED;
    u64::try_from(tiyn).ok().map(money_from_tiyn)
}

/// What to put in `Request.service`.
#[derive(Clone, Debug, Default)]
pub struct ServiceBlock {
    /// Ask the OFD to send registration data back.
    pub get_reg_info: bool,
    /// The device's registration data, sent "in every fiscal request".
    pub reg_info: Option<RegInfo>,
    /// `(begin, end)` of the current offline period; DELPHI sends zero dates when online.
    pub offline_period: Option<(NaiveDateTime, NaiveDateTime)>,
    /// Ad versions the device already holds, so the OFD skips them.
    pub held_ads: Vec<(i32, u64)>,
}

impl ServiceBlock {
    /// Builds the wire `ServiceRequest`, laying out `OrgRegInfo` for the header VERSION.
    pub fn to_proto(&self, version: u16) -> ServiceRequest {
        ServiceRequest {
            get_reg_info: Some(self.get_reg_info),
            reg_info: self.reg_info.as_ref().map(|r| r.to_request(version)),
            offline_period: self.offline_period.map(|(b, e)| service_request::OfflinePeriod {
                begin_time: to_proto_datetime(b),
                end_time: to_proto_datetime(e),
            }),
            ticket_ad_infos: self
                .held_ads
                .iter()
                .map(|&(r#type, version)| proto::TicketAdInfo { r#type, version })
                .collect(),
            ..Default::default()
        }
    }
}

/// A COMMAND_INFO request (the open shift's X report or the last Z report, plus the service block).
pub fn info_request(service: &ServiceBlock, version: u16) -> Request {
    Request {
        command: CommandTypeEnum::CommandInfo as i32,
        service: Some(service.to_proto(version)),
        ..Default::default()
    }
}

/// A COMMAND_SYSTEM request: keep-alive, offline-period carrier, BLOCKED polling.
pub fn system_request(service: &ServiceBlock, version: u16) -> Request {
    Request {
        command: CommandTypeEnum::CommandSystem as i32,
        service: Some(service.to_proto(version)),
        ..Default::default()
    }
}

/// Organisation data as the POS sees it (`reg_info.org`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgInfo {
    pub title: String,
    pub address: String,
    pub inn: String,
    pub taxation_type: u32,
    pub okved: String,
    #[serde(rename = "tenantId")]
    pub tenant_id: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_kz: Option<String>,
}

/// Point of sale (`reg_info.pos`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PosInfo {
    pub title: String,
    pub address: String,
}

/// The register itself (`reg_info.kkm`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KkmInfo {
    pub point_of_payment_number: String,
    pub terminal_number: String,
    /// РНМ, the 12-digit KGD registration number.
    pub fns_kkm_id: String,
    /// ЗНМ, the factory number.
    pub serial_number: String,
    /// The OFD device id as a string (equals header ID).
    pub kkm_id: String,
}

/// Registration data in the shape the seed API returns as `reg_info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegInfo {
    pub org: OrgInfo,
    pub pos: PosInfo,
    pub kkm: KkmInfo,
}

impl RegInfo {
    /// Reads `service.reg_info` of a response; `None` when the OFD sent none.
    pub fn from_service(service: &ServiceResponse) -> Option<RegInfo> {
        let r = service.reg_info.as_ref()?;
        let org = r.org.as_ref().map(org_from_proto).unwrap_or_default();
        let pos = r
            .pos
            .as_ref()
            .map(|p| PosInfo {
                title: p.title.clone().unwrap_or_default(),
                address: p.address.clone().unwrap_or_default(),
            })
            .unwrap_or_default();
        let kkm = r.kkm.as_ref().map(kkm_from_proto).unwrap_or_default();
        Some(RegInfo { org, pos, kkm })
    }

    /// The request-side `RegInfo{kkm, org}` with `org` laid out for `version`.
    pub fn to_request(&self, version: u16) -> service_request::RegInfo {
        service_request::RegInfo { kkm: Some(self.kkm_proto()), org: Some(self.org_proto(version)) }
    }

    /// The response-side `RegInfo{kkm, pos, org}` (used by the emulator).
    pub fn to_response(&self, version: u16) -> proto::service_response::RegInfo {
        proto::service_response::RegInfo {
            kkm: Some(self.kkm_proto()),
            pos: Some(proto::PosRegInfo {
                title: Some(self.pos.title.clone()),
                address: Some(self.pos.address.clone()),
                ..Default::default()
            }),
            org: Some(self.org_proto(version)),
        }
    }

    fn kkm_proto(&self) -> KkmRegInfo {
        let k = &self.kkm;
        KkmRegInfo {
            point_of_payment_number: Some(k.point_of_payment_number.clone()),
            terminal_number: Some(k.terminal_number.clone()),
            fns_kkm_id: Some(k.fns_kkm_id.clone()),
            serial_number: Some(k.serial_number.clone()),
            kkm_id: Some(k.kkm_id.clone()),
        }
    }

    fn org_proto(&self, version: u16) -> OrgRegInfo {
        let o = &self.org;
        OrgRegInfo {
            title: Some(o.title.clone()),
            address: Some(o.address.clone()),
            inn: Some(o.inn.clone()),
            taxation_type: Some(o.taxation_type),
            okved: Some(o.okved.clone()),
            address_kz: o.address_kz.clone(),
            tenant_id: Some(o.tenant_id),
            layout: Default::default(),
        }
        .for_version(version)
    }
}

fn org_from_proto(o: &OrgRegInfo) -> OrgInfo {
    OrgInfo {
        title: o.title.clone().unwrap_or_default(),
        address: o.address.clone().unwrap_or_default(),
        inn: o.inn.clone().unwrap_or_default(),
        taxation_type: o.taxation_type.unwrap_or_default(),
        okved: o.okved.clone().unwrap_or_default(),
        tenant_id: o.tenant_id.unwrap_or_default(),
        address_kz: o.address_kz.clone(),
    }
}

fn kkm_from_proto(k: &KkmRegInfo) -> KkmInfo {
    KkmInfo {
        point_of_payment_number: k.point_of_payment_number.clone().unwrap_or_default(),
        terminal_number: k.terminal_number.clone().unwrap_or_default(),
        fns_kkm_id: k.fns_kkm_id.clone().unwrap_or_default(),
        serial_number: k.serial_number.clone().unwrap_or_default(),
        kkm_id: k.kkm_id.clone().unwrap_or_default(),
    }
}

/// One ad text, in the seed's `ads_info` shape (`{"info": {"type", "version"}, "Text"}`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketAd {
    pub info: TicketAdInfo,
    #[serde(rename = "Text")]
    pub text: String,
}

/// Ad kind and version: type 0 OFD, 1 ORG, 2 POS, 3 KKM, 4 INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketAdInfo {
    #[serde(rename = "type")]
    pub ad_type: i32,
    pub version: u64,
}

/// All ads in `service.ticket_ads`, in the order sent.
pub fn ticket_ads(service: &ServiceResponse) -> Vec<TicketAd> {
    service
        .ticket_ads
        .iter()
        .map(|ad| TicketAd {
            info: TicketAdInfo { ad_type: ad.info.r#type, version: ad.info.version },
            text: ad.text.clone().unwrap_or_default(),
        })
        .collect()
}
