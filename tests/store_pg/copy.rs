//! `kassa store copy`: a real shop copied and proven, checked again with `psql`; a non-empty target refused;
//! a copy while the server keeps selling; a damaged source refused with nothing left in the target.
use crate::migrate::store;
use crate::postgres::Postgres;
use crate::shop::Shop;
use rusqlite::Connection;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn sqlite_count(db: &Connection, table: &str) -> i64 {
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
}

/// The exact sum of a decimal text column, computed here from SQLite's text.
fn sqlite_sum(db: &Connection, sql: &str) -> Decimal {
    let mut stmt = db.prepare(sql).expect("prepare");
    let texts = stmt.query_map([], |r| r.get::<_, String>(0)).expect("query");
    texts.map(|t| Decimal::from_str(&t.expect("row")).expect("decimal")).sum()
}

#[test]
fn a_shop_is_copied_proven_and_read_back_by_psql() {
    let Some(pg) = Postgres::start() else { return };
    let shop = Shop::open();
    shop.set_up();
    shop.day();
    shop.day();
    let dir = shop.stop();
    let data = dir.path().join("data");
    let url = pg.database("shop");

    let (ok, out, err) = store(&["copy", "--from", data.to_str().unwrap(), "--to", &url]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("every check matched: the copy is committed"), "{out}");
    assert!(
        out.contains("journal ledger_documents:")
            && out.contains("chain and seal recomputed from PostgreSQL equal SQLite's"),
        "{out}"
    );

    // The PostgreSQL side read by psql, the SQLite side by SQLite: not through the copy's code.
    let db = Connection::open(data.join("kassa.db")).expect("open");
    for table in [
        "ledger_devices",
        "ledger_documents",
        "ledger_fiscal",
        "ledger_counters",
        "ledger_document_records",
        "operators",
        "kz_kkms",
        "templates",
    ] {
        let n = sqlite_count(&db, table);
        assert!(n > 0 || table == "templates", "{table} is empty in the shop");
        assert_eq!(pg.psql("shop", &format!("SELECT count(*) FROM {table}")), n.to_string(), "{table}");
    }
    let countries = pg.psql("shop", "SELECT string_agg(DISTINCT country, ',' ORDER BY country) FROM ledger_devices");
    assert_eq!(countries, "by,kz,ua");
    let sum = sqlite_sum(&db, "SELECT value FROM ledger_counters");
    assert_ne!(sum, Decimal::ZERO);
    let pg_sum = Decimal::from_str(&pg.psql("shop", "SELECT sum(value) FROM ledger_counters")).unwrap();
    assert_eq!(pg_sum, sum);
    // A decimal's text comes back as SQLite held it.
    let texts = |sql: &str| -> Vec<String> {
        let mut stmt = db.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(|t| t.unwrap()).collect()
    };
    // What each document added to the counters (migration 0018), byte for byte.
    let records = texts("SELECT counters FROM ledger_document_records ORDER BY document_id");
    assert!(records.iter().any(|r| r.contains("\"operations/")), "no Kazakh document counted: {records:?}");
    let pg_records = pg.psql("shop", "SELECT counters FROM ledger_document_records ORDER BY document_id");
    assert_eq!(pg_records.lines().collect::<Vec<_>>(), records);
    let order = "ORDER BY device_id, name";
    let sqlite_texts = texts(&format!("SELECT value FROM ledger_lifetime_counters {order}"));
    let pg_texts = pg.psql("shop", &format!("SELECT value::text FROM ledger_lifetime_counters {order} COLLATE \"C\""));
    assert_eq!(pg_texts.lines().collect::<Vec<_>>(), sqlite_texts);
    // The sealed bodies, byte for byte: SHA-256 of all of them in order, on both sides.
    let mut h = Sha256::new();
    for body in texts("SELECT body FROM ledger_documents ORDER BY id") {
        h.update(body.as_bytes());
    }
    let pg_hash = pg.psql(
        "shop",
        "SELECT encode(sha256(convert_to(string_agg(body, '' ORDER BY id), 'UTF8')), 'hex') FROM ledger_documents",
    );
    assert_eq!(pg_hash, hex::encode(h.finalize()));
    // The identities go on after the copied IDs.
    let next = pg.psql("shop", "SELECT nextval(pg_get_serial_sequence('ledger_documents', 'id'))");
    let max: i64 = db.query_row("SELECT max(id) FROM ledger_documents", [], |r| r.get(0)).unwrap();
    assert_eq!(next, (max + 1).to_string());
    // Documents stay.
    let out = pg.psql_output("shop", "DELETE FROM ledger_documents WHERE id = 1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("fiscal documents are never deleted"));

    // A second copy into the same store is refused; nothing changes.
    let documents = pg.psql("shop", "SELECT count(*) FROM ledger_documents");
    let (ok, out, err) = store(&["copy", "--from", data.to_str().unwrap(), "--to", &url]);
    assert!(!ok, "{out}");
    assert!(err.contains("already holds data") && err.contains("ledger_documents ("), "{err}");
    assert_eq!(pg.psql("shop", "SELECT count(*) FROM ledger_documents"), documents);
}

#[test]
fn a_copy_while_the_server_sells_proves_its_snapshot() {
    let Some(pg) = Postgres::start() else { return };
    let shop = Arc::new(Shop::open());
    shop.set_up();
    shop.day();
    let kazakh =
        "SELECT count(*) FROM ledger_documents d JOIN ledger_devices v ON v.id = d.device_id WHERE v.country = 'kz'";
    let db = Connection::open(shop.data().join("kassa.db")).expect("open");
    let stop = Arc::new(AtomicBool::new(false));
    let sold = Arc::new(AtomicU64::new(0));
    let seller = {
        let (shop, stop, sold) = (shop.clone(), stop.clone(), sold.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                shop.sale(1);
                sold.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while sold.load(Ordering::Relaxed) < 3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A copy of this small journal can end before a sale does on a loaded machine: each try copies into a
    // database of its own, until one had a sale acknowledged while it ran. Every try must hold the snapshot.
    let mut overlapped = false;
    for attempt in 0..5 {
        let name = format!("shop{attempt}");
        let url = pg.database(&name);
        let made = db.query_row(kazakh, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
        let (ok, out, err) = store(&["copy", "--from", shop.data().to_str().unwrap(), "--to", &url]);
        let now = db.query_row(kazakh, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
        assert!(ok, "{out}\n{err}");
        assert!(out.contains("every check matched"), "{out}");
        let copied: u64 = pg.psql(&name, kazakh).parse().unwrap();
        // The snapshot: every sale acknowledged before the copy began; none that is not in the database.
        assert!(copied >= made && copied <= now, "copied {copied}, {made} before the copy, {now} after it");
        if now > made {
            overlapped = true;
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    seller.join().expect("seller");
    assert!(overlapped, "in five copies, no sale was committed while one ran");
}

/// Rows of `table` in the target, or None when it has no such table.
fn target_rows(pg: &Postgres, table: &str) -> Option<String> {
    let exists = pg.psql("shop", &format!("SELECT to_regclass('{table}') IS NOT NULL"));
    (exists == "t").then(|| pg.psql("shop", &format!("SELECT count(*) FROM {table}")))
}

#[test]
fn a_damaged_source_is_refused_and_the_target_keeps_nothing() {
    let Some(pg) = Postgres::start() else { return };
    let shop = Shop::open();
    shop.set_up();
    for _ in 0..3 {
        shop.day();
    }
    let dir = shop.stop();
    let url = pg.database("shop");
    let damaged = tempfile::tempdir().unwrap();
    let copy = damaged.path().join("kassa.db");

    // Truncated: SQLite sees the file shorter than its header says at the first read.
    std::fs::copy(dir.path().join("data/kassa.db"), &copy).unwrap();
    let len = std::fs::metadata(&copy).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&copy).unwrap().set_len(len * 9 / 10).unwrap();
    let (ok, out, err) = store(&["copy", "--from", copy.to_str().unwrap(), "--to", &url]);
    assert!(!ok, "{out}");
    assert!(err.contains("is damaged") && err.contains("nothing was committed"), "{err}");
    assert!(!out.contains("every check matched"), "{out}");
    assert_eq!(target_rows(&pg, "ledger_documents"), None, "a damaged source changes nothing in the target");

    // Damaged in the middle: the last page of ledger_fiscal, copied after the documents. The copy has
    // written documents into its transaction when it meets the damage; the rollback leaves none.
    std::fs::copy(dir.path().join("data/kassa.db"), &copy).unwrap();
    let (page, size): (i64, i64) = Connection::open(&copy)
        .unwrap()
        .query_row(
            "SELECT max(pageno), (SELECT page_size FROM pragma_page_size) FROM dbstat WHERE name = 'ledger_fiscal'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut bytes = std::fs::read(&copy).unwrap();
    let at = ((page - 1) * size) as usize;
    bytes[at..at + size as usize].fill(0xA5);
    std::fs::write(&copy, bytes).unwrap();
    let (ok, out, err) = store(&["copy", "--from", copy.to_str().unwrap(), "--to", &url]);
    assert!(!ok, "{out}");
    assert!(err.contains("is damaged (ledger_fiscal") && err.contains("nothing was committed"), "{err}");
    for table in ["ledger_devices", "ledger_documents", "ledger_document_counters", "operators", "kz_kkms"] {
        assert_eq!(target_rows(&pg, table).as_deref(), Some("0"), "{table} kept rows of a rolled-back copy");
    }

    // A folder that is no Kassa store: said so.
    let (ok, _, err) = store(&["copy", "--from", damaged.path().join("nothing").to_str().unwrap(), "--to", &url]);
    assert!(!ok);
    assert!(err.contains("--from names a data folder or its kassa.db"), "{err}");
}

#[test]
fn a_shop_from_before_the_ledger_keeps_its_old_journal_proven_too() {
    let Some(pg) = Postgres::start() else { return };
    // The oracle's shop of schema 12 (tests/fixtures/oracle): Kazakh documents on their own tables.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle/shop");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let gz = std::fs::File::open(fixture.join("data/kassa.db.gz")).unwrap();
    let mut db = std::fs::File::create(data.join("kassa.db")).unwrap();
    std::io::copy(&mut flate2::read::GzDecoder::new(gz), &mut db).unwrap();
    for name in ["pin.key", "kassa.mark"] {
        std::fs::copy(fixture.join("data").join(name), data.join(name)).unwrap();
    }
    let url = pg.database("shop");
    let (ok, _, err) = store(&["copy", "--from", data.to_str().unwrap(), "--to", &url]);
    assert!(!ok);
    assert!(
        err.contains("has schema 12; a copy takes schema 18: start this kassa's server on the folder once"),
        "{err}"
    );
    assert_eq!(target_rows(&pg, "ledger_documents"), None);

    // Upgraded by a start (the built-in emulator stands in for both OFDs), then copied.
    let config = std::fs::read_to_string(fixture.join("kassa.toml"))
        .unwrap()
        .replace("\"@OFD_ONLINE@\"", "\"emulator\"")
        .replace("\"@OFD_QUEUE@\"", "\"emulator\"");
    std::fs::write(dir.path().join("kassa.toml"), config).unwrap();
    let mut command = crate::common::kassa();
    command.args(["serve", "--data-dir"]).arg(&data).arg("--config").arg(dir.path().join("kassa.toml"));
    // On SQLite even when the suite serves from PostgreSQL: the start upgrades kassa.db, which is copied.
    command.env("RUST_LOG", "warn").env("KASSA_STORE_URL", "").stderr(std::process::Stdio::null());
    let mut served = crate::common::Served::spawn(command, &["api"]).expect("kassa serve on the fixture");
    unsafe { libc::kill(served.child.id() as i32, libc::SIGTERM) };
    let _ = served.child.wait();

    let (ok, out, err) = store(&["copy", "--from", data.to_str().unwrap(), "--to", &url]);
    assert!(ok, "{out}\n{err}");
    let kept = Connection::open(data.join("kassa.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM kz_documents_before_ledger", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert!(kept > 0);
    assert!(
        out.contains(&format!(
            "journal kz_documents_before_ledger: {kept} documents, chain and seal recomputed from PostgreSQL equal SQLite's"
        )),
        "{out}"
    );
    assert_eq!(pg.psql("shop", "SELECT count(*) FROM kz_documents_before_ledger"), kept.to_string());
}
