//! Client ↔ emulator over loopback: every injected fault, token rotation, REQNUM rules, the 24 h
//! shift rule, cash counters, SOCKS5 (no auth and username/password) and response matching.
use crate::ofd_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use kassa::country::kz::ofd::client::{ClientError, Credentials, OfdClient};
use kassa::country::kz::ofd::connection::{read_frame, write_frame};
use kassa::country::kz::ofd::convert::{RegInfo, ServiceBlock, info_request, ticket_ads};
use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig, EmulatorHandle, Fault};
use kassa::country::kz::ofd::frame::{Addr, Frame, FrameError};
use kassa::country::kz::ofd::proto::{
    CommandTypeEnum, MoneyPlacementEnum, OperationTypeEnum, ReportTypeEnum, Request, Response,
};
use kassa::country::kz::ofd::result::ResultClass;
use kassa::country::kz::ofd::socks5::{Socks5Error, Socks5Proxy};
use kassa::country::kz::ofd_link::codes::{ApiErrorCode, api_code};
use ofd_support::{client, close_shift, money_placement, socks5_server, ticket};
use tokio::net::TcpListener;

const ID: u32 = 6923;
const TOKEN: u32 = 2_704_817_126;
const LONG: Duration = Duration::from_secs(5);

async fn emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

fn creds(token: u32, reqnum: u16) -> Credentials {
    Credentials { id: ID, token, reqnum }
}

fn sell(total: u64) -> Request {
    ticket(OperationTypeEnum::OperationSell, total, 0)
}

fn info() -> Request {
    info_request(&ServiceBlock { get_reg_info: true, ..Default::default() }, 203)
}

#[tokio::test]
async fn info_registers_demo_kkm_and_returns_reg_info_ads_and_z() {
    let emu = emulator().await;
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &info()).await.expect("info");
    assert_eq!(reply.class, ResultClass::Ok);
    assert_eq!(reply.new_token(), None);
    let service = reply.response.service.as_ref().expect("service block");
    let reg = RegInfo::from_service(service).expect("reg_info");
    assert_eq!(Some(&reg), emu.reg_info(ID).as_ref());
    assert_eq!(reg.kkm.kkm_id, ID.to_string());
    assert!(reg.kkm.fns_kkm_id.len() == 12 && reg.kkm.fns_kkm_id.bytes().all(|b| b.is_ascii_digit()));
    assert!(reg.org.inn.len() == 12 && reg.org.inn.bytes().all(|b| b.is_ascii_digit()));
    assert!(reg.kkm.serial_number.starts_with("ISCR"));
    assert!(!reg.org.title.is_empty() && !reg.pos.title.is_empty());
    let ads = ticket_ads(service);
    assert_eq!(ads.len(), 1);
    assert!(ads[0].text.contains("${ticket_number}") && ads[0].text.contains(&reg.kkm.fns_kkm_id));
    let report = reply.response.report.as_ref().expect("report");
    assert_eq!(report.report, ReportTypeEnum::ReportZ as i32);
    assert_eq!(report.zx_report.as_ref().map(|z| z.shift_number), Some(0));
    emu.shutdown().await;
}

