//! The store opens databases written by older schemas, refuses newer ones, and keeps issued numbers unique.
use kassa::store::{Store, StoreError, migrations};

#[test]
fn every_older_schema_is_migrated_forward_with_its_data() {
    for older in 0..migrations::latest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kassa.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            assert_eq!(migrations::migrate_to(&mut conn, older).unwrap(), older);
            if older >= 1 {
                // 0005 renamed the PIN column; its rows keep the plain PIN there until the next start hashes it.
                let column = if older >= 5 { "pin_key" } else { "access_pin" };
                let sql = format!("INSERT INTO operators (name, {column}, role) VALUES ('old', '4321', 3)");
                conn.execute(&sql, []).unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), migrations::latest());
        if older >= 1 {
            // The plain PIN waits for the fiscal core to hash it at start (tests/trust_auth.rs).
            let plain = store.read(|tx| tx.plain_pins()).unwrap();
            assert_eq!(plain.len(), 1);
            assert_eq!(plain[0].1, "4321");
            let op = store.read(|tx| tx.operator(plain[0].0)).unwrap();
            assert_eq!(op.map(|o| o.name), Some("old".to_owned()));
        }
    }
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", migrations::latest() + 1).unwrap();
    drop(conn);
    assert!(matches!(Store::open(&path), Err(StoreError::TooNew { .. })));
}

#[test]
fn a_factory_number_is_claimed_once_also_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    let store = Store::open(&path).unwrap();
    assert!(store.write(|tx| tx.claim_vendor_id("ISCR1000000000001", "2026-01-01T00:00:00.000")).unwrap());
    drop(store);
    let store = Store::open(&path).unwrap();
    assert!(!store.write(|tx| tx.claim_vendor_id("ISCR1000000000001", "2026-01-02T00:00:00.000")).unwrap());
}

#[test]
fn wal_and_full_sync_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    let _store = Store::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn concurrent_writes_commit_in_groups_and_a_failure_spoils_only_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    let store = std::sync::Arc::new(Store::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let vendor = format!("ISCR{t:02}{i:03}");
                    let result: Result<bool, StoreError> = store.write(|tx| {
                        let claimed = tx.claim_vendor_id(&vendor, "2026-01-01T00:00:00.000")?;
                        if i % 10 == 9 {
                            // Every tenth write fails after writing: its row must not survive.
                            return Err(StoreError::Corrupt("refused".into()));
                        }
                        Ok(claimed)
                    });
                    assert_eq!(result.is_ok(), i % 10 != 9);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM vendor_ids", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 8 * 45, "every successful write is on disk, every failed one is gone");
}

#[test]
fn a_panicking_write_is_rolled_back_and_the_store_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("kassa.db")).unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), StoreError> = store.write(|tx| {
            tx.claim_vendor_id("ISCR1", "x")?;
            panic!("bug in a write");
        });
    }));
    assert!(panicked.is_err());
    assert!(store.write(|tx| tx.claim_vendor_id("ISCR1", "y")).unwrap(), "the panicked write left nothing");
}

#[test]
fn keys_and_documents_of_an_older_database_keep_working_and_get_their_chain() {
    use kassa::store::chain::{self, Journal};
    use kassa::store::{Book, Replay, RequestKey};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kassa.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 7).unwrap();
        conn.execute_batch(
            "INSERT INTO kkms (ofd_id, ofd_uid, ofd_token, local_name, use_software_vpn, auto_withdraw_money,
                 vat_certificate, custom_data, owner_id, vendor_id, manufacture_date, reg_info, ads_info)
             VALUES (7001, 'u', 1, 'A', 0, 0, '{}', 'null', 0, 'v', 'd', '{}', '[]');
             INSERT INTO documents (kkm_id, command, created_at, fr_shift_number, shift_document_number, operator_id,
                 operator_name, summary, body, idempotency_key)
             VALUES (1, 1, '2026-01-01T10:00:00.000', 1, 1, 1, 'A', '{}', '{}', 'pos-receipt-1'),
                    (1, 6, '2026-01-01T10:01:00.000', 1, 2, 1, 'A', '{}', '{}', NULL);
             INSERT INTO ledger_devices (country, serial, registration, next_number, shift_number)
             VALUES ('by', 'AVQ1', '{}', 2, 1);
             INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body,
                 idempotency_key)
             VALUES (1, 1, 1, 'deposit_v2', 'U1', '2026-01-01T10:00:00+03:00', '{}', 'by:AVQ1:op-1');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    // Keys stored before replay their documents, now under their device and method.
    let any = serde_json::json!({"anything": "the old request is unknown"});
    let kz = RequestKey::new("TradeOperation", "pos-receipt-1", &any);
    assert_eq!(store.read(|tx| tx.replay(Book::Kkm, 1, &kz)).unwrap(), Replay::Stored(1));
    let by = RequestKey::new("deposit", "op-1", &any);
    assert_eq!(store.read(|tx| tx.replay(Book::Ledger, 1, &by)).unwrap(), Replay::Stored(1));
    // Another KKM, another method: not the old document.
    assert_eq!(store.read(|tx| tx.replay(Book::Kkm, 2, &kz)).unwrap(), Replay::New);
    let other = RequestKey::new("MoneyPlacement", "pos-receipt-1", &any);
    assert_eq!(store.read(|tx| tx.replay(Book::Kkm, 1, &other)).unwrap(), Replay::New);
    drop(store);
    // The migration chained and sealed the stored documents.
    let conn = rusqlite::Connection::open(&path).unwrap();
    for journal in Journal::ALL {
        let report = chain::verify(kassa::store::sql::Db::Sqlite(&conn), journal).unwrap();
        assert!(report.documents > 0 && report.problems.is_empty(), "{journal:?}: {report:?}");
    }
}
