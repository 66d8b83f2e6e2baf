//! TradeOperation end to end: HTTP → validation → SQLite commit (WAL, synchronous=FULL) → OFD exchange with the
//! built-in emulator on loopback → commit of the answer → HTTP answer. Prints medians, p99 and throughput, and
//! the cost of an X/Z report after 10 and after 10 000 documents (counters, not scans).
//!
//! Run: `cargo bench --bench fiscal` (release). Set `FISCAL_BENCH_QUICK=1` for a short run.
use kassa::config::Config;
use kassa::ledger::clock::SystemClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PIN: &str = "0000";

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
        config.fiscal.busy_wait_ms = 60_000;
        let started = kassa::server::start_core(&config, Arc::new(SystemClock)).await.expect("core");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = started.state();
        tokio::spawn(async move {
            let _keep = started;
            kassa::server::serve(state, listener, std::future::pending()).await.expect("serve");
        });
        Server { base, client: reqwest::Client::new(), _dir: dir }
    }

    async fn call(&self, method: &str, body: &Value) -> Value {
        let resp = self
            .client
            .post(format!("{}/{method}", self.base))
            .header("Authorization", PIN)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["response_code"], 0, "{method}: {v}");
        v
    }
}

fn sale(kkm: i64) -> Value {
    json!({
        "kkm_ofd_id": kkm, "operation": 2,
        "items": [
            {"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 2, "price": 150, "sum": 300, "measure_unit_code": "796"}},
            {"type": 1, "commodity": {"name": "Сүт 1л", "section_code": "2", "quantity": 1, "price": 520, "sum": 520, "measure_unit_code": "796"},
             "discount": {"name": "акция", "sum": 20}}
        ],
        "payments": [{"type": 0, "sum": 1000}],
        "taxes": [{"taxation_type": 101, "percent": 12, "sum": 85.71, "is_in_total_sum": true}],
        "amounts": {"total": 800}
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn timed(s: &Server, method: &str, body: &Value) -> Duration {
    let t = Instant::now();
    s.call(method, body).await;
    t.elapsed()
}

fn main() {
    let quick = std::env::var("FISCAL_BENCH_QUICK").is_ok();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let s = Arc::new(Server::start().await);
        for kkm in 1..=8 {
            s.call("SaveKKM", &json!({"ofd_id": kkm, "ofd_token": 1000 + kkm})).await;
        }
        let n = if quick { 200 } else { 2000 };
        // Warm-up (opens the shift, fills caches).
        for _ in 0..50 {
            s.call("TradeOperation", &sale(1)).await;
        }

        let mut one = Vec::with_capacity(n);
        for _ in 0..n {
            one.push(timed(&s, "TradeOperation", &sale(1)).await);
        }
        one.sort();
        println!("TradeOperation, 1 client, 1 KKM, {n} receipts:");
        println!("  p50 {:.2} ms   p99 {:.2} ms", ms(percentile(&one, 0.5)), ms(percentile(&one, 0.99)));

        for (label, kkms) in
            [("8 clients on 8 KKMs", (1..=8).collect::<Vec<i64>>()), ("8 clients on 1 KKM", vec![1; 8])]
        {
            let per = n / 8;
            let started = Instant::now();
            let tasks: Vec<_> = kkms
                .into_iter()
                .map(|kkm| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        let mut lat = Vec::with_capacity(per);
                        for _ in 0..per {
                            lat.push(timed(&s, "TradeOperation", &sale(kkm)).await);
                        }
                        lat
                    })
                })
                .collect();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.expect("task"));
            }
            let elapsed = started.elapsed();
            all.sort();
            println!("TradeOperation, {label}, {} receipts:", all.len());
            println!(
                "  p50 {:.2} ms   p99 {:.2} ms   throughput {:.0} receipts/s",
                ms(percentile(&all, 0.5)),
                ms(percentile(&all, 0.99)),
                all.len() as f64 / elapsed.as_secs_f64()
            );
        }

        // Report cost against shift size: X reports (median of 20) and one Z, after 10 and after 10 000 documents.
        for (kkm, docs) in [(7i64, 10usize), (8, if quick { 1000 } else { 10_000 })] {
            s.call("ZXReport", &json!({"kkm_ofd_id": kkm, "report_type": 0})).await;
            let filled = Instant::now();
            let per_task = docs / 4;
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            s.call("TradeOperation", &sale(kkm)).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
            let fill = filled.elapsed();
            let mut x = Vec::new();
            for _ in 0..20 {
                x.push(timed(&s, "ZXReport", &json!({"kkm_ofd_id": kkm, "report_type": 1})).await);
            }
            x.sort();
            let z = timed(&s, "ZXReport", &json!({"kkm_ofd_id": kkm, "report_type": 0})).await;
            println!(
                "shift of {docs:>5} documents: X report p50 {:.2} ms, Z report {:.2} ms (shift filled in {:.1} s)",
                ms(percentile(&x, 0.5)),
                ms(z),
                fill.as_secs_f64()
            );
        }
    });
}