#[tokio::test]
async fn ticket_rotates_token_and_returns_ticket_number_and_qr() {
    let emu = emulator().await;
    let c = client(emu.addr(), LONG);
    c.exchange(creds(TOKEN, 1), &info()).await.expect("register");
    let reply =
        c.exchange(creds(TOKEN, 2), &ticket(OperationTypeEnum::OperationSell, 69_690, 50_000)).await.expect("ticket");
    assert_eq!(reply.class, ResultClass::Ok);
    let new = reply.new_token().expect("token rotated in the response header");
    assert_ne!(new, TOKEN);
    assert_eq!(reply.header.token, new);
    assert_eq!(emu.kkm(ID).map(|k| k.token), Some(new));
    let t = reply.response.ticket.as_ref().expect("ticket body");
    assert_eq!(t.ticket_number.len(), 10);
    let fns = emu.reg_info(ID).map(|r| r.kkm.fns_kkm_id).unwrap_or_default();
    let qr = String::from_utf8(t.qr_code.clone().unwrap_or_default()).expect("utf-8 URL");
    assert_eq!(qr, format!("http://consumer.test-oofd.kz?i={}&f={fns}&s=696.90&t=20261123T123005", t.ticket_number));

    // The old token is now wrong for a new request; the new one works.
    let stale = c.exchange(creds(TOKEN, 3), &sell(100)).await.expect("answer");
    assert_eq!(stale.class, ResultClass::InvalidToken);
    assert_eq!(stale.class.api_error_code(), Some(api_code::INVALID_KKM_TOKEN));
    let fresh = c.exchange(creds(new, 4), &sell(100)).await.expect("answer");
    assert_eq!(fresh.class, ResultClass::Ok);
    assert_eq!(emu.accepted(ID).len(), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn rotation_can_be_switched_off() {
    let emu = emulator().await;
    emu.set_token_rotation(false);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &sell(500)).await.expect("ticket");
    assert_eq!(reply.class, ResultClass::Ok);
    assert_eq!(reply.new_token(), None);
    emu.shutdown().await;
}

#[tokio::test]
async fn an_emulator_keeping_two_documents_shows_the_newest_two_and_counts_every_one() {
    let emu = Emulator::start(EmulatorConfig { rotate_tokens: false, accepted_kept: 2, ..Default::default() })
        .await
        .expect("emulator starts");
    let c = client(emu.addr(), LONG);
    for (reqnum, total) in [(1, 100), (2, 200), (3, 300)] {
        let cash = ticket(OperationTypeEnum::OperationSell, total, total);
        let reply = c.exchange(creds(TOKEN, reqnum), &cash).await.expect("ticket");
        assert_eq!(reply.class, ResultClass::Ok);
    }
    let kept: Vec<(u16, u64)> = emu.accepted(ID).iter().map(|d| (d.reqnum, d.sum_tiyn)).collect();
    assert_eq!(kept, [(2, 200), (3, 300)], "the oldest went when the third came");
    // What the list forgets the OFD's counters still hold: the three sales' cash.
    assert_eq!(emu.kkm(ID).map(|k| k.cash_tiyn), Some(600));
    emu.shutdown().await;
}

#[tokio::test]
async fn delay_within_total_time_is_answered_on_first_attempt() {
    let emu = emulator().await;
    emu.inject(Fault::Delay(Duration::from_millis(100)), 1);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &sell(500)).await.expect("ticket");
    assert_eq!((reply.class, reply.attempts), (ResultClass::Ok, 1));
    emu.shutdown().await;
}

#[tokio::test]
async fn drop_before_read_is_retried_and_accepted_once() {
    let emu = emulator().await;
    emu.inject(Fault::DropBeforeRead, 2);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &sell(500)).await.expect("ticket");
    assert_eq!((reply.class, reply.attempts), (ResultClass::Ok, 3));
    assert_eq!(emu.accepted(ID).len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn drop_after_read_retry_gets_cached_answer_and_document_counts_once() {
    let emu = emulator().await;
    emu.inject(Fault::DropAfterRead, 1);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 7), &sell(12_300)).await.expect("ticket");
    assert_eq!((reply.class.clone(), reply.attempts), (ResultClass::Ok, 2));
    let accepted = emu.accepted(ID);
    assert_eq!(accepted.len(), 1, "the resend must not be a second document");
    assert_eq!((accepted[0].reqnum, accepted[0].token, accepted[0].sum_tiyn), (7, TOKEN, 12_300));
    let number = reply.response.ticket.as_ref().map(|t| t.ticket_number.clone());
    assert_eq!(accepted[0].ticket_number, number, "the cached answer is the first answer");
    assert_eq!(reply.new_token(), emu.kkm(ID).map(|k| k.token), "rotated token survives the lost answer");
    emu.shutdown().await;
}

