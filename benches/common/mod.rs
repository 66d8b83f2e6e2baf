//! What the benchmarks share: how a series of timings is printed, a port for an in-process server, a server
//! of the library in the bench's own process, and one call of the Kazakh API that must succeed. Each bench
//! uses part of it.
#![allow(dead_code)]
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prints the median and the 99th percentile of `t` in milliseconds.
pub fn figures(name: &str, mut t: Vec<Duration>) {
    t.sort();
    let at = |q: f64| t[((t.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e3;
    println!("{name:<40} n={:<5} median {:>7.3} ms  p99 {:>7.3} ms", t.len(), at(0.5), at(0.99));
}

/// A free port on the loopback (the bench server is configured before it binds).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Calls Kazakh API `method` at `base` as the administrator of a fresh folder; the call must succeed.
pub async fn kz_call(client: &reqwest::Client, base: &str, method: &str, body: String) -> Value {
    let v: Value = client
        .post(format!("{base}/{method}"))
        .header("Authorization", "0000")
        .body(body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(v["response_code"], 0, "{method}: {v}");
    v
}

/// A server of the library in this process over a data folder, on a loopback port of its own.
pub struct InProcess {
    pub started: kassa::server::Started,
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// Starts the core over `dir` and serves it; also returns how long `start_core` took.
    pub async fn start(dir: &Path) -> (InProcess, Duration) {
        let config = kassa::config::Config { data_dir: dir.to_path_buf(), ..Default::default() };
        let t = Instant::now();
        let clock = Arc::new(kassa::ledger::clock::SystemClock);
        let started = kassa::server::start_core(&config, clock).await.expect("core");
        let took = t.elapsed();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = started.state();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = kassa::server::serve(state, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        (InProcess { started, base, stop, task }, took)
    }

    /// Stops serving and lets go of the core.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        drop(self.started);
    }
}

/// A real Kazakh sale of two items with VAT and change, for KKM 6923: the document the journal benches copy.
pub const REAL_SALE: &str = r#"{"kkm_ofd_id": 6923, "operation": 2,
    "items": [
        {"type": 1, "commodity": {"name": "Нан бородинский", "section_code": "1", "quantity": 2, "price": 150, "measure_unit_code": "796"}},
        {"type": 1, "commodity": {"name": "Сүт 1л", "section_code": "2", "quantity": 1, "price": 520, "measure_unit_code": "796"}}
    ],
    "payments": [{"type": 0, "sum": 1000}],
    "taxes": [{"taxation_type": 101, "percent": 12, "is_in_total_sum": true}],
    "amounts": {"total": 820}}"#;

/// Copies document 1 of a stopped server's database into `docs - 1` more, in past shifts of 1 000 a second
/// apart, each with document 1's fiscal row and counter record (and its chain and seal, copied as they are), and
/// moves the device's numbers past them, inside the caller's transaction. A bench that needs more (real chains)
/// adds it before it commits.
pub fn copy_first_document(conn: &rusqlite::Connection, docs: i64) {
    conn.execute(
        "INSERT INTO ledger_documents (device_id, number, shift_number, doc_type, uid, created_at, body,
             fiscal_state, fiscal_reply, template_sha256, shift_position, shift_opened_at, public_id, chain, seal)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         SELECT d.device_id, d.number + i, 1 + i / 1000, d.doc_type, d.uid || '-' || i,
             strftime('%Y-%m-%dT%H:%M:%S', substr(d.created_at, 1, 19), '-' || (?1 + 1 - i) || ' seconds')
                 || substr(d.created_at, 20),
             d.body, 1, d.fiscal_reply, d.template_sha256, i % 1000 + 2, d.shift_opened_at, d.public_id + i, d.chain,
             d.seal
         FROM n, ledger_documents d WHERE d.id = 1",
        [docs - 1],
    )
    .expect("journal");
    conn.execute_batch(
        "INSERT INTO ledger_fiscal (document_id, request_number, request, autonomous, ticket, body)
         SELECT d.id, f.request_number, f.request, 0, f.ticket || '-' || d.id, f.body
           FROM ledger_documents d, ledger_fiscal f WHERE f.document_id = 1 AND d.id > 1;
         INSERT INTO ledger_document_records (document_id, counters)
         SELECT d.id, r.counters FROM ledger_documents d, ledger_document_records r WHERE r.document_id = 1 AND d.id > 1;
         UPDATE ledger_devices SET next_number = (SELECT max(number) + 1 FROM ledger_documents),
             shift_number = (SELECT max(shift_number) FROM ledger_documents),
             shift_position = (SELECT max(shift_position) FROM ledger_documents
                                WHERE shift_number = (SELECT max(shift_number) FROM ledger_documents))
          WHERE id = 1;
         UPDATE ledger_public_ids SET last = (SELECT max(public_id) FROM ledger_documents) WHERE country = 'kz';",
    )
    .expect("fiscal rows, counter records and numbers");
}
