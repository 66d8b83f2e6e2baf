//! The move of the Kazakh books onto the ledger (issue 23 step 5, `store::kazakh_books`) on the oracle's
//! fixture databases of schema 0012: every document carries over with its public ID, its state, its REQNUM
//! and request bytes; the autonomous queue is the same queue; keys stay scoped; the open shift's counters
//! and the drawer are the ledger's; the old tables are kept renamed; and the ledger numbers on from where
//! the KKMs stood.
use kassa::ledger::{JournalQuery, NewFiscal};
use kassa::ledger::{Ledger, Numbering};
use kassa::store::chain::{self, Journal};
use kassa::store::{FiscalState, Store, kazakh_books, migrations};
use rusqlite::Connection;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The fixture's database unpacked into `dir`, migrated as a start of this build would up to the move
/// (migration 0015), which each test runs itself.
fn fixture(name: &str, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle").join(name).join("data");
    let mut db = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(source.join("kassa.db.gz")).unwrap())
        .read_to_end(&mut db)
        .unwrap();
    let path = dir.join("kassa.db");
    std::fs::write(&path, db).unwrap();
    let mut conn = Connection::open(&path).unwrap();
    assert_eq!(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0)).unwrap(), 12);
    migrations::migrate_to(&mut conn, before_the_move()).unwrap();
    path
}

/// The schema version before migration 0015 moved the Kazakh books.
fn before_the_move() -> u32 {
    migrations::MIGRATIONS.iter().position(|(name, _)| *name == "0015_kazakh_books").unwrap() as u32
}

/// Runs the move as migration 0015, with foreign keys checked.
fn moved(path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    migrations::migrate_to(&mut conn, before_the_move() + 1).unwrap();
}

/// A stored document as the old table held it.
#[derive(Debug, Clone, PartialEq)]
struct Old {
    id: i64,
    ofd_id: i64,
    command: i64,
    created_at: String,
    shift: i64,
    position: i64,
    offline: i64,
    fiscal_id: String,
    state: i64,
    reqnum: Option<i64>,
    request: Option<Vec<u8>>,
    parts: [Value; 3],
}

fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