#[tokio::test]
async fn busy_254_then_ok_is_retried_within_total_time() {
    let emu = emulator().await;
    emu.inject(Fault::Result(254), 1);
    emu.inject(Fault::Result(255), 1);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &sell(500)).await.expect("ticket");
    assert_eq!((reply.class, reply.attempts), (ResultClass::Ok, 3));
    assert_eq!(emu.accepted(ID).len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn persistent_254_ends_as_unavailable_for_offline_mode() {
    let emu = emulator().await;
    emu.inject(Fault::Result(254), 10_000);
    let reply = client(emu.addr(), Duration::from_secs(1)).exchange(creds(TOKEN, 1), &sell(500)).await.expect("answer");
    assert_eq!(reply.class, ResultClass::Unavailable { code: 254 });
    assert!(reply.class.is_retryable() && reply.attempts > 1);
    assert_eq!(reply.class.api_error_code(), Some(api_code::CONNECTION_ERROR));
    assert!(emu.accepted(ID).is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_invalid_token_is_not_retried() {
    let emu = emulator().await;
    emu.inject(Fault::Result(2), 1);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &sell(500)).await.expect("answer");
    assert_eq!((reply.class.clone(), reply.attempts), (ResultClass::InvalidToken, 1));
    assert!(reply.class.blocks_device());
    emu.shutdown().await;
}

#[tokio::test]
async fn blocked_15_carries_the_info_ad_text() {
    let emu = emulator().await;
    emu.inject(Fault::Result(15), 1);
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &info()).await.expect("answer");
    match &reply.class {
        ResultClass::Blocked { ad_text: Some(text) } => assert!(text.contains("заблокирована")),
        other => panic!("expected Blocked with text, got {other:?}"),
    }
    assert_eq!(reply.class.api_error_code(), Some(api_code::KKM_IS_BLOCKED));
    emu.shutdown().await;
}

#[tokio::test]
async fn corrupt_frame_is_a_typed_non_retryable_error() {
    let emu = emulator().await;
    emu.inject(Fault::CorruptFrame, 1);
    let err = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &info()).await.expect_err("corrupt");
    assert!(matches!(err, ClientError::InvalidResponse(FrameError::BadAppcode(_))), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.api_error_code(), api_code::INVALID_OFD_RESPONSE);
    emu.shutdown().await;
}

