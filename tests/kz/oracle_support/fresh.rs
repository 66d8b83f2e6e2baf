//! The `fresh` fixture: a data folder right after its first day of set-up, a KKM and a cashier and not one
//! document, no Belarusian or Ukrainian front ever configured: the migration of an empty journal.
use super::{ADMIN, Ofd, Queue, Recorder, Server, Shape, config, pack, root};
use serde_json::json;

pub const SHAPE: Shape = Shape { name: "fresh", fronts: &[] };

const KKM: i64 = 6923;
const CASHIER: &str = "5555";

const CONFIG: &str = r#"# The oracle's `fresh` fixture (tests/fixtures/oracle/README.md). The OFD endpoint is filled in per run.
listen = "127.0.0.1:0"
admin_pin = "7391"

[[ofd]]
uid = "4C49A0CB1DD4413387F6E6199CBB1B2A"
name = "Казахтелеком - test"
endpoint = "@OFD_ONLINE@"
emulator = true
consumer_url = "http://consumer.test-oofd.kz"

[ofd_link]
total_time_ms = 5000
reconnect_ms = 200
"#;

/// Builds the fixture's data folder through `kassa serve` and packs it into `tests/fixtures/oracle/fresh`.
pub async fn build() {
    let fixture = root().join(SHAPE.name);
    std::fs::create_dir_all(&fixture).expect("fixture folder");
    std::fs::write(fixture.join("kassa.toml"), CONFIG).expect("kassa.toml");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let ofd = Ofd::start();
    let server = Server::start(&data, &config(&fixture, dir.path(), &ofd, &ofd), SHAPE.fronts);
    let f = server.fronts();
    let kkm = f
        .kz_ok(
            "SaveKKM",
            ADMIN,
            json!({"ofd_id": KKM, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A",
                "local_name": "Касса 1", "printer": {"id": 1}}),
        )
        .await;
    f.kz_ok(
        "SaveOperator",
        ADMIN,
        json!({"name": "Айгерім", "access_pin": CASHIER, "role": 3, "bindings": [kkm["ID"]]}),
    )
    .await;
    server.stop();
    pack(&data, &fixture);
    let queue = Queue { all_kkms: vec![KKM], ..Default::default() };
    let text = serde_json::to_string_pretty(&queue).expect("JSON");
    std::fs::write(fixture.join("queue.json"), text + "\n").expect("queue.json");
}

/// The calls whose answers are the oracle: empty lists, documents not found, then the first X report.
pub async fn plan(r: &mut Recorder<'_>) {
    r.kz("GetKKMList: all", "GetKKMList", ADMIN, json!({})).await;
    r.kz("GetKKMList: the cashier's", "GetKKMList", CASHIER, json!({})).await;
    r.kz("GetOperatorList", "GetOperatorList", ADMIN, json!({})).await;
    r.kz("GetTransactionList 6923: all", "GetTransactionList", ADMIN, json!({"kkm_ofd_id": KKM})).await;
    r.kz("GetTransaction 6923 #1", "GetTransaction", ADMIN, json!({"kkm_ofd_id": KKM, "transaction_id": 1})).await;
    let first = json!({"kkm_ofd_id": KKM, "fr_shift_number": 1, "shift_document_number": 1});
    r.kz("GetDocumentImage 6923 1/1", "GetDocumentImage", ADMIN, first.clone()).await;
    r.kz("RenderDocument 6923 1/1", "RenderDocument", ADMIN, first).await;
    let varies = ["/response_data/body/date_time", "/response_data/body/open_shift_time"];
    let x = json!({"kkm_ofd_id": KKM, "report_type": 1});
    r.kz_full("ZXReport X 6923 (opens shift 1)", "ZXReport", CASHIER, None, x, &varies).await;
    let list = json!({"kkm_ofd_id": KKM});
    r.kz_full("GetTransactionList 6923 after X", "GetTransactionList", ADMIN, None, list, &["/response_data/0/date"])
        .await;
    let kkm = json!({"ofd_id": KKM});
    r.kz_full("GetKKMList 6923 after X", "GetKKMList", ADMIN, None, kkm, &["/response_data/0/shift_open_date"]).await;
}
