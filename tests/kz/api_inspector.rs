//! The tax inspector (operator role 4) and its control receipt, over real HTTP: computed and checked like a
//! sale, rendered with its own heading and reprintable, but outside the journal, the counters, the reports
//! and the OFD; every document answer carries `is_dummy`.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm};
use serde_json::{Value, json};

fn sale(price: i64) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 2, "price": price,
            "sum": 2 * price, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 2 * price}]
    })
}

async fn ready() -> TestServer {
    let s = TestServer::start().await;
    s.ok("SaveKKM", ADMIN, seed_save_kkm()).await;
    let inspector = json!({"name": "Инспектор КГД", "access_pin": "4444", "role": 4, "bindings": []});
    let saved = s.ok("SaveOperator", ADMIN, inspector).await;
    assert_eq!(saved["role"], 4);
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "bindings": [saved["id"]]})).await;
    s
}

#[tokio::test]
async fn a_control_receipt_is_rendered_but_never_fiscal() {
    let s = ready().await;
    let real = s.ok("TradeOperation", ADMIN, sale(500)).await;
    assert_eq!(real["is_dummy"], false, "{real}");
    let before_kkm = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone();
    let before_journal = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await;
    let accepted_before = s.emulator().accepted(6923).len();

    let control = s.ok("TradeOperation", "4444", sale(700)).await;
    assert_eq!(control["is_dummy"], true, "{control}");
    assert_eq!((control["fr_shift_number"].clone(), control["shift_document_number"].clone()), (json!(0), json!(1)));
    // The vendor's placeholder fiscal sign and its autonomous-form QR (`uCashRegister.pas:1988-2009`).
    assert_eq!(control["fiscal_id"], "1234567890", "{control}");
    let qr = control["qr_code"].as_str().unwrap();
    assert!(qr.starts_with("http://consumer.test-oofd.kz/?&i=1234567890&f=010100006923&s=1400,00&t="), "{qr}");
    assert_eq!(control["body"]["offline_ticket_number"], 1234567890);
    assert_eq!(control["body"]["amounts"]["total"], json!({"bills": 1400, "coins": 0}));
    assert_eq!(control["operator_name"], "Инспектор КГД");

    let after_kkm = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone();
    for field in ["shift_document_number", "cash_sum", "revenue", "non_nullable_sums", "fr_shift_number"] {
        assert_eq!(after_kkm[field], before_kkm[field], "{field} untouched by a control receipt");
    }
    assert_eq!(s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await, before_journal);
    assert_eq!(s.emulator().accepted(6923).len(), accepted_before, "nothing went to the OFD");
    let x = s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 1})).await;
    assert_eq!(x["is_dummy"], false);
    assert_eq!(x["total_payments"][0], 1000, "the X report counts only the real sale: {x}");

    // Rendered with its heading, and reachable again as shift 0.
    let key = json!({"kkm_ofd_id": 6923, "fr_shift_number": 0, "shift_document_number": 1});
    let mut text = key.clone();
    text["format"] = json!("txt");
    let rendered = s.ok("RenderDocument", "4444", text).await;
    let content = rendered["content"].as_str().unwrap();
    assert!(content.contains("*** КОНТРОЛЬНЫЙ ЧЕК ***"), "{content}");
    assert!(content.contains("1 400.00"), "{content}");
    let png = s
        .client
        .post(format!("{}/GetDocumentImage", s.base))
        .header("Authorization", ADMIN)
        .body(key.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let real_text = s
        .ok("RenderDocument", ADMIN, json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 1}))
        .await;
    assert!(!real_text["content"].as_str().unwrap().contains("КОНТРОЛЬНЫЙ"), "a real receipt has no such heading");
    let missing = json!({"kkm_ofd_id": 6923, "fr_shift_number": 0, "shift_document_number": 2});
    assert_eq!(s.post("RenderDocument", Some(ADMIN), missing).await.0, 37, "the vendor's operation_not_found");
}

#[tokio::test]
async fn an_inspector_is_checked_like_a_cashier_and_makes_nothing_else() {
    let s = ready().await;
    let mut bad = sale(500);
    bad["items"][0]["commodity"]["sum"] = json!(0);
    assert_eq!(s.post("TradeOperation", Some("4444"), bad).await.0, 95, "validated like any sale");
    let mp = json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 10});
    assert_eq!(s.post("MoneyPlacement", Some("4444"), mp).await.0, 71);
    let z = json!({"kkm_ofd_id": 6923, "report_type": 0});
    assert_eq!(s.post("ZXReport", Some("4444"), z).await.0, 71);
    assert_eq!(s.post("SaveKKM", Some("4444"), json!({"ofd_id": 6923})).await.0, 71);
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "bindings": []})).await;
    assert_eq!(s.post("TradeOperation", Some("4444"), sale(500)).await.0, 72, "only on its bound KKMs");
    assert_eq!(s.post("SaveOperator", Some(ADMIN), json!({"name": "x", "access_pin": "5", "role": 5})).await.0, 2);
}