#[tokio::test]
async fn timeout_is_classified_retryable_for_offline_mode() {
    let emu = emulator().await;
    emu.inject(Fault::Delay(Duration::from_secs(3)), 10);
    let err = client(emu.addr(), Duration::from_millis(200))
        .exchange(creds(TOKEN, 1), &sell(500))
        .await
        .expect_err("timeout");
    assert!(matches!(err, ClientError::Timeout { attempts: 1, .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.api_error_code(), api_code::CONNECTION_ERROR);
    emu.shutdown().await;
}

#[tokio::test]
async fn refused_connection_times_out_with_last_error() {
    // A port held bound but never listening: every connect is refused, and no other process can take it.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = socket.local_addr().expect("addr");
    let err = client(addr, Duration::from_millis(200)).exchange(creds(TOKEN, 1), &info()).await.expect_err("refused");
    match err {
        ClientError::Timeout { attempts, last_error: Some(_), .. } => assert!(attempts >= 1),
        other => panic!("expected Timeout with a last error, got {other:?}"),
    }
}

#[test]
fn next_reqnum_increments_and_skips_zero_on_wrap() {
    use kassa::country::kz::ofd::client::next_reqnum;
    assert_eq!(next_reqnum(1), 2);
    assert_eq!(next_reqnum(65_534), 65_535);
    assert_eq!(next_reqnum(65_535), 1);
    assert_eq!(next_reqnum(0), 1);
}

#[test]
fn production_total_time_is_at_least_five_seconds() {
    let mut config = kassa::country::kz::ofd::client::ClientConfig::new("127.0.0.1:7777");
    config.total_time = Duration::from_millis(100);
    assert_eq!(config.effective_total_time(), Duration::from_secs(5));
    config.allow_short_total_time = true;
    assert_eq!(config.effective_total_time(), Duration::from_millis(100));
}

#[tokio::test]
async fn reqnum_rules_exact_retry_8_and_9() {
    let emu = emulator().await;
    let c = client(emu.addr(), LONG);
    let first = c.exchange(creds(TOKEN, 5), &sell(1_000)).await.expect("ticket");
    let rotated = first.new_token().expect("rotated");

    // Exact retry (same REQNUM, token and command): the cached answer, not a second document.
    let again = c.exchange(creds(TOKEN, 5), &sell(1_000)).await.expect("retry");
    assert_eq!(again.response, first.response);
    assert_eq!(again.header.token, rotated);
    assert_eq!(emu.accepted(ID).len(), 1);

    let r8 = c.exchange(creds(rotated, 5), &sell(1_000)).await.expect("answer");
    assert_eq!(r8.class, ResultClass::Rejected { code: 8, text: "same REQNUM, different TOKEN".into() });
    assert_eq!(r8.class.api_error_code(), Some(api_code::INVALID_OFD_RESPONSE));
    let r9 = c.exchange(creds(TOKEN, 5), &info()).await.expect("answer");
    assert!(matches!(r9.class, ResultClass::Rejected { code: 9, .. }), "{:?}", r9.class);
    assert_eq!(emu.accepted(ID).len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn shift_over_24h_gets_11_until_closed_but_offline_tickets_pass() {
    let emu = emulator().await;
    emu.set_token_rotation(false);
    let c = client(emu.addr(), LONG);
    assert_eq!(c.exchange(creds(TOKEN, 1), &sell(1_000)).await.expect("t1").class, ResultClass::Ok);
    emu.advance_clock(chrono::Duration::hours(25));
    let late = c.exchange(creds(TOKEN, 2), &sell(1_000)).await.expect("t2");
    assert_eq!(late.class, ResultClass::ShiftTooLong);
    assert_eq!(late.class.api_error_code(), Some(api_code::INVALID_OFD_RESPONSE));

    let mut offline = sell(2_000);
    if let Some(t) = offline.ticket.as_mut() {
        t.offline_ticket_number = Some(1003);
    }
    assert_eq!(c.exchange(creds(TOKEN, 3), &offline).await.expect("offline").class, ResultClass::Ok);

    let z = c.exchange(creds(TOKEN, 4), &close_shift(false)).await.expect("close");
    let report = z.response.report.as_ref().and_then(|r| r.zx_report.as_ref()).expect("Z report");
    assert_eq!(report.shift_number, 1);
    assert!(report.close_shift_time.is_some());
    let sells = report.ticket_operations.iter().find(|o| o.operation == OperationTypeEnum::OperationSell as i32);
    assert_eq!(sells.map(|o| (o.tickets_count, o.offline_count)), Some((2, Some(1))));

    assert_eq!(c.exchange(creds(TOKEN, 5), &sell(1_000)).await.expect("t5").class, ResultClass::Ok);
    assert_eq!(emu.kkm(ID).and_then(|k| k.open_shift_number), Some(2));
    let docs = emu.accepted(ID);
    assert_eq!(docs.iter().map(|d| d.reqnum).collect::<Vec<_>>(), [1, 3, 4, 5]);
    assert_eq!(docs[1].offline_ticket_number, Some(1003));
    emu.shutdown().await;
}

#[tokio::test]
async fn cash_counters_reports_and_not_enough_cash() {
    let emu = emulator().await;
    emu.set_token_rotation(false);
    let c = client(emu.addr(), LONG);
    let ok = |r: kassa::country::kz::ofd::client::Reply| assert_eq!(r.class, ResultClass::Ok);
    ok(c.exchange(creds(TOKEN, 1), &money_placement(MoneyPlacementEnum::MoneyPlacementDeposit, 10_000))
        .await
        .expect("deposit"));
    // 696.90 paid with 700.00 cash: the drawer gains 696.90.
    ok(c.exchange(creds(TOKEN, 2), &ticket(OperationTypeEnum::OperationSell, 69_690, 69_690)).await.expect("sell"));
    assert_eq!(emu.kkm(ID).map(|k| k.cash_tiyn), Some(79_690));

    let too_much = c
        .exchange(creds(TOKEN, 3), &money_placement(MoneyPlacementEnum::MoneyPlacementWithdrawal, 80_000))
        .await
        .expect("withdrawal");
    assert_eq!(too_much.class, ResultClass::NotEnoughCash);
    assert_eq!(too_much.class.api_error_code(), Some(api_code::NOT_ENOUGH_CASH));
    let refund = c
        .exchange(creds(TOKEN, 4), &ticket(OperationTypeEnum::OperationSellReturn, 90_000, 90_000))
        .await
        .expect("return");
    assert_eq!(refund.class, ResultClass::NotEnoughCash);

    let x = c.exchange(creds(TOKEN, 5), &info()).await.expect("info");
    let report = x.response.report.as_ref().expect("report");
    assert_eq!(report.report, ReportTypeEnum::ReportX as i32);
    let zx = report.zx_report.as_ref().expect("X report");
    assert_eq!((zx.cash_sum.bills, zx.cash_sum.coins), (796, 90));
    assert_eq!((zx.revenue.sum.bills, zx.revenue.sum.coins, zx.revenue.is_negative), (696, 90, false));
    assert_eq!(zx.shift_number, 1);

    let z = c.exchange(creds(TOKEN, 6), &close_shift(true)).await.expect("close");
    let zx = z.response.report.as_ref().and_then(|r| r.zx_report.clone()).expect("Z");
    assert_eq!((zx.cash_sum.bills, zx.cash_sum.coins), (0, 0));
    let withdrawals =
        zx.money_placements.iter().find(|m| m.operation == MoneyPlacementEnum::MoneyPlacementWithdrawal as i32);
    assert_eq!(withdrawals.map(|m| m.operations_sum.bills), Some(796));
    let nns: Vec<_> = zx.non_nullable_sums.iter().map(|n| (n.operation, n.sum.bills)).collect();
    assert_eq!(nns, [(OperationTypeEnum::OperationSell as i32, 696)]);

    let after = c.exchange(creds(TOKEN, 7), &info()).await.expect("info");
    let report = after.response.report.as_ref().expect("report");
    assert_eq!(report.report, ReportTypeEnum::ReportZ as i32);
    assert_eq!(report.zx_report.as_ref().map(|z| z.shift_number), Some(1));
    // Only the deposit, the sale and the close were accepted.
    assert_eq!(emu.accepted(ID).iter().map(|d| d.reqnum).collect::<Vec<_>>(), [1, 2, 6]);
    emu.shutdown().await;
}

#[tokio::test]
async fn report_x_shows_the_open_shift_and_report_z_the_last_close() {
    let emu = emulator().await;
    emu.set_token_rotation(false);
    let c = client(emu.addr(), LONG);
    let report = |kind: ReportTypeEnum| Request {
        command: CommandTypeEnum::CommandReport as i32,
        report: Some(kassa::country::kz::ofd::proto::ReportRequest {
            report: kind as i32,
            date_time: ofd_support::dt(15, 0, 0),
            ..Default::default()
        }),
        ..Default::default()
    };
    c.exchange(creds(TOKEN, 1), &ticket(OperationTypeEnum::OperationBuy, 0, 0)).await.expect("zero buy");
    c.exchange(creds(TOKEN, 2), &sell(2_550)).await.expect("sell");
    let x = c.exchange(creds(TOKEN, 3), &report(ReportTypeEnum::ReportX)).await.expect("X");
    let r = x.response.report.as_ref().expect("report");
    assert_eq!(r.report, ReportTypeEnum::ReportX as i32);
    let zx = r.zx_report.as_ref().expect("X body");
    let ops: Vec<_> = zx.total_result.iter().map(|o| (o.operation, o.count, o.sum.bills, o.sum.coins)).collect();
    assert_eq!(
        ops,
        [(OperationTypeEnum::OperationBuy as i32, 1, 0, 0), (OperationTypeEnum::OperationSell as i32, 1, 25, 50)]
    );
    assert!(zx.close_shift_time.is_none());

    let z = c.exchange(creds(TOKEN, 4), &report(ReportTypeEnum::ReportZ)).await.expect("Z");
    assert_eq!(z.response.report.as_ref().and_then(|r| r.zx_report.as_ref()).map(|z| z.shift_number), Some(0));
    c.exchange(creds(TOKEN, 5), &close_shift(false)).await.expect("close");
    let z = c.exchange(creds(TOKEN, 6), &report(ReportTypeEnum::ReportZ)).await.expect("Z");
    assert_eq!(z.response.report.as_ref().and_then(|r| r.zx_report.as_ref()).map(|z| z.shift_number), Some(1));
    // Reports are not documents.
    assert_eq!(emu.accepted(ID).iter().map(|d| d.reqnum).collect::<Vec<_>>(), [1, 2, 5]);
    emu.shutdown().await;
}

#[tokio::test]
async fn same_taxpayer_and_customer_gets_17() {
    let emu = emulator().await;
    let inn = emu.register_kkm(ID, TOKEN).org.inn;
    let mut t = sell(1_000);
    if let Some(body) = t.ticket.as_mut() {
        body.extension_options = Some(kassa::country::kz::ofd::proto::ticket_request::ExtensionOptions {
            customer_iin_or_bin: Some(inn),
            ..Default::default()
        });
    }
    let reply = client(emu.addr(), LONG).exchange(creds(TOKEN, 1), &t).await.expect("answer");
    assert_eq!(reply.class, ResultClass::SameTaxpayerAndCustomer);
    assert_eq!(reply.class.api_error_code(), Some(api_code::SAME_TAXPAYER_AND_CUSTOMER));
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_id_outside_demo_mode_gets_1_until_registered() {
    let emu = Emulator::start(EmulatorConfig { demo: false, ..Default::default() }).await.expect("start");
    let c = client(emu.addr(), LONG);
    let reply = c.exchange(creds(TOKEN, 1), &info()).await.expect("answer");
    assert_eq!(reply.class, ResultClass::UnknownId);
    assert_eq!(reply.class.api_error_code(), Some(api_code::INVALID_KKM_CREDENTIALS));
    emu.register_kkm(ID, TOKEN);
    assert_eq!(c.exchange(creds(TOKEN, 2), &info()).await.expect("answer").class, ResultClass::Ok);
    emu.shutdown().await;
}

fn via_proxy(target: std::net::SocketAddr, proxy: std::net::SocketAddr, auth: Option<(&str, &str)>) -> OfdClient {
    let mut config = client(target, LONG).config().clone();
    config.proxy =
        Some(Socks5Proxy { addr: proxy.to_string(), auth: auth.map(|(u, p)| (u.to_string(), p.to_string())) });
    OfdClient::new(config)
}

#[tokio::test]
async fn socks5_proxy_without_auth() {
    let emu = emulator().await;
    let (proxy, tunnels) = socks5_server(None).await;
    let reply = via_proxy(emu.addr(), proxy, None).exchange(creds(TOKEN, 1), &sell(500)).await.expect("ticket");
    assert_eq!(reply.class, ResultClass::Ok);
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    assert_eq!(emu.accepted(ID).len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn socks5_proxy_with_username_password_and_a_domain_target() {
    let emu = emulator().await;
    let (proxy, tunnels) = socks5_server(Some(("kassa", "s3cret"))).await;
    // A name only the proxy can resolve: the client must send a domain-name CONNECT, not resolve it itself.
    let mut config = via_proxy(emu.addr(), proxy, Some(("kassa", "s3cret"))).config().clone();
    config.addr = format!("ofd.kassa.test:{}", emu.addr().port());
    let reply = OfdClient::new(config.clone()).exchange(creds(TOKEN, 1), &info()).await.expect("info");
    assert_eq!(reply.class, ResultClass::Ok);
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);

    config.proxy = Some(Socks5Proxy { addr: proxy.to_string(), auth: Some(("kassa".into(), "wrong".into())) });
    let err = OfdClient::new(config).exchange(creds(TOKEN, 2), &info()).await.expect_err("bad password");
    assert!(matches!(err, ClientError::Proxy(Socks5Error::AuthFailed(1))), "{err:?}");
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    emu.shutdown().await;
}

/// A one-shot fake OFD that answers with whatever `answer` builds from the request frame.
async fn fake_ofd(answer: fn(&Frame) -> Frame) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            if let Ok(req) = read_frame(&mut s, 1 << 20).await {
                let _ = write_frame(&mut s, &answer(&req)).await;
            }
        }
    });
    addr
}

fn ok_response(command: i32) -> Response {
    Response { command, ..Default::default() }
}

#[tokio::test]
async fn response_for_another_reqnum_id_or_command_is_rejected() {
    let wrong_reqnum = fake_ofd(|req| {
        let a = req.addr();
        Frame::response(Addr { reqnum: a.reqnum.wrapping_add(1), ..a }, &ok_response(5)).expect("frame")
    })
    .await;
    let err = client(wrong_reqnum, LONG).exchange(creds(TOKEN, 9), &info()).await.expect_err("mismatch");
    assert!(matches!(err, ClientError::Mismatch { field: "REQNUM", expected: 9, got: 10 }), "{err:?}");
    assert_eq!(err.api_error_code(), api_code::INVALID_OFD_RESPONSE);

    let wrong_id = fake_ofd(|req| Frame::response(Addr { id: 1, ..req.addr() }, &ok_response(5)).expect("frame")).await;
    let err = client(wrong_id, LONG).exchange(creds(TOKEN, 1), &info()).await.expect_err("mismatch");
    assert!(matches!(err, ClientError::Mismatch { field: "ID", .. }), "{err:?}");

    let wrong_command = fake_ofd(|req| Frame::response(req.addr(), &ok_response(1)).expect("frame")).await;
    let err = client(wrong_command, LONG).exchange(creds(TOKEN, 1), &info()).await.expect_err("mismatch");
    assert!(matches!(err, ClientError::Mismatch { field: "command", expected: 5, got: 1 }), "{err:?}");

    // A payload without field 2 would decode as result 0; it must not pass as OK.
    let no_result = fake_ofd(|req| Frame::new(req.addr(), vec![0x08, 0x05]).expect("frame")).await;
    let err = client(no_result, LONG).exchange(creds(TOKEN, 1), &info()).await.expect_err("no result");
    assert!(matches!(err, ClientError::MissingResult), "{err:?}");
}

#[tokio::test]
async fn version_202_request_gets_org_tenant_id_in_field_6() {
    let emu = emulator().await;
    let mut config = client(emu.addr(), LONG).config().clone();
    config.version = 202;
    let reply = OfdClient::new(config).exchange(creds(TOKEN, 1), &info()).await.expect("info");
    assert_eq!(reply.header.version, 202);
    let org =
        reply.response.service.as_ref().and_then(|s| s.reg_info.as_ref()).and_then(|r| r.org.as_ref()).expect("org");
    assert_eq!((org.layout, org.tenant_id), (kassa::country::kz::ofd::proto::OrgLayout::V202, Some(1)));
    emu.shutdown().await;
}

#[tokio::test]
async fn unsupported_and_unknown_commands_stop_the_device() {
    let emu = emulator().await;
    let c = client(emu.addr(), LONG);
    let cancel = Request { command: CommandTypeEnum::CommandCancelTicket as i32, ..Default::default() };
    let reply = c.exchange(creds(TOKEN, 1), &cancel).await.expect("answer");
    assert!(matches!(reply.class, ResultClass::Stopped { code: 5, .. }), "{:?}", reply.class);
    let unknown = Request { command: 42, ..Default::default() };
    let reply = c.exchange(creds(TOKEN, 2), &unknown).await.expect("answer");
    assert!(matches!(reply.class, ResultClass::Stopped { code: 4, .. }), "{:?}", reply.class);
    emu.shutdown().await;
}
