//! Fiscal documents are never destroyed: a KKM with unsent documents cannot be deleted (67), a deleted KKM
//! is retired with its journal, and a KKM's autonomous state stays true to its queue across a restart.
//! Document counts are read straight from kassa.db with SQLite, not through Kassa.
use crate::common;

use common::{ADMIN, TestServer, seed_save_kkm};
use kassa::country::kz::ofd::emulator::Fault;
use serde_json::{Value, json};

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

/// The Kazakh rows in the ledger's `ledger_documents`, counted by the database itself.
fn stored_documents(s: &TestServer) -> i64 {
    common::TestDb::open(s.dir.path()).int(
        "SELECT count(*) FROM ledger_documents d JOIN ledger_devices v ON v.id = d.device_id WHERE v.country = 'kz'",
    )
}

#[tokio::test]
async fn a_kkm_with_unsent_documents_cannot_be_deleted() {
    let s = ready().await;
    s.emulator().inject(Fault::DropBeforeRead, 10_000);
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    let before = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await;
    assert_eq!(before[0]["is_offline"], true);

    let (code, text) = s.post("DeleteKKM", Some(ADMIN), json!({"ofd_id": 6923})).await;
    assert_eq!(code, 67, "{text}");
    assert!(text.as_str().unwrap().contains("в очереди на ОФД"), "{text}");
    let after = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(stored_documents(&s), 2);

    // Once the OFD has them, the KKM may go.
    s.emulator().clear_faults();
    for _ in 0..200 {
        if s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0]["is_offline"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(s.emulator().accepted(6923).len(), 2, "both documents reached the OFD");
    assert_eq!(s.ok("DeleteKKM", ADMIN, json!({"ofd_id": 6923})).await, "ok");
}

#[tokio::test]
async fn a_deleted_kkm_is_retired_with_its_journal_and_comes_back_when_saved_again() {
    let s = ready().await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    s.ok("TradeOperation", ADMIN, sale(250)).await;
    s.ok("ZXReport", ADMIN, json!({"kkm_ofd_id": 6923, "report_type": 0})).await;
    let kkm = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone();
    let journal = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await;
    assert_eq!(journal.as_array().unwrap().len(), 3);
    assert_eq!(stored_documents(&s), 3);

    assert_eq!(s.ok("DeleteKKM", ADMIN, json!({"ofd_id": 6923})).await, "ok");
    assert_eq!(stored_documents(&s), 3, "every document of the deleted KKM is still stored");
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({})).await, json!([]), "out of the list");
    assert_eq!(s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await, json!([]));
    let (code, _) = s.post("TradeOperation", Some(ADMIN), sale(100)).await;
    assert_eq!(code, 61, "no sales on a retired KKM");
    assert_eq!(s.post("DeleteKKM", Some(ADMIN), json!({"ofd_id": 6923})).await.0, 61);

    // An administrator still reads and reprints its journal by its ofd_id.
    assert_eq!(s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await, journal);
    let id = journal[1]["ID"].as_i64().unwrap();
    let doc = s.ok("GetTransaction", ADMIN, json!({"kkm_ofd_id": 6923, "transaction_id": id})).await;
    assert_eq!(doc["body"]["amounts"]["total"], json!({"bills": 250, "coins": 0}));
    let png = s
        .client
        .post(format!("{}/GetDocumentImage", s.base))
        .header("Authorization", ADMIN)
        .json(&json!({"kkm_ofd_id": 6923, "fr_shift_number": 1, "shift_document_number": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // Saving the same ofd_id brings it back with counters and history (the token the OFD last gave is kept).
    s.ok("SaveKKM", ADMIN, json!({"ofd_id": 6923, "local_name": "Касса 1 снова"})).await;
    let back = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone();
    assert_eq!(back["ID"], kkm["ID"]);
    assert_eq!(back["fr_shift_number"], 1);
    assert_eq!(back["non_nullable_sums"], kkm["non_nullable_sums"]);
    let next = s.ok("TradeOperation", ADMIN, sale(100)).await;
    assert_eq!(next["fr_shift_number"], 2, "the next shift follows the old ones");
    assert_eq!(s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_database_itself_refuses_to_delete_documents_and_kkms() {
    let s = ready().await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    let db = common::TestDb::open(s.dir.path());
    let e = db.execute("DELETE FROM ledger_documents").unwrap_err();
    assert!(e.contains("never deleted"), "{e}");
    let e = db.execute("DELETE FROM ledger_devices").unwrap_err();
    assert!(e.contains("retired"), "{e}");
    assert_eq!(stored_documents(&s), 1);
}

#[tokio::test]
async fn a_document_the_ofd_refused_while_the_pos_waited_is_kept_outside_the_journal() {
    let s = ready().await;
    s.ok("MoneyPlacement", ADMIN, json!({"kkm_ofd_id": 6923, "operation": 0, "sum": 500})).await;
    s.emulator().inject(Fault::Result(15), 1);
    assert_eq!(s.post("TradeOperation", Some(ADMIN), sale(100)).await.0, 62);
    assert_eq!(stored_documents(&s), 2, "the refused ticket is kept");
    let journal = s.ok("GetTransactionList", ADMIN, json!({"kkm_ofd_id": 6923})).await;
    assert_eq!(journal.as_array().unwrap().len(), 1, "but it is not in the journal");
}

#[tokio::test]
async fn after_a_crash_with_a_document_in_flight_the_kkm_reads_autonomous() {
    let s = ready().await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    let dir = s.stop().await;
    // The state a crash between commit and the OFD's answer leaves: the document committed and queued.
    let created: String = {
        let db = common::TestDb::open(dir.path());
        db.execute("UPDATE ledger_documents SET fiscal_state = 0").unwrap();
        db.text("SELECT created_at FROM ledger_documents")
    };
    // The OFD is unreachable after the restart, so the document stays queued.
    let mut config = kassa::config::Config::default();
    config.ofd_link.total_time_ms = 300;
    config.ofd_link.reconnect_ms = 60_000;
    for ofd in &mut config.ofd {
        ofd.endpoint = "127.0.0.1:9".into();
    }
    let s = TestServer::start_in(dir, config).await;
    let k = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone();
    assert_eq!(k["is_offline"], true, "{k}");
    assert_eq!(k["offline_start_date"], created, "autonomous since the document in flight was made");

    let next = s.ok("TradeOperation", ADMIN, sale(200)).await;
    assert_eq!(next["is_offline"], true);
    let k = s.ok("GetKKMList", ADMIN, json!({"ofd_id": 6923})).await[0].clone();
    assert_eq!(k["is_offline"], true);
    assert_eq!(k["offline_start_date"], created);
}

#[tokio::test]
async fn the_autonomous_time_limit_counts_from_the_document_left_in_flight() {
    let s = ready().await;
    s.ok("TradeOperation", ADMIN, sale(100)).await;
    let dir = s.stop().await;
    {
        // In flight since four days ago: past the 72 h limit.
        common::TestDb::open(dir.path())
            .execute("UPDATE ledger_documents SET fiscal_state = 0, created_at = '2020-01-01T10:00:00.000'")
            .unwrap();
    }
    let mut config = kassa::config::Config::default();
    config.ofd_link.total_time_ms = 300;
    config.ofd_link.reconnect_ms = 60_000;
    for ofd in &mut config.ofd {
        ofd.endpoint = "127.0.0.1:9".into();
    }
    let s = TestServer::start_in(dir, config).await;
    let (code, text) = s.post("TradeOperation", Some(ADMIN), sale(200)).await;
    assert_eq!(code, 18, "{text}");
}
