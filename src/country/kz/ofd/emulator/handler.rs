//! Turns one request frame into one response frame, applying the OFD's rules: device lookup,
//! REQNUM retry rules (exact retry → cached answer, 8, 9), token check (2), per-command processing,
//! the 24 h shift limit (11) and token rotation.
use chrono::NaiveDateTime;

use super::state::{AcceptedDoc, Kkm, LastRequest, demo_reg_info};
use crate::country::kz::ofd::convert::money_to_tiyn;
use crate::country::kz::ofd::frame::{Addr, Frame};
use crate::country::kz::ofd::proto::{
    self, CommandTypeEnum, MoneyPlacementEnum, OperationTypeEnum, PaymentTypeEnum, ReportResponse, ReportTypeEnum,
    Request, Response, ServiceResponse, TicketAdTypeEnum, TicketResponse,
};
use crate::country::kz::ofd::result::code;
use std::collections::HashMap;

/// Mutable emulator state behind the handle's lock.
#[derive(Debug)]
pub struct EmuState {
    pub kkms: HashMap<u32, Kkm>,
    /// Register unknown ids on first contact.
    pub demo: bool,
    pub rotate_tokens: bool,
    pub next_ticket_number: u64,
    pub shift_limit: chrono::Duration,
    pub consumer_url: String,
    /// How many accepted documents each device keeps (the newest).
    pub accepted_kept: usize,
    /// Added to the wall clock, so tests can age a shift past 24 h.
    pub clock_offset: chrono::Duration,
}

impl EmuState {
    /// The emulator's wall clock (local time plus the injected offset).
    pub fn now(&self) -> NaiveDateTime {
        chrono::Local::now().naive_local() + self.clock_offset
    }
}

/// Version of the OFD ad the emulator hands out.
const AD_VERSION: u64 = 1;

/// Processes one request frame and returns the response frame bytes; `qr_code` false answers a ticket
/// without its QR code, as an OFD may (the server composes the check URL itself).
pub fn process(st: &mut EmuState, frame: &Frame, qr_code: bool) -> Vec<u8> {
    let h = frame.header;
    let addr = frame.addr();
    let Ok(req) = frame.decode_request() else {
        return encode(addr, &result_only(0, code::PROTOCOL_ERROR, "payload is not a Request"));
    };
    let now = st.now();
    if !st.kkms.contains_key(&h.id) {
        if !st.demo {
            return encode(addr, &result_only(req.command, code::UNKNOWN_ID, "unknown KKM id"));
        }
        st.kkms.insert(h.id, Kkm::new(h.token, demo_reg_info(h.id)));
    }
    let EmuState { kkms, rotate_tokens, next_ticket_number, shift_limit, consumer_url, accepted_kept, .. } = st;
    let Some(kkm) = kkms.get_mut(&h.id) else {
        return encode(addr, &result_only(req.command, code::UNKNOWN_ID, "unknown KKM id"));
    };

    // REQNUM rules come before the token check: an exact retry carries the pre-rotation token.
    if let Some(last) = &kkm.last
        && last.reqnum == h.reqnum
    {
        if last.token != h.token {
            return encode(
                addr,
                &result_only(req.command, code::INVALID_REQUEST_NUMBER, "same REQNUM, different TOKEN"),
            );
        }
        if last.command != req.command {
            return encode(
                addr,
                &result_only(req.command, code::INVALID_RETRY_REQUEST, "same REQNUM and TOKEN, different command"),
            );
        }
        return last.response.clone();
    }
    if h.token != kkm.token {
        return encode(addr, &result_only(req.command, code::INVALID_TOKEN, "invalid token"));
    }

    let mut ctx = Ctx {
        now,
        shift_limit: *shift_limit,
        consumer_url,
        next_ticket_number,
        version: h.version,
        qr_code,
        accepted_kept: *accepted_kept,
    };
    let resp = match handle_command(kkm, &req, h.reqnum, h.token, &mut ctx) {
        Ok(resp) => resp,
        Err(c) => result_only(req.command, c, ""),
    };
    let rotating = matches!(
        CommandTypeEnum::try_from(req.command),
        Ok(CommandTypeEnum::CommandTicket
            | CommandTypeEnum::CommandCloseShift
            | CommandTypeEnum::CommandMoneyPlacement)
    );
    if resp.result.result_code == code::OK && rotating && *rotate_tokens {
        kkm.token = new_token(kkm.token);
    }
    let bytes = encode(Addr { token: kkm.token, ..addr }, &resp);
    kkm.last = Some(LastRequest { reqnum: h.reqnum, token: h.token, command: req.command, response: bytes.clone() });
    bytes
}

