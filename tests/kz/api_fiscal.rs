//! The fiscal core over real HTTP with the built-in OFD emulator: the seed's worked example to the tiyn,
//! the journal, shifts, idempotency, and documents refused before they are made.
use crate::common;

use common::{ADMIN, TestServer, keys, seed_save_kkm, seed_trade};
use serde_json::{Value, json};

fn money(bills: u64, coins: u32) -> Value {
    json!({"bills": bills, "coins": coins})
}

async fn ready() -> TestServer {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s
}

#[tokio::test]
async fn the_seed_day_reproduces_the_seed_numbers() {
    let s = ready().await;
    let mp = s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    assert_eq!(
        keys(&mp),
        [
            "command_type",
            "is_offline",
            "is_invalid_token",
            "kkm_local_name",
            "operator_name",
            "fr_shift_number",
            "shift_document_number",
            "shift_state",
            "reg_info",
            "vat_certificate",
            "body",
            "ads_info",
            "is_dummy"
        ]
    );
    assert_eq!(
        (mp["command_type"].clone(), mp["fr_shift_number"].clone(), mp["shift_document_number"].clone()),
        (json!(6), json!(1), json!(1))
    );
    assert_eq!(mp["body"]["sum"], money(1000, 0));
    assert_eq!(mp["body"]["operator"], json!({"code": 1, "name": "Administrator"}));
    assert_eq!(
        keys(&mp["body"]),
        ["datetime", "operation", "sum", "is_offline", "fr_shift_number", "printed_document_number", "operator"]
    );

    let t = s.ok("TradeOperation", ADMIN, seed_trade()).await;
    assert_eq!(
        keys(&t),
        [
            "fiscal_id",
            "qr_code",
            "ofd_name",
            "ofd_url",
            "command_type",
            "is_offline",
            "is_invalid_token",
            "kkm_local_name",
            "operator_name",
            "fr_shift_number",
            "shift_document_number",
            "shift_state",
            "reg_info",
            "vat_certificate",
            "body",
            "ads_info",
            "is_dummy"
        ]
    );
    assert_eq!(t["is_offline"], false, "the emulator answered: online");
    let fiscal_id = t["fiscal_id"].as_str().unwrap().to_owned();
    assert_eq!(fiscal_id.len(), 10, "an OFD ticket number: {fiscal_id}");
    let qr = t["qr_code"].as_str().unwrap();
    assert!(
        qr.starts_with("http://consumer.test-oofd.kz")
            && qr.contains(&format!("i={fiscal_id}"))
            && qr.contains("s=1750.00"),
        "{qr}"
    );
    assert_eq!(t["ofd_name"], "Казахтелеком - test");
    assert_eq!(t["shift_document_number"], 2);
    let body = &t["body"];
    assert_eq!(body["operation"], 2);
    assert_eq!(body["amounts"]["total"], money(1750, 0));
    assert_eq!(body["amounts"]["taken"], money(1000, 0));
    assert_eq!(body["amounts"]["change"], money(250, 0));
    assert_eq!(body["amounts"]["discount"]["sum"], money(200, 0));
    assert_eq!(body["paymentsList"], json!([{"type": 0, "sum": money(750, 0)}, {"type": 1, "sum": money(1000, 0)}]));
    assert_eq!(body["taxesList"], json!([{"percent": 12000, "sum": money(187, 50), "is_in_total_sum": true}]));
    assert_eq!(body["itemsList"][0]["commodity"]["quantity"], 2000);
    assert_eq!(
        body["itemsList"][1],
        json!({"type": 5, "discount": {"name": "Скидка на позицию tovar1", "sum": money(50, 0), "taxesList": [], "auxiliaryList": []}})
    );
    assert_eq!(body["printed_ticket"], t["qr_code"]);
    let ad = t["ads_info"][0]["Text"].as_str().unwrap();
    assert!(ad.contains("${ticket_number}"), "ads as stored, as the vendor answers them (filled on paper): {ad}");

    let x = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!((x["report_type"].clone(), x["command_type"].clone()), (json!(1), json!(3)));
    assert_eq!(x["total_payments"], json!([750, 1000, 0, 0, 0]));
    assert_eq!(x["shift_document_number"], 3);
    let r = &x["body"];
    assert_eq!(
        r["sectionsList"],
        json!([{"section_code": "Отдел1", "operationsList": [{"operation": 2, "count": 1, "sum": money(2000, 0)}]}])
    );
    assert_eq!(r["operationsList"], json!([{"operation": 2, "count": 1, "sum": money(2000, 0)}]));
    assert_eq!(r["discountsList"], json!([{"operation": 2, "count": 2, "sum": money(250, 0)}]));
    assert_eq!(r["markupsList"], json!({}));
    assert_eq!(r["total_resultList"], json!([{"operation": 2, "count": 1, "sum": money(1750, 0)}]));
    assert_eq!(
        r["taxesList"],
        json!([{"percent": 12000, "operationsList": [{"operation": 2, "turnover": money(1750, 0), "turnover_without_tax": money(1562, 50), "sum": money(187, 50)}]}])
    );
    assert_eq!(r["cash_sum"], money(1750, 0));
    assert_eq!(r["revenue"], json!({"sum": money(1750, 0), "is_negative": false}));
    let sell = &r["ticket_operationsList"][0];
    assert_eq!(sell["operation"], 2);
    assert_eq!((sell["tickets_count"].clone(), sell["tickets_sum"].clone()), (json!(1), money(1750, 0)));
    assert_eq!((sell["change_sum"].clone(), sell["discount_sum"].clone()), (money(250, 0), money(200, 0)));
    assert_eq!(
        sell["paymentsList"],
        json!([{"payment": 0, "sum": money(750, 0), "count": 1}, {"payment": 1, "sum": money(1000, 0), "count": 1}])
    );
    assert_eq!(r["ticket_operationsList"][1]["paymentsList"], json!({}));
    assert_eq!(
        r["money_placementsList"][1],
        json!({"operation": 0, "operations_total_count": 1, "operations_count": 1, "operations_sum": money(1000, 0), "offline_count": 0})
    );
    assert_eq!(r["non_nullable_sumsList"][0], json!({"operation": 2, "sum": money(1750, 0)}));
    assert_eq!(
        r["close_shift_time"],
        json!({"date": {"year": 0, "month": 0, "day": 0}, "time": {"hour": 0, "minute": 0, "second": 0}})
    );
    assert_eq!(
        r["annulled_tickets"],
        json!({"annulled_tickets_total_count": 0, "annulled_tickets_count": 0, "annulled_operationsList": {}})
    );

    let z = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    assert_eq!(z["report_type"], 0);
    assert_eq!(z["shift_state"], 0, "the Z report closed the shift");
    assert_eq!(z["body"]["total_resultList"], r["total_resultList"]);
    assert_ne!(z["body"]["close_shift_time"]["date"]["year"], 0);
    let kkm = &s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0];
    assert_eq!(
        (kkm["shift_state"].clone(), kkm["fr_shift_number"].clone(), kkm["cash_sum"].clone()),
        (json!(0), json!(1), json!(1750))
    );
    assert_eq!(kkm["non_nullable_sums"], json!([0, 0, 1750, 0]));
    assert_eq!(kkm["start_shift_non_nullable_sums"], json!([0, 0, 1750, 0]), "carried into the next shift");

    // The next document opens shift 2 with the carried sums.
    let next = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!((next["fr_shift_number"].clone(), next["shift_document_number"].clone()), (json!(2), json!(1)));
    assert_eq!(next["body"]["start_shift_non_nullable_sumsList"][0], json!({"operation": 2, "sum": money(1750, 0)}));
    assert_eq!(next["body"]["cash_sum"], money(1750, 0));
    assert_eq!(next["body"]["ticket_operationsList"][0]["tickets_total_count"], 1, "counts since registration stay");

    // The emulator (the OFD) accepted each fiscal document exactly once (X reports are queries, not documents).
    let accepted = s.emulator().accepted(6923);
    assert_eq!(accepted.iter().map(|d| d.command).collect::<Vec<_>>(), [6, 1, 2], "{accepted:?}");
    assert_eq!(accepted[1].ticket_number.as_deref(), Some(fiscal_id.as_str()));

    // The journal.
    let list = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.iter().map(|d| d["command"].as_u64().unwrap()).collect::<Vec<_>>(), [6, 1, 3, 2, 3]);
    assert_eq!(
        keys(&list[0]),
        ["ID", "date", "command", "fr_shift_number", "shift_document_number", "is_offline", "body"]
    );
    assert_eq!(list[0]["body"], json!({"operation": 0, "sum": 1000}));
    assert_eq!(list[1]["body"], json!({"operation": 2, "payments": [0, 1], "sum": 1750, "fiscal_id": fiscal_id}));
    assert_eq!(
        list[3]["body"],
        json!({"type": 0, "revenue": 1750, "non_nullable_sums": [
        {"operation": 2, "sum": 1750}, {"operation": 0, "sum": 0}, {"operation": 3, "sum": 0}, {"operation": 1, "sum": 0}]})
    );
    let by_fiscal = s
        .ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "fiscal_id": fiscal_id, "command_type_list": [1]}))
        .await;
    assert_eq!(by_fiscal.as_array().unwrap().len(), 1);
    let (code, text) =
        s.post("GetTransactionList", Some(ADMIN), json!({"kkm_ofd_id": 6923, "fiscal_id": fiscal_id})).await;
    assert_eq!(code, 2, "fiscal_id needs command_type_list [1]: {text}");
    let shift2 = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "shift_number": 2})).await;
    assert_eq!(shift2.as_array().unwrap().len(), 1);
    let only_tickets =
        s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "command_type_list": [1, 6]})).await;
    assert_eq!(only_tickets.as_array().unwrap().len(), 2);
    let future =
        s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "period_start": "2999-01-01T00:00:00.000"})).await;
    assert_eq!(future, json!([]));
    let id = list[1]["ID"].as_i64().unwrap();
    let full = s.ok("GetTransaction", ADMIN, json!({"kkm_ofd_id": 6923, "transaction_id": id})).await;
    assert_eq!(full["body"], t["body"]);
    assert_eq!(s.post("GetTransaction", Some(ADMIN), json!({"kkm_ofd_id": 6923, "transaction_id": 999})).await.0, 43);
}