fn old_documents(conn: &Connection, table: &str, kkms: &str) -> Vec<Old> {
    let sql = format!(
        "SELECT d.id, k.ofd_id, d.command, d.created_at, d.fr_shift_number, d.shift_document_number, d.is_offline,
                d.fiscal_id, d.ofd_state, d.ofd_reqnum, d.ofd_request, d.summary, d.body, d.extra
           FROM {table} d JOIN {kkms} k ON k.id = d.kkm_id ORDER BY d.id"
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| {
        Ok(Old {
            id: r.get(0)?,
            ofd_id: r.get(1)?,
            command: r.get(2)?,
            created_at: r.get(3)?,
            shift: r.get(4)?,
            position: r.get(5)?,
            offline: r.get(6)?,
            fiscal_id: r.get(7)?,
            state: r.get(8)?,
            reqnum: r.get(9)?,
            request: r.get(10)?,
            parts: [json(r.get(11)?), json(r.get(12)?), json(r.get(13)?)],
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The moved documents, read back in the old shape.
fn moved_documents(conn: &Connection) -> Vec<Old> {
    let mut stmt = conn
        .prepare(
            "SELECT l.public_id, CAST(v.serial AS INTEGER), l.created_at, l.shift_number, l.shift_position,
                    f.autonomous, coalesce(f.ticket, ''), l.fiscal_state, f.request_number, f.request, l.body
               FROM ledger_documents l JOIN ledger_devices v ON v.id = l.device_id
               JOIN ledger_fiscal f ON f.document_id = l.id
              WHERE v.country = 'kz' ORDER BY l.public_id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        let body = json(r.get(10)?);
        let state: i64 = r.get(7)?;
        Ok(Old {
            id: r.get(0)?,
            ofd_id: r.get(1)?,
            command: body["command"].as_i64().unwrap(),
            created_at: r.get(2)?,
            shift: r.get(3)?,
            position: r.get(4)?,
            offline: r.get(5)?,
            fiscal_id: r.get(6)?,
            // Waiting is 0 (local) or 1 (queued) before; the old row says which, the ledger need not.
            state: [1, 2, 3, 4][state as usize],
            reqnum: r.get(8)?,
            request: r.get(9)?,
            parts: [body["summary"].clone(), body["body"].clone(), body["extra"].clone()],
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn scalar<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn the_shop_moves_onto_the_ledger_with_its_ids_queue_keys_and_counters() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("shop", dir.path());
    let before = {
        let conn = Connection::open(&path).unwrap();
        old_documents(&conn, "documents", "kkms")
    };
    assert_eq!(before.len(), 34);
    moved(&path);
    let conn = Connection::open(&path).unwrap();

    // Every document, with its public ID, device, date text, numbers, state, REQNUM, request bytes and
    // answer fields; only "queued" and "local" become one waiting state.
    let mut expected = before.clone();
    for d in &mut expected {
        if d.state == 0 {
            d.state = 1;
        }
    }
    assert_eq!(moved_documents(&conn), expected);
    // The old tables are kept under new names, unchanged.
    assert_eq!(old_documents(&conn, kazakh_books::KEPT_DOCUMENTS, kazakh_books::KEPT_KKMS), before);
    let tables: i64 = scalar(&conn, "SELECT count(*) FROM sqlite_schema WHERE name IN ('documents', 'kkms')");
    assert_eq!(tables, 0);
    // Bindings and control receipts name the Kazakh side table, and a KKM saved after the move can be bound.
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    let broken: i64 = scalar(&conn, "SELECT count(*) FROM pragma_foreign_key_check");
    assert_eq!(broken, 0);
    let bindings: i64 = scalar(&conn, "SELECT count(*) FROM kkm_bindings b JOIN kz_kkms z ON z.kkm_id = b.kkm_id");
    assert_eq!(bindings, scalar::<i64>(&conn, "SELECT count(*) FROM kkm_bindings"));
    assert!(bindings > 0);
    let referenced: String =
        scalar(&conn, "SELECT group_concat(sql) FROM sqlite_schema WHERE name IN ('kkm_bindings', 'control_receipts')");
    assert!(referenced.matches("REFERENCES kz_kkms (kkm_id)").count() == 2, "{referenced}");
    conn.execute_batch(
        "SAVEPOINT probe;
         INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number) VALUES ('kz', '9999', '{}', 1, 0);
         INSERT INTO kz_kkms (device_id, ofd_id, ofd_uid, ofd_token, local_name, use_software_vpn, auto_withdraw_money,
             vat_certificate, custom_data, owner_id, vendor_id, manufacture_date, reg_info, ads_info)
         VALUES (last_insert_rowid(), 9999, 'u', 1, 'new', 0, 0, '{}', 'null', 0, 'v', '2026-01-01', '{}', '[]');
         INSERT INTO kkm_bindings (kkm_id, operator_id) VALUES (last_insert_rowid(), 1);
         ROLLBACK TO probe;",
    )
    .unwrap();
    let new_kkm_id: i64 = scalar(&conn, "SELECT seq + 1 FROM sqlite_sequence WHERE name = 'kz_kkms'");
    assert_eq!(new_kkm_id, 5, "a new KKM gets the ID it would have got before");

    // The autonomous queue of 7001: the same documents in the same order under the REQNUMs committed
    // with them, as queue.json recorded them; nothing else waits.
    let queue: Vec<(i64, i64, Option<i64>)> = conn
        .prepare(
            "SELECT CAST(v.serial AS INTEGER), f.request_number, l.autonomous_number
               FROM ledger_documents l JOIN ledger_devices v ON v.id = l.device_id
               JOIN ledger_fiscal f ON f.document_id = l.id
              WHERE v.country = 'kz' AND l.fiscal_state = 0 ORDER BY v.id, l.number",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle/shop/queue.json"))
            .unwrap(),
    )
    .unwrap();
    let listed: Vec<(i64, i64, Option<i64>)> = recorded["kkms"]["7001"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (7001, d["reqnum"].as_i64().unwrap(), d["offline_ticket_number"].as_i64()))
        .collect();
    // queue.json leaves out the X report (REQNUM 12), which the emulator does not list.
    let without_x: Vec<_> = queue.iter().filter(|d| d.1 != 12).cloned().collect();
    assert_eq!(without_x, listed);
    assert_eq!(queue.len(), 7);

    // The rolled-back sale keeps its ID 14 and gave its position 2/4 to the retry, ID 15.
    let rolled: (i64, i64, i64) = conn
        .query_row(
            "SELECT fiscal_state, shift_number, shift_position FROM ledger_documents WHERE public_id = 14",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(rolled, (FiscalState::RolledBack as i64, 2, 4));

    // Keys: each under its device and method, naming the moved document.
    let keys: Vec<(i64, String, String, i64)> = conn
        .prepare(
            "SELECT CAST(v.serial AS INTEGER), k.method, k.key, l.public_id FROM idempotency_keys k
               JOIN ledger_documents l ON l.id = k.document_id JOIN ledger_devices v ON v.id = k.device_id
              WHERE k.book = 'ledger' AND v.country = 'kz' AND l.device_id = k.device_id ORDER BY l.public_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let keys: Vec<(i64, &str, &str, i64)> =
        keys.iter().map(|(o, m, k, id)| (*o, m.as_str(), k.as_str(), *id)).collect();
    assert_eq!(
        keys,
        vec![
            (6923, "MoneyPlacement", "dep-0001", 1),
            (6923, "ZXReport", "z-0001", 10),
            (6923, "TradeOperation", "sale-0001", 11),
            (6923, "TradeOperation", "sale-0003", 15),
            (7001, "TradeOperation", "offline-0001", 28),
        ]
    );
    let next_id: i64 = scalar(&conn, "SELECT last FROM ledger_public_ids WHERE country = 'kz'");
    assert_eq!(next_id, 34);

    // The journals still verify, the moved documents chained after the Belarusian and Ukrainian ones.
    let report = chain::verify(kassa::store::sql::Db::Sqlite(&conn), Journal::Ledger).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(report.documents, 17 + 34);
    drop(conn);

    // Through the ledger: devices, counters, the journal by date text, and the numbers going on.
    let ledger = Ledger::new(Arc::new(Store::open(&path).unwrap()));
    let shop = ledger.device("kz", "6923").unwrap().unwrap();
    let queue_kkm = ledger.device("kz", "7001").unwrap().unwrap();
    let retired = ledger.device("kz", "7002").unwrap().unwrap();
    assert!(retired.retired_at.is_some() && shop.retired_at.is_none());
    let life = ledger.lifetime_counters(shop.id).unwrap();
    let get = |m: &std::collections::BTreeMap<String, rust_decimal::Decimal>, n: &str| m.get(n).map(|v| v.to_string());
    assert_eq!(get(&life, "cash_sum").as_deref(), Some("20780"));
    assert_eq!(get(&life, "nns/2").as_deref(), Some("9725.0"));
    assert_eq!(get(&life, "tickets_since_registration/2").as_deref(), Some("8"));
    let shift = ledger.counters(shop.id, 3).unwrap();
    assert_eq!(get(&shift, "operations/2/sum").as_deref(), Some("1350"));
    assert_eq!(get(&shift, "sections/1/2/count").as_deref(), Some("1"));
    assert_eq!(get(&shift, "operators/[2] Айгерім/2/sum").as_deref(), Some("1350"));
    assert_eq!(get(&shift, "revenue").as_deref(), Some("1350"));
    assert_eq!(get(&shift, "nns/2").as_deref(), Some("1350.0"));
    assert!(ledger.counters(queue_kkm.id, 2).unwrap().is_empty(), "7001's shift 2 is closed");

    let all = ledger.journal(shop.id, &JournalQuery::default()).unwrap();
    assert_eq!(all.len(), 17, "6923's journal without the rolled-back document");
    let window = JournalQuery {
        from: Some(all[10].created_at.clone()),
        to: Some(all[12].created_at.clone()),
        ..Default::default()
    };
    let ids: Vec<String> = ledger.journal(shop.id, &window).unwrap().into_iter().map(|d| d.uid).collect();
    assert_eq!(ids, vec![all[10].uid.clone(), all[11].uid.clone(), all[12].uid.clone()]);

    // 6923's next document is 3/3 of its open shift, as the oracle's X is today.
    let entry = |t: &str| kassa::ledger::Entry {
        doc_type: t.into(),
        body: serde_json::json!({}),
        counters: vec![],
        created_at: "2026-12-06T10:00:00.000".into(),
        uid: "new".into(),
    };
    let x = ledger
        .commit_numbered(shop.id, &entry("report"), None, &Numbering { public_id: Some("kz"), ..Default::default() })
        .unwrap();
    assert_eq!((x.shift_number, x.shift_position, x.number, x.public_id), (3, 3, 19, Some(35)));
    let fifteen = ledger.document_by_public_id("kz", 15).unwrap().unwrap();
    assert_eq!((fifteen.device_id, fifteen.shift_number, fifteen.shift_position), (shop.id, 2, 4));
    // 7001's next autonomous ticket opens shift 3 as 1005 under REQNUM 14.
    let how = Numbering {
        open_if_closed: Some("2026-12-06T10:00:00.000"),
        autonomous_number: true,
        fiscal: Some(NewFiscal { next_request: Some(|n| n % 65535 + 1), request: None, autonomous: true }),
        ..Default::default()
    };
    let t = ledger.commit_numbered(queue_kkm.id, &entry("ticket"), None, &how).unwrap();
    assert_eq!((t.shift_number, t.shift_position, t.autonomous_number), (3, 1, Some(1005)));
    let note = ledger.fiscal_note(t.id).unwrap().unwrap();
    assert_eq!(note.request_number, Some(14));
}

#[test]
fn a_folder_without_documents_moves_its_kkm() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("fresh", dir.path());
    moved(&path);
    let conn = Connection::open(&path).unwrap();
    let devices: Vec<(String, i64, Option<String>)> = conn
        .prepare("SELECT serial, shift_number, shift_opened_at FROM ledger_devices WHERE country = 'kz'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(devices, vec![("6923".to_owned(), 0, None)]);
    let kkm: (i64, i64) =
        conn.query_row("SELECT kkm_id, ofd_id FROM kz_kkms", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(kkm, (1, 6923));
    assert_eq!(scalar::<i64>(&conn, "SELECT last FROM ledger_public_ids WHERE country = 'kz'"), 0);
    assert_eq!(scalar::<i64>(&conn, "SELECT count(*) FROM ledger_documents"), 0);
}

#[test]
fn a_start_that_migrates_keeps_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle/shop/data");
    let mut db = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(source.join("kassa.db.gz")).unwrap())
        .read_to_end(&mut db)
        .unwrap();
    let path = dir.path().join("kassa.db");
    std::fs::write(&path, db).unwrap();
    let before = old_documents(&Connection::open(&path).unwrap(), "documents", "kkms");
    drop(Store::open(&path).unwrap());
    let copy = dir.path().join("kassa.db.schema-12");
    let conn = Connection::open(&copy).unwrap();
    assert_eq!(scalar::<u32>(&conn, "PRAGMA user_version"), 12);
    assert_eq!(scalar::<String>(&conn, "PRAGMA journal_mode"), "delete", "one file, no log beside it");
    assert_eq!(old_documents(&conn, "documents", "kkms"), before);
    drop(conn);
    assert!(!dir.path().join("kassa.db.schema-12.partial").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The upgraded database opens without a new copy; the copy is the old schema still.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
    assert!(!dir.path().join(format!("kassa.db.schema-{}", migrations::latest())).exists());
}

#[test]
fn kazakh_counters_read_back_from_the_rows_the_move_wrote() {
    use kassa::country::kz::rules::counters::Counters;
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("shop", dir.path());
    let stored: String = {
        let conn = Connection::open(&path).unwrap();
        scalar(&conn, "SELECT counters FROM kkms WHERE ofd_id = 6923")
    };
    let mut counters: Counters = serde_json::from_str(&stored).unwrap();
    moved(&path);
    let ledger = Ledger::new(Arc::new(Store::open(&path).unwrap()));
    let shop = ledger.device("kz", "6923").unwrap().unwrap();
    // The shift's rows in their order, the counts since registration from the device's life.
    let mut rows = ledger.counters_in_order(shop.id, 3).unwrap();
    let life = ledger.lifetime_counters(shop.id).unwrap();
    rows.extend(life.into_iter().filter(|(n, _)| n.contains("_since_registration/")));
    let kazakh: Vec<(&str, rust_decimal::Decimal)> =
        rows.iter().filter(|(n, _)| !n.starts_with("nns/") && n != "revenue").map(|(n, v)| (n.as_str(), *v)).collect();
    assert_eq!(Counters::from_rows(kazakh).unwrap(), counters);

    // A section and an operator whose names hold `/` and `~`, and a tax, survive the round trip in order.
    let mut json = serde_json::to_value(&counters).unwrap();
    json["sections"].as_array_mut().unwrap().push(serde_json::json!(["a/b~c", [
        {"count": 1, "sum": "1.50"}, {"count": 0, "sum": "0"}, {"count": 2, "sum": "3"}, {"count": 0, "sum": "0"}]]));
    json["taxes"] = serde_json::json!([[12000, [
        {"turnover": "112", "without_tax": "100", "tax": "12"}, {"turnover": "0", "without_tax": "0", "tax": "0"},
        {"turnover": "0", "without_tax": "0", "tax": "0"}, {"turnover": "0", "without_tax": "0", "tax": "0"}]]]);
    counters = serde_json::from_value(json).unwrap();
    let rows = counters.to_rows();
    assert!(rows.iter().any(|(n, v)| n == "sections/a~1b~0c/0/sum" && v.to_string() == "1.50"), "{rows:?}");
    assert!(rows.iter().any(|(n, _)| n == "taxes/12000/0/tax"));
    assert_eq!(Counters::from_rows(rows.iter().map(|(n, v)| (n.as_str(), *v))).unwrap(), counters);
    assert!(Counters::from_rows([("operations/9/sum", rust_decimal::Decimal::ONE)]).is_err());
    assert!(Counters::from_rows([("nonsense", rust_decimal::Decimal::ONE)]).is_err());
}

#[test]
fn a_database_with_plain_pins_is_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 4).unwrap();
        conn.execute("INSERT INTO operators (name, access_pin, role) VALUES ('Admin', 'Plain-77', 1)", []).unwrap();
    }
    drop(Store::open(&path).unwrap());
    assert!(!dir.path().join("kassa.db.schema-4").exists(), "a copy would keep the plain PIN at rest");
}