struct Ctx<'a> {
    now: NaiveDateTime,
    shift_limit: chrono::Duration,
    consumer_url: &'a str,
    next_ticket_number: &'a mut u64,
    version: u16,
    qr_code: bool,
    accepted_kept: usize,
}

fn handle_command(kkm: &mut Kkm, req: &Request, reqnum: u16, token: u32, ctx: &mut Ctx) -> Result<Response, u32> {
    let mut resp = result_only(req.command, code::OK, "");
    let Ok(command) = CommandTypeEnum::try_from(req.command) else {
        return Err(code::UNKNOWN_COMMAND);
    };
    let kept = ctx.accepted_kept;
    let accept = |kkm: &mut Kkm, sum_tiyn, offline_ticket_number, ticket_number| {
        let shift_number = kkm.shift.as_ref().map_or(kkm.last_shift_number, |s| s.number);
        if kkm.accepted.len() >= kept {
            kkm.accepted.pop_front();
        }
        kkm.accepted.push_back(AcceptedDoc {
            command: req.command,
            reqnum,
            token,
            shift_number,
            sum_tiyn,
            offline_ticket_number,
            ticket_number,
        });
    };
    match command {
        CommandTypeEnum::CommandSystem => {
            resp.service = req.service.as_ref().map(|s| service_response(kkm, s, ctx.version));
        }
        CommandTypeEnum::CommandInfo => {
            resp.report = Some(match kkm.x_report(ctx.now) {
                Some(x) => ReportResponse { report: ReportTypeEnum::ReportX as i32, zx_report: Some(x) },
                None => ReportResponse {
                    report: ReportTypeEnum::ReportZ as i32,
                    zx_report: Some(kkm.last_z_or_empty(ctx.now)),
                },
            });
            resp.service = req.service.as_ref().map(|s| service_response(kkm, s, ctx.version));
        }
        CommandTypeEnum::CommandReport => {
            let r = req.report.as_ref().ok_or(code::INCORRECT_REQUEST_DATA)?;
            let z = r.report == ReportTypeEnum::ReportZ as i32;
            let report = if z { kkm.last_z_or_empty(ctx.now) } else { kkm.x_report_or_empty(ctx.now, &r.date_time) };
            resp.report = Some(ReportResponse { report: r.report, zx_report: Some(report) });
        }
        CommandTypeEnum::CommandTicket => {
            let t = req.ticket.as_ref().ok_or(code::INCORRECT_REQUEST_DATA)?;
            let (ticket_number, total) = ticket(kkm, t, ctx)?;
            let qr = qr_url(ctx.consumer_url, &ticket_number, &kkm.reg.kkm.fns_kkm_id, total, &t.date_time);
            accept(kkm, total, t.offline_ticket_number, Some(ticket_number.clone()));
            resp.ticket = Some(TicketResponse { ticket_number, qr_code: ctx.qr_code.then(|| qr.into_bytes()) });
        }
        CommandTypeEnum::CommandMoneyPlacement => {
            let m = req.money_placement.as_ref().ok_or(code::INCORRECT_REQUEST_DATA)?;
            let sum = money_placement(kkm, m, ctx)?;
            accept(kkm, sum, None, None);
        }
        CommandTypeEnum::CommandCloseShift => {
            let c = req.close_shift.as_ref().ok_or(code::INCORRECT_REQUEST_DATA)?;
            if c.withdraw_money == Some(true) && kkm.cash_tiyn > 0 {
                let cash = kkm.cash_tiyn;
                let shift = kkm.shift_mut(ctx.now, &c.close_time);
                shift.placements[1].count += 1;
                shift.placements[1].sum_tiyn += cash;
                kkm.placements_total[1] += 1;
                kkm.cash_tiyn = 0;
            }
            accept(kkm, 0, None, None);
            let z = kkm.close_shift(ctx.now, &c.close_time);
            resp.report = Some(ReportResponse { report: ReportTypeEnum::ReportZ as i32, zx_report: Some(z) });
        }
        CommandTypeEnum::CommandNomenclature => {
            resp.nomenclature = Some(proto::NomenclatureResponse {
                version: 0,
                result: Some(proto::nomenclature_response::NomenclatureResultEnum::NomenclatureResultNoVersion as i32),
                ..Default::default()
            });
        }
        CommandTypeEnum::CommandCancelTicket | CommandTypeEnum::CommandAuth | CommandTypeEnum::CommandReserved => {
            return Err(code::UNSUPPORTED_COMMAND);
        }
    }
    Ok(resp)
}