#[tokio::test]
async fn an_idempotency_key_answers_twice_and_makes_one_document() {
    let s = ready().await;
    let send = || {
        s.client
            .post(format!("{}/TradeOperation", s.base))
            .header("Authorization", ADMIN)
            .header("Idempotency-Key", "pos-7-receipt-42")
            .body(seed_trade().to_string())
            .send()
    };
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    let first: Value = send().await.unwrap().json().await.unwrap();
    let second: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first["response_code"], 0, "{first}");
    assert_eq!(first, second);
    let list = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "command_type_list": [1]})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn refusals_leave_no_document_behind() {
    let s = ready().await;
    // A sale's return pays cash out of an empty drawer: 58, and nothing is recorded.
    let mut ret = seed_trade();
    ret["operation"] = json!(3);
    ret["parent_ticket"] = json!({"fr_shift_number": 1, "shift_document_number": 1});
    let (code, _) = s.post("TradeOperation", Some(ADMIN), ret).await;
    assert_eq!(code, 58, "the drawer is empty");
    assert_eq!(
        s.post("MoneyPlacement", Some(ADMIN), json!({"kkm_ofd_id": 6923, "operation": 1, "sum": 5})).await.0,
        58
    );
    assert_eq!(
        s.post("MoneyPlacement", Some(ADMIN), json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 0})).await.0,
        2,
        "a zero sum is an invalid field, not a negative one"
    );
    assert_eq!(
        s.post("MoneyPlacement", Some(ADMIN), json!({"kkm_ofd_id": 6923, "operation": 0, "sum": -3})).await.0,
        2,
        "the vendor: a sum not above 0 is an invalid field"
    );
    assert_eq!(s.post("ZXReport", Some(ADMIN), json!({"kkm_ofd_id": 6923, "report_type": 7})).await.0, 34);
    assert_eq!(s.post("TradeOperation", Some(ADMIN), json!({"kkm_ofd_id": 1, "operation": 2})).await.0, 61);
    let mut bad = seed_trade();
    bad["items"][0]["commodity"]["price"] = json!(0);
    assert_eq!(s.post("TradeOperation", Some(ADMIN), bad).await.0, 94);
    let kkm = &s.ok("GetKKMList", ADMIN, json!({})).await[0];
    assert_eq!(
        (kkm["shift_state"].clone(), kkm["shift_document_number"].clone()),
        (json!(0), json!(0)),
        "nothing opened a shift"
    );
    assert_eq!(s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await, json!([]));
}

