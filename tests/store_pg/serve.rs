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
    assert!(kz_docs >= 2 * 9 + 1, "two days and a sale on the KKM: {kz_docs}");
}