fn shift_too_long(kkm: &Kkm, ctx: &Ctx) -> bool {
    kkm.shift.as_ref().is_some_and(|s| ctx.now - s.opened_at > ctx.shift_limit)
}

/// Applies a ticket to the counters; returns the issued fiscal sign and the total in tiyn.
fn ticket(kkm: &mut Kkm, t: &proto::TicketRequest, ctx: &mut Ctx) -> Result<(String, u64), u32> {
    let offline = t.offline_ticket_number.is_some();
    if !offline && shift_too_long(kkm, ctx) {
        return Err(code::OPEN_SHIFT_TIMEOUT_EXPIRED);
    }
    let op = OperationTypeEnum::try_from(t.operation).map_err(|_| code::INCORRECT_REQUEST_DATA)?;
    let idx = op as usize;
    let tiyn = |m: &proto::Money| money_to_tiyn(m).ok_or(code::INCORRECT_REQUEST_DATA);
    let total = tiyn(&t.amounts.total)?;
    let customer = t.extension_options.as_ref().and_then(|e| e.customer_iin_or_bin.as_deref());
    if customer.is_some_and(|c| !c.is_empty() && c == kkm.reg.org.inn) {
        return Err(code::SAME_TAXPAYER_AND_CUSTOMER);
    }
    let change = t.amounts.change.as_ref().map(tiyn).transpose()?.unwrap_or(0);
    let discount = t.amounts.discount.as_ref().map(|d| tiyn(&d.sum)).transpose()?.unwrap_or(0);
    let markup = t.amounts.markup.as_ref().map(|d| tiyn(&d.sum)).transpose()?.unwrap_or(0);
    let mut cash_paid = 0u64;
    for p in &t.payments {
        if p.r#type == PaymentTypeEnum::PaymentCash as i32 {
            cash_paid = cash_paid.saturating_add(tiyn(&p.sum)?);
        }
    }
    let net_cash = cash_paid.saturating_sub(change);
    let cash_in = matches!(op, OperationTypeEnum::OperationSell | OperationTypeEnum::OperationBuyReturn);
    let new_cash = if cash_in {
        kkm.cash_tiyn.saturating_add(net_cash)
    } else {
        kkm.cash_tiyn.checked_sub(net_cash).ok_or(code::NOT_ENOUGH_CASH)?
    };

    let shift = kkm.shift_mut(ctx.now, &t.date_time);
    let c = &mut shift.ops[idx];
    c.count += 1;
    c.offline_count += u32::from(offline);
    c.total_tiyn = c.total_tiyn.saturating_add(total);
    c.gross_tiyn = c.gross_tiyn.saturating_add((total + discount).saturating_sub(markup));
    c.discount_tiyn = c.discount_tiyn.saturating_add(discount);
    c.markup_tiyn = c.markup_tiyn.saturating_add(markup);
    c.change_tiyn = c.change_tiyn.saturating_add(change);
    for p in &t.payments {
        let e = c.payments.entry(p.r#type).or_default();
        e.0 = e.0.saturating_add(tiyn(&p.sum)?);
        e.1 += 1;
    }
    kkm.cash_tiyn = new_cash;
    kkm.nns[idx] = kkm.nns[idx].saturating_add(total);
    kkm.tickets_total[idx] += 1;

    // Ten-digit fiscal signs, like Kazakhtelecom's.
    let number = *ctx.next_ticket_number;
    *ctx.next_ticket_number = if number >= 9_999_999_999 { 1_000_000_000 } else { number + 1 };
    Ok((number.to_string(), total))
}