#[tokio::test]
async fn a_return_names_its_original_and_the_ofd_gets_it() {
    // An OFD configured for protocol 2.0.3 needs the original ticket on a return (2.0.2, the default, does not).
    let s = TestServer::start_with(|c| c.ofd.iter_mut().for_each(|o| o.protocol_version = 203)).await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    let sale = s.ok("TradeOperation", ADMIN, seed_trade()).await;
    let mut ret = seed_trade();
    ret["operation"] = json!(3);
    let (code, text) = s.post("TradeOperation", Some(ADMIN), ret.clone()).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.as_str().unwrap().contains("parent_ticket"));
    ret["parent_ticket"] = json!({"fiscal_id": sale["fiscal_id"]});
    let done = s.ok("TradeOperation", ADMIN, ret).await;
    let parent = &done["body"]["parent_ticket"];
    assert_eq!(parent["parent_ticket_number"], sale["fiscal_id"]);
    assert_eq!(parent["parent_ticket_total"], money(1750, 0));
    let kkm = &s.ok("GetKKMList", ADMIN, json!({})).await[0];
    assert_eq!(kkm["cash_sum"], 1000, "1000 + 750 in, 750 back out");
    assert_eq!(kkm["revenue"], 0);
}

#[tokio::test]
async fn cashiers_work_only_on_bound_kkms() {
    let s = ready().await;
    s.ok("SaveOperator", ADMIN, json!({"name": "Айгерім", "access_pin": "3333", "role": 3, "bindings": []})).await;
    let mp = json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 10});
    assert_eq!(s.post("MoneyPlacement", Some("3333"), mp.clone()).await.0, 72);
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "bindings": [2]})).await;
    let done = s.ok("MoneyPlacement", "3333", mp).await;
    assert_eq!(done["operator_name"], "Айгерім");
    assert_eq!(done["body"]["operator"]["code"], 2);
}

