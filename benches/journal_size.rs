//! Costs against the size of the journal (issue 24, goal 5): for journals of 10³, 10⁵ and 10⁶ documents
//! (`JOURNAL_BENCH_SIZES=1000,100000` to change), the start of the server (after the bulk insert, which a
//! start sees as a changed database, so it checks fully; then after a clean stop), a sale, an X report,
//! GetTransactionList with a narrow date filter, with an old shift, with a fiscal sign and with a transaction
//! ID (the API has no paging: those filters are how a client reads a part), GetDocumentImage of an old
//! document, and a Z report, each through the real HTTP API of an in-process server. Prints a table with the
//! median of each (milliseconds).
//!
//! The journal is built as `benches/integrity.rs` builds it: one real sale through the API, then its
//! `ledger_documents` and `ledger_fiscal` rows copied by one SQL insert into past shifts of 1 000 documents
//! a second apart (their chain and seal copied too: the bench does not verify the chain), and the device's
//! numbers moved past them, so the next sale goes on from there.
//!
//! Run: `cargo bench --bench journal_size` (release; 10⁶ documents take about 2 GB of disk). The page cache
//! is warm (the journal was just written).
mod common;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

use common::REAL_SALE as SALE;

/// A server over a data folder, in this process.
struct Server {
    server: common::InProcess,
    client: reqwest::Client,
}

/// Starts the core over `dir` and serves it; returns it with the time `start_core` took.
async fn start(dir: &Path) -> (Server, Duration) {
    let (server, took) = common::InProcess::start(dir).await;
    (Server { server, client: reqwest::Client::new() }, took)
}

impl Server {
    async fn call(&self, method: &str, body: &str) -> Value {
        let answer = self
            .client
            .post(format!("{}/{method}", self.server.base))
            .header("Authorization", "0000")
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        if answer.headers().get("content-type").is_some_and(|t| t == "image/png") {
            let png = answer.bytes().await.expect("image");
            assert!(png.starts_with(b"\x89PNG"), "{method}: not a PNG");
            return Value::Null;
        }
        let v: Value = answer.json().await.expect("json");
        assert_eq!(v["response_code"], 0, "{method}: {v}");
        v
    }