/// Applies a deposit or withdrawal; returns its sum in tiyn.
fn money_placement(kkm: &mut Kkm, m: &proto::MoneyPlacementRequest, ctx: &Ctx) -> Result<u64, u32> {
    let offline = m.is_offline == Some(true);
    if !offline && shift_too_long(kkm, ctx) {
        return Err(code::OPEN_SHIFT_TIMEOUT_EXPIRED);
    }
    let sum = money_to_tiyn(&m.sum).ok_or(code::INCORRECT_REQUEST_DATA)?;
    let (idx, new_cash) = match MoneyPlacementEnum::try_from(m.operation) {
        Ok(MoneyPlacementEnum::MoneyPlacementDeposit) => (0, kkm.cash_tiyn.saturating_add(sum)),
        Ok(MoneyPlacementEnum::MoneyPlacementWithdrawal) => {
            (1, kkm.cash_tiyn.checked_sub(sum).ok_or(code::NOT_ENOUGH_CASH)?)
        }
        Err(_) => return Err(code::INCORRECT_REQUEST_DATA),
    };
    let shift = kkm.shift_mut(ctx.now, &m.datetime);
    shift.placements[idx].count += 1;
    shift.placements[idx].offline_count += u32::from(offline);
    shift.placements[idx].sum_tiyn = shift.placements[idx].sum_tiyn.saturating_add(sum);
    kkm.placements_total[idx] += 1;
    kkm.cash_tiyn = new_cash;
    Ok(sum)
}

/// `service` answer: registration data when asked, and the OFD ad unless the device holds it.
fn service_response(kkm: &Kkm, s: &proto::ServiceRequest, version: u16) -> ServiceResponse {
    let ofd = TicketAdTypeEnum::TicketAdOfd as i32;
    let holds_ad = s.ticket_ad_infos.iter().any(|i| i.r#type == ofd && i.version >= AD_VERSION);
    let ticket_ads = if holds_ad {
        Vec::new()
    } else {
        vec![proto::TicketAd {
            info: proto::TicketAdInfo { r#type: ofd, version: AD_VERSION },
            text: Some(format!(
                "ОФД - эмулятор Kassa\nФиск. признак ${{ticket_number}}\nКод ККМ КГД: {}\n\
                 Для проверки чека зайдите на сайт:\nhttp://consumer.test-oofd.kz",
                kkm.reg.kkm.fns_kkm_id
            )),
        }]
    };
    ServiceResponse {
        ticket_ads,
        reg_info: (s.get_reg_info == Some(true)).then(|| kkm.reg.to_response(version)),
        ..Default::default()
    }
}

/// The Kazakhtelecom consumer check URL.
fn qr_url(base: &str, ticket_number: &str, fns_kkm_id: &str, total_tiyn: u64, t: &proto::DateTime) -> String {
    format!(
        "{base}?i={ticket_number}&f={fns_kkm_id}&s={}.{:02}&t={:04}{:02}{:02}T{:02}{:02}{:02}",
        total_tiyn / 100,
        total_tiyn % 100,
        t.date.year,
        t.date.month,
        t.date.day,
        t.time.hour,
        t.time.minute,
        t.time.second.unwrap_or(0)
    )
}

/// A response with only a result (errors, money placement).
pub fn result_only(command: i32, result_code: u32, text: &str) -> Response {
    Response {
        command,
        result: proto::Result { result_code, result_text: (!text.is_empty()).then(|| text.to_string()) },
        ..Default::default()
    }
}

/// Frames a response; an unframeable response (never expected) becomes an empty answer.
pub fn encode(addr: Addr, resp: &Response) -> Vec<u8> {
    Frame::response(addr, resp).map(|f| f.to_bytes()).unwrap_or_default()
}

/// A fresh non-zero token different from the current one.
fn new_token(old: u32) -> u32 {
    loop {
        let t: u32 = rand::random();
        if t != 0 && t != old {
            return t;
        }
    }
}
