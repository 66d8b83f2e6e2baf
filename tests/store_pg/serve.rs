//! `kassa serve --store postgres://…` (issue 25, part 2): a shop served from PostgreSQL through every front,
//! stopped and started again, with its numbers, counters and chains read back with `psql`, not with Kassa.
use crate::postgres::Postgres;
use crate::shop::{CASHIER, Shop};
use serde_json::{Value, json};

/// A Kazakh report without what differs from run to run (its times).
fn steady(report: &Value) -> Value {
    match report {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.contains("date") && !k.contains("time"))
                .map(|(k, v)| (k.clone(), steady(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(steady).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_shop_served_from_postgres_keeps_its_books_across_a_restart() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("served");
    let shop = Shop::open_on(tempfile::tempdir().expect("dir"), Some(&url));
    shop.set_up();
    shop.day();
    let dir = shop.stop();
    assert!(!dir.path().join("data/kassa.db").exists(), "the fiscal data went to PostgreSQL, not into kassa.db");

    // Started again on the same database: the numbering goes on and the books are the same.
    let shop = Shop::open_on(dir, Some(&url));
    shop.authorize_by();
    let sale = shop.sale(2);
    assert!(sale["fiscal_id"].is_string(), "{sale}");
    let x = shop.kz("ZXReport", CASHIER, json!({"kkm_ofd_id": 6923, "report_type": 1}));
    shop.day();
    let _ = shop.stop();

    // The same two days on SQLite give the same reports.
    let lite = Shop::open();
    lite.set_up();
    lite.day();
    lite.sale(2);
    let lite_x = lite.kz("ZXReport", CASHIER, json!({"kkm_ofd_id": 6923, "report_type": 1}));
    assert_eq!(steady(&x), steady(&lite_x), "the X report after a day and a sale: PostgreSQL and SQLite");
    let _ = lite.stop();

    // Read with psql: every document numbered without gaps, per device, and chained.
    let gaps = pg.psql(
        "served",
        "SELECT count(*) FROM (SELECT device_id, number, lag(number) OVER (PARTITION BY device_id ORDER BY number) AS prev
           FROM ledger_documents) d WHERE prev IS NOT NULL AND number <> prev + 1",
    );
    assert_eq!(gaps, "0");
    let unchained = pg.psql("served", "SELECT count(*) FROM ledger_documents WHERE chain IS NULL OR seal IS NULL");
    assert_eq!(unchained, "0");
    let countries = pg.psql("served", "SELECT string_agg(DISTINCT country, ',' ORDER BY country) FROM ledger_devices");
    assert_eq!(countries, "by,kz,ua");
    let kz_docs: i64 = pg
        .psql(
            "served",
            "SELECT count(*) FROM ledger_documents d JOIN ledger_devices v ON v.id = d.device_id WHERE v.country = 'kz'",
        )
        .parse()
        .unwrap();
    assert!(kz_docs > 2 * 9, "two days and a sale on the KKM: {kz_docs}");
}

#[test]
fn a_second_node_on_the_same_database_serves_beside_the_first_and_takes_over_when_it_stops() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("two_nodes");
    let first = Shop::open_on(tempfile::tempdir().expect("dir"), Some(&url));
    first.set_up();
    first.sale(1);
    crate::shop::ua_ok(first.ua(json!({"task": 0})));

    // Another folder, the same database. The operators' PINs are keyed with the first folder's pin.key: the
    // second node is given the same key; a wrong one is refused and never shown.
    let key = hex::encode(std::fs::read(first.data().join("pin.key")).expect("pin.key"));
    let wrong = hex::encode([7u8; 32]);
    let refused = Shop::try_open(tempfile::tempdir().expect("dir"), Some(&url), &[("KASSA_PIN_KEY", &wrong)]);
    let (_, log) = refused.err().expect("a wrong key is refused");
    assert!(log.contains("KASSA_PIN_KEY is not the key this store's PINs were hashed with"), "{log}");
    assert!(!log.contains(&wrong), "the key is never shown");
    let second = Shop::try_open(tempfile::tempdir().expect("dir"), Some(&url), &[("KASSA_PIN_KEY", &key)])
        .expect("a second node on the same database, with the shared key");
    assert!(!second.data().join("pin.key").exists(), "the key came from the environment, not a file");

    // The first node serves the KKM: a sale sent to the second is handed to it, numbered on.
    let sale = second.sale(2);
    assert_eq!(sale["shift_document_number"], 2, "the KKM's shift went on: {sale}");
    let kz = "(SELECT device_id FROM kz_kkms)";
    let holder =
        |db: &str| pg.psql(db, &format!("SELECT node || ' ' || fence FROM device_leases WHERE device_id = {kz}"));
    let held = holder("two_nodes");
    assert!(held.ends_with(" 1"), "the first node's lease, never taken over: {held}");
    // So does a Ukrainian cash-in for the ПРРО whose shift the first node opened.
    let cash_in = second.ua(json!({"task": 3, "cashier": "Петренко І.", "cash": {"type": 0, "sum": 300.25}}));
    crate::shop::ua_ok(cash_in.clone());
    assert_eq!(cash_in["info"]["docno"], "2", "numbered on from the shift's opening: {cash_in}");
    // And the Belarusian СКО the first node serves: its shift opened and a deposit, both sent to the second
    // node, which never authorised it (authorisation lives in the serving node's memory).
    let headers = json!({"operation_id": "two-nodes-1"});
    let data = json!({"header": {"cashier": "Test", "currency": "BYN"}, "sum": "30.10"});
    crate::shop::by_ok(second.by("ik.service.token.shift", "open_shift", json!({}), json!({})));
    let deposit = second.by("ik.service.token.deposit", "deposit", headers, data);
    crate::shop::by_ok(deposit.clone());
    assert!(deposit.to_string().contains("30.10"), "{deposit}");
    // An administrator renames the KKM through the second node.
    let renamed = second.kz("SaveKKM", crate::common::ADMIN, json!({"ofd_id": 6923, "local_name": "Касса у окна"}));
    assert_eq!(renamed["local_name"], "Касса у окна", "{renamed}");

    // The first stops cleanly and lets go of its devices: the second takes the KKM at once and sells on.
    let _ = first.stop();
    let sale = second.sale(3);
    assert_eq!(sale["shift_document_number"], 3, "{sale}");
    let now = holder("two_nodes");
    assert!(now.ends_with(" 2") && now != held, "the second node holds the KKM now: {now}");
}

#[test]
fn kassa_check_reads_a_postgres_store_and_names_a_row_changed_behind_kassas_back() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.database("checked");
    let shop = Shop::open_on(tempfile::tempdir().expect("dir"), Some(&url));
    shop.set_up();
    shop.day();
    let dir = shop.stop();
    let data = dir.path().join("data");
    let check = || {
        let out = crate::common::kassa()
            .args(["check", "--data-dir"])
            .arg(&data)
            .env("KASSA_STORE_URL", &url)
            .output()
            .expect("kassa check");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = check();
    assert!(ok, "{out}\n{err}");
    let documents = pg.psql("checked", "SELECT count(*) FROM ledger_documents");
    assert!(out.contains("the store is PostgreSQL"), "{out}");
    assert!(out.contains(&format!("ledger_documents: {documents} documents of the ledger")), "{out}");
    assert!(out.contains("pin.key is the key the stored PINs were hashed with"), "{out}");

    // A sum changed with psql, behind Kassa's back: its seal no longer holds, and check names the row.
    let id = pg.psql("checked", "SELECT min(id) FROM ledger_documents WHERE doc_type <> ''");
    pg.psql("checked", &format!("UPDATE ledger_documents SET fiscal_reply = '{{}}' WHERE id = {id}"));
    let (ok, out, _) = check();
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("ledger_documents id {id}: the seal does not match")), "{out}");

    // The tools that copy kassa.db say what to use instead.
    let out = crate::common::kassa()
        .args(["backup"])
        .arg(dir.path().join("backup"))
        .arg("--data-dir")
        .arg(&data)
        .env("KASSA_STORE_URL", &url)
        .output()
        .expect("kassa backup");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"), "{}", String::from_utf8_lossy(&out.stderr));
}
