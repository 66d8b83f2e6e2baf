//! `kassa store copy` on a realistic shop (issue 25): COPY FROM STDIN against multi-row INSERTs, and the
//! proof's own time. For journals of 10⁴ and 10⁵ documents (`STORE_COPY_BENCH_DOCS=10000,100000` to change;
//! 10⁵ is about a year of a busy till), a real sale through the API is copied into past shifts with its
//! fiscal row and its counters (as `benches/journal_size.rs` grows a journal), and the whole journal is
//! chained and sealed again with the store's own hashing, so the copy's proof checks real chains. Each way
//! runs `kassa store copy` (the release binary) into a fresh database of one throwaway PostgreSQL (Debian's
//! binaries, as tests/store_pg starts it) and prints the times it reports.
//!
//! Run: `cargo bench --bench store_copy`. One run, on a shared machine: the figures are noisy.
use kassa::store::chain::Journal;
use rusqlite::types::{Value, ValueRef};
use std::path::Path;
use std::time::Instant;

mod common;
#[path = "../tests/store_pg/postgres.rs"]
mod postgres;

use common::REAL_SALE as SALE;

/// One KKM and one real sale (document 1), through the API of an in-process server.
async fn one_sale(dir: &Path) {
    let (server, _) = common::InProcess::start(dir).await;
    let client = reqwest::Client::new();
    for (method, body) in [("SaveKKM", r#"{"ofd_id": 6923, "ofd_token": 59359406}"#), ("TradeOperation", SALE)] {
        common::kz_call(&client, &server.base, method, body.to_owned()).await;
    }
    server.stop().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

/// Copies document 1 into `docs - 1` more in past shifts, each with its fiscal row and its counters, moves
/// the device's numbers past them and chains and seals the whole journal again.
fn grow(db: &Path, docs: i64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN;").expect("pragmas");
    common::copy_first_document(&conn, docs);
    rechain(&conn);
    conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);").expect("commit");
}

/// Chains and seals every ledger document again, oldest first, as the store does.
fn rechain(conn: &rusqlite::Connection) {
    let journal = Journal::Ledger;
    let mut stmt =
        conn.prepare(&format!("SELECT {} FROM ledger_documents ORDER BY id", journal.select_list())).unwrap();
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let rows: Vec<Vec<Value>> = stmt
        .query_map([], |r| (0..names.len()).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut update = conn.prepare("UPDATE ledger_documents SET chain = ?2, seal = ?3 WHERE id = ?1").unwrap();
    let mut previous: Option<String> = None;
    for row in rows {
        let named: Vec<(&str, ValueRef)> =
            names.iter().map(String::as_str).zip(row.iter().map(ValueRef::from)).collect();
        let (chain, seal) = journal.chain_and_seal(previous.as_deref(), &named);
        let Value::Integer(id) = row[0] else { panic!("id") };
        update.execute(rusqlite::params![id, chain, seal]).unwrap();
        previous = Some(chain);
    }
}

/// `kassa store copy --via <via>`: its report line and the wall time.
fn copy(dir: &Path, url: &str, via: &str) -> (String, f64) {
    let t = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["store", "copy", "--from"])
        .arg(dir)
        .args(["--to", url, "--via", via])
        .env("RUST_LOG", "warn")
        .output()
        .expect("kassa store copy");
    let wall = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every check matched"), "{stdout}");
    let line = stdout.lines().find(|l| l.starts_with("copied ")).unwrap_or_default().to_owned();
    (line, wall)
}

#[tokio::main]
async fn main() {
    let sizes: Vec<i64> = std::env::var("STORE_COPY_BENCH_DOCS")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let Some(pg) = postgres::Postgres::start() else { return };
    for docs in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        one_sale(dir.path()).await;
        let t = Instant::now();
        grow(&dir.path().join("kassa.db"), docs);
        let size = std::fs::metadata(dir.path().join("kassa.db")).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        eprintln!("{docs} documents: built in {:.0} s, kassa.db {size:.0} MB", t.elapsed().as_secs_f64());
        for via in ["copy", "insert"] {
            let url = pg.database(&format!("shop_{docs}_{via}"));
            let (line, wall) = copy(dir.path(), &url, via);
            println!("{docs:>8} documents, {via:<6}: {line} (whole command {wall:.1} s)");
        }
    }
}
