//! Migration 0013 on a database of schema 0012: the ledger's stored documents get their positions in
//! their shifts, the device goes on from them, lifetime counters are the sums of the shift counters, and
//! the journal's chain still verifies.
use kassa::ledger::{Ledger, Numbering};
use kassa::store::chain::{self, Journal};
use kassa::store::{Store, migrations};
use std::sync::Arc;

#[test]
fn stored_documents_get_positions_and_lifetime_sums_and_keep_their_seal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 12).unwrap();
        conn.execute_batch(
            "INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number, shift_opened_at)
             VALUES ('by', 'S1', '{}', 5, 2, '2026-12-02T08:00:00+03:00');
             INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body)
             VALUES (1, 1, 1, 'sale_v2', 'U1', '2026-12-01T10:00:00+03:00', '{}'),
                    (1, 2, 1, 'z_report_v2', 'U2', '2026-12-01T20:00:00+03:00', '{}'),
                    (1, 3, 2, 'sale_v2', 'U3', '2026-12-02T10:00:00+03:00', '{}'),
                    (1, 4, 2, 'sale_v2', 'U4', '2026-12-02T11:00:00+03:00', '{}');
             INSERT INTO ledger_counters (device_id, shift_number, name, value)
             VALUES (1, 1, 'sale', '10.10'), (1, 2, 'sale', '0.20'), (1, 2, 'deposit', '5');",
        )
        .unwrap();
    }
    // Chained as 0010 left them (the Rust step of 0010 ran before the rows existed); `kassa check` verifies
    // them before this build's first start too.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        chain::chain_all(&conn).unwrap();
        let report = chain::verify(kassa::store::sql::Db::Sqlite(&conn), Journal::Ledger).unwrap();
        assert!(report.problems.is_empty() && report.documents == 4, "{report:?}");
    }
    let store = Arc::new(Store::open(&path).unwrap());
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
    let ledger = Ledger::new(store);
    let positions: Vec<(i64, i64)> = (1..=4)
        .map(|n| ledger.document_by_number(1, n).unwrap().unwrap())
        .map(|d| (d.shift_number, d.shift_position))
        .collect();
    assert_eq!(positions, vec![(1, 1), (1, 2), (2, 1), (2, 2)]);
    let life = ledger.lifetime_counters(1).unwrap();
    assert_eq!(life.get("sale").map(|v| v.to_string()).as_deref(), Some("10.30"));
    assert_eq!(life.get("deposit").map(|v| v.to_string()).as_deref(), Some("5"));
    // The device goes on from the last position of its open shift.
    let next = ledger
        .commit_numbered(1, &crate::support::entry("sale_v2", &[("sale", 1)]), None, &Numbering::default())
        .unwrap();
    assert_eq!((next.number, next.shift_number, next.shift_position), (5, 2, 3));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let report = chain::verify(kassa::store::sql::Db::Sqlite(&conn), Journal::Ledger).unwrap();
    assert!(report.problems.is_empty() && report.documents == 5, "{report:?}");
}

#[test]
fn a_document_whose_seal_was_broken_before_stays_broken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 12).unwrap();
        conn.execute_batch(
            "INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number)
             VALUES ('ua', 'F1', '{}', 3, 1);
             INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body)
             VALUES (1, 1, 1, 'sale', 'U1', '2026-12-01T10:00:00+02:00', '{}'),
                    (1, 2, 1, 'sale', 'U2', '2026-12-01T11:00:00+02:00', '{}');",
        )
        .unwrap();
        chain::chain_all(&conn).unwrap();
        // Someone marks the first one accepted behind Kassa's back.
        conn.execute("UPDATE ledger_documents SET fiscal_state = 1 WHERE id = 1", []).unwrap();
    }
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let report = chain::verify(kassa::store::sql::Db::Sqlite(&conn), Journal::Ledger).unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(report.problems[0].contains("id 1"), "{report:?}");
}

/// Migration 0018 on a database of schema 17: a document counted before it keeps what it added in
/// `ledger_document_counters`. That reads back; an amendment adds to it and moves it to `ledger_document_records`;
/// a rollback then takes exactly all of it back (rows the document made go, others get their delta back).
#[test]
fn a_document_counted_before_0018_reads_amends_and_rolls_back_its_counters() {
    use rust_decimal::Decimal;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 17).unwrap();
        conn.execute_batch(
            "INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number, shift_opened_at,
                 shift_position)
             VALUES ('by', 'S1', '{}', 2, 1, '2026-12-02T08:00:00+03:00', 1);
             INSERT INTO ledger_documents (device_id, number, shift_number, shift_position, doc_type, uid, created_at,
                 body)
             VALUES (1, 1, 1, 1, 'sale_v2', 'U1', '2026-12-02T10:00:00+03:00', '{}');
             INSERT INTO ledger_counters (device_id, shift_number, name, value)
             VALUES (1, 1, 'cash', '15.10'), (1, 1, 'sale', '10.10');
             INSERT INTO ledger_lifetime_counters (device_id, name, value) VALUES (1, 'cash', '60.10'), (1, 'sale', '10.10');
             INSERT INTO ledger_document_counters (document_id, name, delta, made)
             VALUES (1, 'cash', '10.10', 0), (1, 'sale', '10.10', 3);",
        )
        .unwrap();
        // Chained as a start of that schema left it. The old Kazakh journal has another name since 0015: an
        // empty stand-in under its old one lets `chain_all` pass over it.
        conn.execute_batch("CREATE TEMP TABLE documents AS SELECT * FROM kz_documents_before_ledger").unwrap();
        chain::chain_all(&conn).unwrap();
    }
    let ledger = Ledger::new(Arc::new(Store::open(&path).unwrap()));
    let texts = |m: std::collections::BTreeMap<String, Decimal>| -> Vec<(String, String)> {
        m.into_iter().map(|(n, v)| (n, v.to_string())).collect()
    };
    let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
    assert_eq!(texts(ledger.document_counters(1).unwrap()), vec![pair("cash", "10.10"), pair("sale", "10.10")]);
    ledger
        .amend(1, |_| {
            Ok(kassa::ledger::Amendment {
                counters: vec![("sale".into(), Decimal::new(100, 2)), ("tip".into(), Decimal::new(2, 0))],
                ..Default::default()
            })
        })
        .unwrap();
    let after = vec![pair("cash", "10.10"), pair("sale", "11.10"), pair("tip", "2")];
    assert_eq!(texts(ledger.document_counters(1).unwrap()), after);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let kept: String =
        conn.query_row("SELECT counters FROM ledger_document_records WHERE document_id = 1", [], |r| r.get(0)).unwrap();
    assert!(kept.contains("\"tip\"") && kept.contains("\"11.10\""), "{kept}");
    assert_eq!(
        texts(ledger.counters(1, 1).unwrap()),
        vec![pair("cash", "15.10"), pair("sale", "11.10"), pair("tip", "2")]
    );
    ledger.roll_back(1).unwrap();
    assert_eq!(texts(ledger.counters(1, 1).unwrap()), vec![pair("cash", "5.00")]);
    assert_eq!(texts(ledger.lifetime_counters(1).unwrap()), vec![pair("cash", "50.00")]);
}
