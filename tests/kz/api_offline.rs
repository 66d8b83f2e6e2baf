//! Autonomous mode over real HTTP: the OFD goes away, documents queue with their own numbers, the queue is
//! delivered in order when it returns; a shift closed while offline; refused tokens and OFD blocks.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm};
use kassa::country::kz::ofd::emulator::Fault;
use serde_json::{Value, json};
use std::time::Duration;

fn sale(sum: u32) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": sum}],
        "amounts": {"total": sum}
    })
}

async fn ready() -> TestServer {
    let s = TestServer::start_with(|c| {
        c.ofd_link.total_time_ms = 400;
        c.ofd_link.reconnect_ms = 150;
    })
    .await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s
}

async fn kkm(s: &TestServer) -> Value {
    s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone()
}

/// Waits until the KKM is online again with an empty queue (the sender delivered everything).
async fn until_online(s: &TestServer) -> Value {
    for _ in 0..200 {
        let k = kkm(s).await;
        if k["is_offline"] == false {
            return k;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the queue was not delivered");
}

#[tokio::test]
async fn a_day_with_the_ofd_down_queues_in_order_and_delivers_when_it_returns() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 500})).await;
    s.emulator().inject(Fault::DropBeforeRead, 10_000);

    let first = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!(first["is_offline"], true);
    assert_eq!(first["fiscal_id"], "1001", "autonomous numbers start at 1001");
    assert_eq!(first["body"]["offline_ticket_number"], 1001);
    let rnm = first["reg_info"]["kkm"]["fns_kkm_id"].as_str().unwrap().to_owned();
    let qr = first["qr_code"].as_str().unwrap();
    // The vendor's autonomous form: `/?&`, a decimal comma (the seed's `…/?&i=1008&f=…&s=1750,00&t=…`).
    assert!(qr.starts_with(&format!("http://consumer.test-oofd.kz/?&i=1001&f={rnm}&s=100,00&t=")), "{qr}");
    assert!(first["ads_info"][0]["Text"].as_str().unwrap().contains("${ticket_number}"), "ads as stored");
    let k = kkm(&s).await;
    assert_eq!(k["is_offline"], true);
    assert_ne!(k["offline_start_date"], "1899-12-30T00:00:00.000");
    assert_eq!(k["offline_ticket_number"], 1001);

    // While the queue is not empty, new documents join its tail without waiting for the OFD.
    let second = s.ok("TradeOperation", ADMIN, sale(200)).await;
    assert_eq!(second["fiscal_id"], "1002");
    let mp = s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 1, "sum": 50})).await;
    assert_eq!(mp["is_offline"], true);
    let x = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!(x["body"]["ticket_operationsList"][0]["offline_count"], 2);
    assert_eq!(x["body"]["cash_sum"], json!({"bills": 750, "coins": 0}));
    assert_eq!(s.emulator().accepted(6923).len(), 1, "only the deposit made before the outage");

    s.emulator().clear_faults();
    let k = until_online(&s).await;
    assert_ne!(k["offline_end_date"], "1899-12-30T00:00:00.000");
    let accepted = s.emulator().accepted(6923);
    let seen: Vec<(i32, Option<u32>)> = accepted.iter().map(|d| (d.command, d.offline_ticket_number)).collect();
    assert_eq!(seen, [(6, None), (1, Some(1001)), (1, Some(1002)), (6, None)], "in order, each once");
    let reqnums: Vec<u16> = accepted.iter().map(|d| d.reqnum).collect();
    assert!(reqnums.windows(2).all(|w| w[0] < w[1]), "REQNUMs increase: {reqnums:?}");

    // Online again: the next ticket gets the OFD's number.
    let online = s.ok("TradeOperation", ADMIN, sale(300)).await;
    assert_eq!(online["is_offline"], false);
    assert_eq!(online["fiscal_id"].as_str().unwrap().len(), 10);
}

#[tokio::test]
async fn a_shift_closed_while_offline_reaches_the_ofd_later() {
    let s = ready().await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    s.emulator().inject(Fault::Result(254), 10_000);
    let z = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!(z["is_offline"], true);
    assert_eq!(z["shift_state"], 0);
    assert_eq!(z["body"]["total_resultList"][0]["sum"], json!({"bills": 100, "coins": 0}));
    let next = s.ok("TradeOperation", ADMIN, sale(40)).await;
    assert_eq!((next["fr_shift_number"].clone(), next["is_offline"].clone()), (json!(2), json!(true)));
    s.emulator().clear_faults();
    until_online(&s).await;
    let commands: Vec<i32> = s.emulator().accepted(6923).iter().map(|d| d.command).collect();
    assert_eq!(commands, [1, 2, 1]);
}

#[tokio::test]
async fn a_refused_token_stops_the_queue_until_a_token_is_saved() {
    let s = ready().await;
    s.emulator().inject(Fault::Result(2), 1);
    let t = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!((t["is_offline"].clone(), t["is_invalid_token"].clone()), (json!(true), json!(true)));
    // As the vendor's server: the KKM works on autonomously, its queue waits for a token.
    let next = s.ok("TradeOperation", ADMIN, sale(5)).await;
    assert_eq!((next["is_offline"].clone(), next["is_invalid_token"].clone()), (json!(true), json!(true)));
    assert_eq!(kkm(&s).await["is_invalid_token"], true);
    assert_eq!(s.emulator().accepted(6923).len(), 0, "nothing sent with a refused token");
    // The integrator saves the token again (the OFD's cabinet says it is right): the queue goes on.
    let token = s.emulator().kkm(6923).unwrap().token;
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "ofd_token": token})).await;
    let k = until_online(&s).await;
    assert_eq!(k["is_invalid_token"], false);
    assert_eq!(s.emulator().accepted(6923).len(), 2);
}