    /// The median time of `n` calls, and the last answer.
    async fn median(&self, n: usize, method: &str, body: &str) -> (f64, Value) {
        let mut times = Vec::with_capacity(n);
        let mut last = Value::Null;
        for _ in 0..n {
            let t = Instant::now();
            last = self.call(method, body).await;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        (times[n / 2], last)
    }

    async fn stop(self) {
        self.server.stop().await;
        // The senders' tasks let go of the store once they see the queue empty.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Copies the one real document into `docs - 1` more, in past shifts of 1 000, a second apart, and moves the
/// device's numbers past them.
fn grow(db: &Path, docs: i64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN;").expect("pragmas");
    common::copy_first_document(&conn, docs);
    conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);").expect("commit");
}

fn stopped_cleanly(dir: &Path) -> &'static str {
    let mark = std::fs::read_to_string(dir.join("kassa.mark")).unwrap_or_default();
    if mark.contains("clean") { "clean stop recorded" } else { "no clean stop recorded" }
}

struct Row {
    docs: i64,
    size_gb: f64,
    figures: Vec<(&'static str, f64)>,
}

async fn measure(docs: i64, parent: &Path) -> Row {
    let dir = tempfile::tempdir_in(parent).expect("temp dir");
    let (server, _) = start(dir.path()).await;
    server.call("SaveKKM", r#"{"ofd_id": 6923, "ofd_token": 59359406}"#).await;
    server.call("TradeOperation", SALE).await;
    server.stop().await;
    let built = Instant::now();
    grow(&dir.path().join("kassa.db"), docs);
    let size_gb = std::fs::metadata(dir.path().join("kassa.db")).map(|m| m.len()).unwrap_or(0) as f64 / 1e9;
    eprintln!("{docs} documents: built in {:.0} s, {size_gb:.2} GB", built.elapsed().as_secs_f64());

    let mut figures = Vec::new();
    let (server, changed_start) = start(dir.path()).await;
    figures.push(("start, database changed (full check)", changed_start.as_secs_f64() * 1e3));
    server.stop().await;
    eprintln!("  after the first stop: {}", stopped_cleanly(dir.path()));
    let (server, clean_start) = start(dir.path()).await;
    figures.push(("start after a clean stop", clean_start.as_secs_f64() * 1e3));

    figures.push(("TradeOperation", server.median(31, "TradeOperation", SALE).await.0));
    let x = r#"{"kkm_ofd_id": 6923, "report_type": 1}"#;
    figures.push(("ZXReport X", server.median(11, "ZXReport", x).await.0));

    // A minute in the middle of the journal (documents are a second apart).
    let middle: String = {
        let conn = rusqlite::Connection::open(dir.path().join("kassa.db")).expect("open");
        conn.query_row("SELECT substr(created_at, 1, 19) FROM ledger_documents WHERE id = ?1", [docs / 2], |r| r.get(0))
            .expect("middle date")
    };
    let end = chrono::NaiveDateTime::parse_from_str(&middle, "%Y-%m-%dT%H:%M:%S").expect("date")
        + chrono::Duration::seconds(59);
    let by_date = json!({"kkm_ofd_id": 6923, "period_start": format!("{middle}.000"),
        "period_end": format!("{}.999", end.format("%Y-%m-%dT%H:%M:%S"))});
    let (ms, list) = server.median(11, "GetTransactionList", &by_date.to_string()).await;
    let found = list["response_data"].as_array().map_or(0, |a| a.len());
    assert!(found >= 50, "a minute of the journal: {found} documents");
    figures.push(("GetTransactionList, one minute (60 docs)", ms));

    let old_shift = (docs / 2000).max(1);
    let by_shift = json!({"kkm_ofd_id": 6923, "shift_number": old_shift}).to_string();
    figures.push(("GetTransactionList, an old shift", server.median(5, "GetTransactionList", &by_shift).await.0));

    let old = list["response_data"][0].clone();
    let by_id = json!({"kkm_ofd_id": 6923, "transaction_id": old["ID"]}).to_string();
    let (ms, one) = server.median(11, "GetTransactionList", &by_id).await;
    assert_eq!(one["response_data"].as_array().map_or(0, |a| a.len()), 1, "{one}");
    figures.push(("GetTransactionList, one transaction_id", ms));

    let ticket: String = {
        let conn = rusqlite::Connection::open(dir.path().join("kassa.db")).expect("open");
        conn.query_row("SELECT ticket FROM ledger_fiscal WHERE document_id = ?1", [docs / 3], |r| r.get(0))
            .expect("a ticket")
    };
    let by_sign = json!({"kkm_ofd_id": 6923, "fiscal_id": ticket, "command_type_list": [1]}).to_string();
    let (ms, one) = server.median(11, "GetTransactionList", &by_sign).await;
    assert_eq!(one["response_data"].as_array().map_or(0, |a| a.len()), 1, "{one}");
    figures.push(("GetTransactionList, one fiscal_id", ms));

    let image = json!({"kkm_ofd_id": 6923, "fr_shift_number": old["fr_shift_number"],
        "shift_document_number": old["shift_document_number"]})
    .to_string();
    figures.push(("GetDocumentImage of an old document", server.median(11, "GetDocumentImage", &image).await.0));

    let mut z = Vec::new();
    for _ in 0..3 {
        server.call("TradeOperation", SALE).await;
        let t = Instant::now();
        server.call("ZXReport", r#"{"kkm_ofd_id": 6923, "report_type": 0}"#).await;
        z.push(t.elapsed().as_secs_f64() * 1e3);
    }
    z.sort_by(f64::total_cmp);
    figures.push(("ZXReport Z", z[1]));
    server.stop().await;
    if std::env::var_os("JOURNAL_BENCH_KEEP").is_some() {
        eprintln!("  kept: {}", dir.keep().display());
    }
    Row { docs, size_gb, figures }
}

#[tokio::main]
async fn main() {
    kassa::logging::init(Default::default());
    let sizes: Vec<i64> = std::env::var("JOURNAL_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let parent = std::env::var("JOURNAL_BENCH_DIR").unwrap_or_else(|_| ".".into());
    let mut rows = Vec::new();
    for docs in sizes {
        rows.push(measure(docs, Path::new(&parent)).await);
    }
    let Some(first) = rows.first() else { return };
    print!("{:<42}", "median, ms");
    for row in &rows {
        print!("{:>14}", format!("{} docs", row.docs));
    }
    println!();
    print!("{:<42}", "kassa.db, GB");
    for row in &rows {
        print!("{:>14.2}", row.size_gb);
    }
    println!();
    for (i, (name, _)) in first.figures.iter().enumerate() {
        print!("{name:<42}");
        for row in &rows {
            print!("{:>14.2}", row.figures[i].1);
        }
        println!();
    }
}
