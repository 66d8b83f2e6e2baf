//! Limits of the fiscal core over HTTP, with a pinned clock: shift length, autonomous-mode length,
//! a KKM kept busy, and document numbers under concurrent POS calls.
use crate::common;

use chrono::{Duration as Hours, NaiveDate};
use common::{ADMIN, TestServer, seed_save_kkm};
use kassa::config::Config;
use kassa::country::kz::ofd::emulator::Fault;
use kassa::ledger::clock::FixedClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn sale(sum: u32) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Шай", "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 1, "sum": sum}],
        "amounts": {"total": sum}
    })
}

async fn with_clock(tweak: impl FnOnce(&mut Config)) -> (TestServer, Arc<FixedClock>) {
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
    let clock = Arc::new(FixedClock::new(start));
    let mut config = Config::default();
    config.ofd_link.total_time_ms = 300;
    config.ofd_link.reconnect_ms = 100;
    tweak(&mut config);
    let s = TestServer::start_full(tempfile::tempdir().unwrap(), config, clock.clone()).await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    (s, clock)
}

#[tokio::test]
async fn with_auto_close_off_a_sale_in_a_shift_over_24_hours_is_76() {
    let (s, clock) = with_clock(|c| c.fiscal.auto_close_shift = false).await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    let opened = clock.now_value();
    clock.set(opened + Hours::hours(24) + Hours::minutes(1));
    let (code, text) = s.post("TradeOperation", Some(ADMIN), sale(100)).await;
    assert_eq!(code, 76, "the vendor retired 31: a shift that must be closed is 76: {text}");
    // Closing is still allowed, and the next document opens a new shift.
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    let t = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!(t["fr_shift_number"], 2);
}

/// Issue 19, item 11: as the vendor's server (`uCashRegister.pas:372-382`), only a sale closes an old shift
/// first; an X report and a money placement go into the shift as it is.
#[tokio::test]
async fn an_old_shift_is_closed_before_the_next_sale_only() {
    let (s, clock) = with_clock(|_| {}).await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    clock.set(clock.now_value() + Hours::hours(25));
    let mp = s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 10})).await;
    let x = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!((mp["fr_shift_number"].clone(), x["fr_shift_number"].clone()), (json!(1), json!(1)));
    let t = s.ok("TradeOperation", ADMIN, sale(70)).await;
    assert_eq!((t["fr_shift_number"].clone(), t["shift_document_number"].clone()), (json!(2), json!(1)));
    let journal = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await;
    let commands: Vec<u64> = journal.as_array().unwrap().iter().map(|d| d["command"].as_u64().unwrap()).collect();
    assert_eq!(commands, [1, 6, 3, 2, 1], "sale, placement, X, automatic Z, sale");
}

#[tokio::test]
async fn autonomous_mode_past_72_hours_refuses_new_documents_with_18() {
    let (s, clock) = with_clock(|_| {}).await;
    s.emulator().inject(Fault::DropBeforeRead, 1_000_000);
    let t = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!(t["is_offline"], true);
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    clock.set(clock.now_value() + Hours::hours(72) + Hours::minutes(1));
    let (code, text) = s.post("TradeOperation", Some(ADMIN), sale(100)).await;
    assert_eq!(code, 18, "{text}");
    // The OFD returns: the queue is delivered, and work goes on.
    s.emulator().clear_faults();
    for _ in 0..200 {
        if s.ok("GetKKMList", ADMIN, json!({})).await[0]["is_offline"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.post("TradeOperation", Some(ADMIN), sale(100)).await.0, 0);
}

#[tokio::test]
async fn a_caller_kept_waiting_too_long_gets_69() {
    let s = TestServer::start_with(|c| {
        c.fiscal.busy_wait_ms = 100;
        c.ofd_link.total_time_ms = 3000;
    })
    .await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s.emulator().inject(Fault::Delay(Duration::from_millis(800)), 1);
    let (slow, busy) = tokio::join!(s.post("TradeOperation", Some(ADMIN), sale(10)), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.post("TradeOperation", Some(ADMIN), sale(20)).await
    });
    assert_eq!(slow.0, 0, "{slow:?}");
    assert_eq!(busy.0, 69, "{busy:?}");
}

#[tokio::test]
async fn concurrent_pos_calls_get_every_number_once() {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let calls = (0..24).map(|i| s.post("TradeOperation", Some(ADMIN), sale(10 + i)));
    let answers = futures::future::join_all(calls).await;
    let mut numbers: Vec<i64> = answers
        .iter()
        .map(|(code, data)| {
            assert_eq!(*code, 0, "{data}");
            data["shift_document_number"].as_i64().unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=24).collect::<Vec<_>>(), "no duplicate, no gap");
    assert_eq!(s.emulator().accepted(6923).len(), 24);
}

/// Sales and refused withdrawals on four KKMs at once: the writer thread commits the ones waiting together in
/// one transaction, and a withdrawal refused inside it (the drawer is read there) fails only its own caller.
/// Every sale is kept once, numbered without a gap, counted and sent; every refusal leaves nothing. (A refusal
/// writes nothing before it is refused: the rollback of a failed write's rows is `store::writer`'s unit tests'.)
#[tokio::test]
async fn refusals_among_concurrent_sales_on_many_kkms_fail_only_themselves() {
    let s = TestServer::start().await;
    let kkms = [6923, 6924, 6925, 6926];
    for id in kkms {
        let mut kkm = seed_save_kkm();
        kkm["ofd_id"] = json!(id);
        kkm["local_name"] = json!(format!("K{id}"));
        s.ok("SaveKKM", ADMIN, kkm).await;
    }
    let s = &s;
    let calls = kkms.iter().flat_map(|&id| {
        (0..9).map(move |i| {
            let body = if i % 3 == 2 {
                json!({"kkm_ofd_id": id, "operation": 1, "sum": 1_000_000_000})
            } else {
                let mut sale = sale(100 + i);
                sale["kkm_ofd_id"] = json!(id);
                sale
            };
            let method = if i % 3 == 2 { "MoneyPlacement" } else { "TradeOperation" };
            async move { (id, i, s.post(method, Some(ADMIN), body).await) }
        })
    });
    let answers = futures::future::join_all(calls).await;
    for (id, i, (code, data)) in &answers {
        let want = if i % 3 == 2 { 58 } else { 0 };
        assert_eq!(*code, want, "KKM {id}, call {i}: {data}");
    }
    let kept: u32 = (0..9).filter(|i| i % 3 != 2).map(|i| 100 + i).sum();
    for id in kkms {
        let mut numbers: Vec<i64> = answers
            .iter()
            .filter(|(k, _, (code, _))| *k == id && *code == 0)
            .map(|(_, _, (_, data))| data["shift_document_number"].as_i64().unwrap())
            .collect();
        numbers.sort();
        assert_eq!(numbers, (1..=6).collect::<Vec<_>>(), "KKM {id}: no gap, no duplicate");
        let journal = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": id})).await;
        assert_eq!(journal.as_array().unwrap().len(), 6, "KKM {id}: the refusals left no document");
        let kkm = &s.ok("GetKKMList", ADMIN, json!({"ofd_id": id})).await[0];
        // Paid by card (`sale`): the drawer stays empty, and the shift's revenue is the kept sales.
        assert_eq!((&kkm["cash_sum"], &kkm["revenue"]), (&json!(0), &json!(kept)), "KKM {id}");
        assert_eq!(kkm["non_nullable_sums"][2], json!(kept), "KKM {id}: the sales' non-nullable sum");
        assert_eq!(s.emulator().accepted(id as u32).len(), 6, "KKM {id}: each sale sent once");
    }
}