#[tokio::test]
async fn an_ofd_that_sends_no_qr_code_gets_the_check_url_composed_here() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    s.emulator().inject(kassa::country::kz::ofd::emulator::Fault::WithoutQr, 1);
    let send = || {
        s.client
            .post(format!("{}/TradeOperation", s.base))
            .header("Authorization", ADMIN)
            .header("Idempotency-Key", "pos-7-receipt-43")
            .body(seed_trade().to_string())
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let t = &first["response_data"];
    assert_eq!(t["is_offline"], false, "{first}");
    let fiscal_id = t["fiscal_id"].as_str().unwrap();
    let rnm = t["reg_info"]["kkm"]["fns_kkm_id"].as_str().unwrap();
    // The OFD's ticket number in the vendor's composed form, not an autonomous one.
    let composed = format!("http://consumer.test-oofd.kz/?&i={fiscal_id}&f={rnm}&s=1750,00&t=");
    assert!(fiscal_id.len() == 10 && t["qr_code"].as_str().unwrap().starts_with(&composed), "{t}");
    assert_eq!(t["body"]["printed_ticket"], t["qr_code"]);
    // What was stored answers the retry the same.
    let again: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(again, first);
}

#[tokio::test]
async fn an_accepted_online_ticket_is_read_with_its_sign_from_the_document_as_made() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 1000})).await;
    let t = s.ok("TradeOperation", ADMIN, seed_trade()).await;
    let fiscal_id = t["fiscal_id"].as_str().unwrap().to_owned();
    let list = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923, "command_type_list": [1]})).await;
    let id = list[0]["ID"].as_i64().unwrap();
    let read = s.ok("GetTransaction", ADMIN, json!({"kkm_ofd_id": 6923, "transaction_id": id})).await;
    assert_eq!(read["body"], t["body"], "a read shows the ticket as its sale answered it");
    assert_eq!(read["body"]["printed_document_number_old"], json!(fiscal_id));
    assert_eq!(read["body"]["printed_ticket"], t["qr_code"]);

    // Neither acceptance wrote the document again: a read makes the ticket's sign from its fiscaliser's row.
    let db = common::TestDb::open(s.dir.path());
    assert_eq!(db.int("SELECT count(*) FROM ledger_fiscal WHERE body IS NOT NULL"), 0);
    assert_eq!(db.text("SELECT ticket FROM ledger_fiscal WHERE ticket IS NOT NULL"), fiscal_id);

    // A ticket accepted by an earlier Kassa kept its whole body as amended, and that body is what a read shows.
    let stored = db.execute(
        "UPDATE ledger_fiscal SET body = (SELECT d.body FROM ledger_documents d WHERE d.id = ledger_fiscal.document_id)
           WHERE ticket IS NOT NULL",
    );
    assert_eq!(stored, Ok(1));
    let as_stored = s.ok("GetTransaction", ADMIN, json!({"kkm_ofd_id": 6923, "transaction_id": id})).await;
    assert_eq!(as_stored["body"]["printed_document_number_old"], json!(""), "{as_stored}");
    assert_eq!(as_stored["body"]["printed_ticket"], json!(""));
}