#[tokio::test]
async fn an_ofd_block_refuses_the_document_and_blocks_the_kkm() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 500})).await;
    s.emulator().inject(Fault::Result(15), 1);
    let (code, text) = s.post("TradeOperation", Some(ADMIN), sale(100)).await;
    assert_eq!(code, 62, "{text}");
    let k = kkm(&s).await;
    assert_eq!(k["is_blocked"], true);
    assert_eq!(k["shift_document_number"], 1, "the refused ticket left no trace");
    assert_eq!(k["cash_sum"], 500);
    assert_eq!(
        s.post("MoneyPlacement", Some(ADMIN), json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 5})).await.0,
        62
    );
}

#[tokio::test]
async fn registration_errors_map_to_their_codes() {
    let s = TestServer::start_with(|c| c.ofd_link.total_time_ms = 300).await;
    s.emulator().inject(Fault::DropBeforeRead, 10_000);
    assert_eq!(s.post("SaveKKM", Some(ADMIN), seed_save_kkm()).await.0, 8, "OFD unreachable");
    s.emulator().clear_faults();
    s.emulator().inject(Fault::Result(2), 1);
    assert_eq!(s.post("SaveKKM", Some(ADMIN), seed_save_kkm()).await.0, 42);
    s.emulator().inject(Fault::Result(1), 1);
    assert_eq!(s.post("SaveKKM", Some(ADMIN), seed_save_kkm()).await.0, 17);
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({})).await, json!([]), "nothing saved");
}

use crate::ofd_support;

#[tokio::test]
async fn a_kkm_with_the_software_vpn_talks_through_the_socks5_proxy() {
    let (proxy, tunnels) = ofd_support::socks5_server(Some(("kassa", "vpn-pass"))).await;
    let s = TestServer::start_with(|c| {
        c.ofd[0].socks5 = Some(kassa::config::Socks5Config {
            addr: proxy.to_string(),
            username: Some("kassa".into()),
            password: Some("vpn-pass".into()),
        });
    })
    .await;
    let mut kkm = seed_save_kkm();
    kkm["use_software_vpn"] = json!(true);
    s.ok("SaveKKM", ADMIN, kkm).await;
    assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 1, "registration went through the proxy");
    let t = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!(t["is_offline"], false);
    assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_queued_document_refused_for_good_blocks_the_kkm_until_it_is_saved_again() {
    let s = ready().await;
    s.emulator().inject(Fault::DropBeforeRead, 10_000);
    let t = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!(t["is_offline"], true);
    // The OFD comes back but refuses the queued ticket (13: incorrect request data).
    s.emulator().clear_faults();
    s.emulator().inject(Fault::Result(13), 1);
    let mut blocked = Value::Null;
    for _ in 0..200 {
        blocked = kkm(&s).await;
        if blocked["is_blocked"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(blocked["is_blocked"], true);
    assert!(blocked["blocked_info"].as_str().unwrap().contains("13"), "the reason is visible: {blocked}");
    assert_eq!(s.post("TradeOperation", Some(ADMIN), sale(5)).await.0, 62);
    // Someone checks with the OFD and saves the KKM again: it works again, the refused ticket is not resent.
    let token = s.emulator().kkm(6923).unwrap().token;
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "ofd_token": token})).await;
    let k = kkm(&s).await;
    assert_eq!((k["is_blocked"].clone(), k["blocked_info"].clone()), (json!(false), json!("")));
    assert_eq!(s.ok("TradeOperation", ADMIN, sale(7)).await["is_offline"], false);
    assert_eq!(s.emulator().accepted(6923).len(), 1, "only the new ticket reached the OFD");
}

#[tokio::test]
async fn a_z_report_with_auto_withdraw_takes_all_cash_out_first() {
    let s = ready().await;
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "auto_withdraw_money": true})).await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 300})).await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    let z = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!(z["body"]["cash_sum"], json!({"bills": 0, "coins": 0}));
    assert_eq!(
        z["body"]["money_placementsList"][0]["operations_sum"],
        json!({"bills": 400, "coins": 0}),
        "withdrawal of 400"
    );
    let journal = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await;
    let last: Vec<Value> = journal.as_array().unwrap().iter().rev().take(2).map(|d| d["body"].clone()).collect();
    assert_eq!(last[1], json!({"operation": 1, "sum": 400}));
    assert_eq!(kkm(&s).await["cash_sum"], 0);
}

#[tokio::test]
async fn a_blocked_kkm_sends_nothing_after_a_restart_either() {
    let s = ready().await;
    s.emulator().inject(Fault::DropBeforeRead, 10_000);
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    s.ok("TradeOperation", ADMIN, sale(200)).await;
    s.emulator().clear_faults();
    s.emulator().inject(Fault::Result(13), 1);
    for _ in 0..200 {
        if kkm(&s).await["is_blocked"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kkm(&s).await["is_blocked"], true);
    let mut config = kassa::config::Config::default();
    config.ofd_link.total_time_ms = 400;
    config.ofd_link.reconnect_ms = 150;
    let s = TestServer::start_in(s.stop().await, config).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(s.emulator().accepted(6923).is_empty(), "the second ticket waits for a human");
    assert_eq!(kkm(&s).await["is_blocked"], true);
}
