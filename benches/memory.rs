//! Memory under mixed load: the real `kassa serve` binary in its own process, 16 clients for 60 s doing
//! sales, X reports, journal reads (the list of the last 10 s, as a POS shows recent receipts, and a single
//! document) and GetDocumentImage on four KKMs. `MEMORY_BENCH_FULL_JOURNAL=1` lists the whole journal instead,
//! an answer that grows with every sale (so does the memory it takes while it is built).
//! Prints the server's RSS (from /proc) at the start, every 10 s, at the end and after 5 s of rest; the target
//! is an end RSS under 60 MB.
//!
//! Run: `cargo bench --bench memory` (release). `MEMORY_BENCH_SECS=20` shortens the run; `MEMORY_BENCH_BIN`
//! runs another kassa binary; `KASSA_ALLOCATOR` (glibc, mimalloc, jemalloc) reaches the server.
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PIN: &str = "0000";
const CLIENTS: usize = 16;
const KKMS: [i64; 4] = [6923, 6924, 6925, 6926];

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn sale(kkm: i64, n: u64) -> Value {
    let price = 100 + (n % 50) as i64;
    json!({
        "kkm_ofd_id": kkm, "operation": 2,
        "items": [
            {"type": 1, "commodity": {"name": format!("Нан {n}"), "section_code": "1", "quantity": 2, "price": price, "measure_unit_code": "796"}},
            {"type": 1, "commodity": {"name": "Сүт 1л", "section_code": "2", "quantity": 1, "price": 520, "measure_unit_code": "796"}}
        ],
        "payments": [{"type": 0, "sum": 2 * price + 520}],
        "amounts": {"total": 2 * price + 520}
    })
}

async fn call(client: &reqwest::Client, base: &str, method: &str, body: &Value) -> Option<reqwest::Response> {
    client.post(format!("{base}/{method}")).header("Authorization", PIN).body(body.to_string()).send().await.ok()
}

async fn json_call(client: &reqwest::Client, base: &str, method: &str, body: &Value) -> Value {
    match call(client, base, method, body).await {
        Some(r) => r.json().await.unwrap_or(Value::Null),
        None => Value::Null,
    }
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("MEMORY_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let full_journal = std::env::var("MEMORY_BENCH_FULL_JOURNAL").is_ok();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    // MEMORY_BENCH_BIN: another build of kassa (an older commit, to compare); KASSA_ALLOCATOR passes through.
    let bin = std::env::var("MEMORY_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kassa").to_owned());
    let mut server = Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kassa serve");
    let pid = server.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while json_call(&client, &base, "Ping", &json!({})).await["response_code"] != 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for kkm in KKMS {
        let saved = json_call(&client, &base, "SaveKKM", &json!({"ofd_id": kkm, "ofd_token": 1000 + kkm})).await;
        assert_eq!(saved["response_code"], 0, "{saved}");
        json_call(&client, &base, "TradeOperation", &sale(kkm, 0)).await;
    }
    let start_rss = rss_mb(pid);
    println!("RSS at start: {start_rss:.1} MB");

    let ops = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, base, ops, failures) = (client.clone(), base.clone(), ops.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let kkm = KKMS[c % KKMS.len()];
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let ok = match n % 10 {
                    0 => json_call(&client, &base, "ZXReport", &json!({"kkm_ofd_id": kkm, "report_type": 1})).await
                        ["response_code"]
                        == 0,
                    1 | 2 => {
                        let mut query = json!({"kkm_ofd_id": kkm});
                        if !full_journal {
                            let since = chrono::Local::now().naive_local() - chrono::Duration::seconds(10);
                            query["period_start"] = json!(since.format("%Y-%m-%dT%H:%M:%S%.3f").to_string());
                        }
                        let list = json_call(&client, &base, "GetTransactionList", &query).await;
                        let last = list["response_data"].as_array().and_then(|l| l.last()).map(|d| d["ID"].clone());
                        match last {
                            Some(id) => {
                                json_call(&client, &base, "GetTransaction", &json!({"kkm_ofd_id": kkm, "transaction_id": id}))
                                    .await["response_code"]
                                    == 0
                            }
                            None => false,
                        }
                    }
                    3 => {
                        let image = json!({"kkm_ofd_id": kkm, "fr_shift_number": 1, "shift_document_number": 1 + (n / 10) % 5});
                        match call(&client, &base, "GetDocumentImage", &image).await {
                            Some(r) => r.bytes().await.map(|b| b.starts_with(b"\x89PNG")).unwrap_or(false),
                            None => false,
                        }
                    }
                    _ => json_call(&client, &base, "TradeOperation", &sale(kkm, n)).await["response_code"] == 0,
                };
                ops.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let load_started = Instant::now();
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(10).min(until.saturating_duration_since(Instant::now()))).await;
        println!(
            "  {:>3} s: RSS {:.1} MB, {} requests",
            load_started.elapsed().as_secs(),
            rss_mb(pid),
            ops.load(Ordering::Relaxed)
        );
    }
    for t in tasks {
        let _ = t.await;
    }
    let end_rss = rss_mb(pid);
    let total = ops.load(Ordering::Relaxed);
    println!(
        "RSS at the end of {secs} s of mixed load ({CLIENTS} clients, {total} requests, {:.0}/s, {} failed): {end_rss:.1} MB",
        total as f64 / secs as f64,
        failures.load(Ordering::Relaxed)
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!("RSS after 5 s of rest: {:.1} MB (target: under 60 MB)", rss_mb(pid));
    let _ = server.kill();
    let _ = server.wait();
}
