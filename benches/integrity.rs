//! The start-up integrity check on a large journal: makes one real sale through the API, copies its row into
//! a journal of 1 000 000 documents (`INTEGRITY_BENCH_DOCS` to change), then times `PRAGMA quick_check` and the
//! whole `Store::open` (which runs it) on that file. Prints the file size and the times; the OS page cache is
//! dropped first when the system allows it (else the figures are with a warm cache, and say so).
//!
//! Run: `cargo bench --bench integrity` (release; needs about 3 GB of free disk).
mod common;
use serde_json::json;
use std::time::Instant;

async fn one_real_sale(dir: &std::path::Path) {
    let (server, _) = common::InProcess::start(dir).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    for (method, body) in [
        ("SaveKKM", json!({"ofd_id": 6923, "ofd_token": 59359406})),
        ("TradeOperation", serde_json::from_str(common::REAL_SALE).expect("the sale is JSON")),
    ] {
        common::kz_call(&client, &base, method, body.to_string()).await;
    }
    server.stop().await;
}

fn drop_page_cache() -> bool {
    std::process::Command::new("sync").status().is_ok() && std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

#[tokio::main]
async fn main() {
    let docs: i64 = std::env::var("INTEGRITY_BENCH_DOCS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir =
        tempfile::tempdir_in(std::env::var("INTEGRITY_BENCH_DIR").unwrap_or_else(|_| ".".into())).expect("temp dir");
    one_real_sale(dir.path()).await;
    let db = dir.path().join("kassa.db");
    let built = Instant::now();
    {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;").expect("pragmas");
        let row_bytes: i64 = conn
            .query_row(
                "SELECT length(d.body) + length(coalesce(f.body, '')) + length(f.request)
                   FROM ledger_documents d JOIN ledger_fiscal f ON f.document_id = d.id",
                [],
                |r| r.get(0),
            )
            .expect("the sale");
        println!("one document: {row_bytes} bytes of body, amended body and OFD request");
        conn.execute(
            "INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body,
                 fiscal_state, fiscal_reply, template_sha256, shift_position, shift_opened_at, public_id)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             SELECT d.device_id, d.number + i, 1 + i / 1000, d.doc_type, d.uid || '-' || i, d.created_at, d.body,
                 1, d.fiscal_reply, d.template_sha256, i % 1000 + 2, d.shift_opened_at, d.public_id + i
             FROM n, ledger_documents d WHERE d.id = 1",
            [docs - 1],
        )
        .expect("journal");
        conn.execute(
            "INSERT INTO ledger_fiscal (document_id, request_number, request, autonomous, ticket, body)
             SELECT d.id, f.request_number, f.request, 0, f.ticket || d.id, f.body
               FROM ledger_documents d, ledger_fiscal f WHERE f.document_id = 1 AND d.id > 1",
            [],
        )
        .expect("fiscal rows");
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").expect("checkpoint");
    }
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1e9;
    println!("journal of {docs} documents built in {:.0} s: {size:.2} GB", built.elapsed().as_secs_f64());

    let cold = drop_page_cache();
    let cache = if cold { "cold page cache" } else { "warm page cache (cannot drop it here)" };
    let conn = rusqlite::Connection::open(&db).expect("open");
    let t = Instant::now();
    let result: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).expect("quick_check");
    println!("PRAGMA quick_check: {result}, {:.2} s ({cache})", t.elapsed().as_secs_f64());
    drop(conn);

    let cold = drop_page_cache();
    let cache = if cold { "cold page cache" } else { "warm page cache" };
    let t = Instant::now();
    let store = kassa::store::Store::open(&db).expect("Store::open");
    println!("Store::open with its quick_check: {:.2} s ({cache})", t.elapsed().as_secs_f64());
    drop(store);
    let t = Instant::now();
    let store = kassa::store::Store::open(&db).expect("Store::open");
    println!("Store::open again, the file in the page cache: {:.2} s", t.elapsed().as_secs_f64());
    drop(store);
}
