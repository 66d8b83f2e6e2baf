//! Queue drain after an OFD outage (issue 24, goal 6): an in-process server with the built-in OFD emulator,
//! the emulator made unreachable (it drops every connection), `DRAIN_BENCH_DOCS` sales (4 000 by default)
//! queued autonomously over the API across K KKMs, then the emulator back: documents delivered per second,
//! from the first acceptance to the last, for K = 1, 4 and 8 (`DRAIN_BENCH_KKMS=1,4,8`). Checks that the
//! emulator got every document once, in order (autonomous numbers increasing, one per sale).
//!
//! Run: `cargo bench --bench drain`.
mod common;
use common::kz_call as call;
use kassa::config::Config;
use kassa::country::kz::ofd::emulator::Fault;
use kassa::ledger::clock::SystemClock;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn sale(ofd_id: u32) -> String {
    json!({"kkm_ofd_id": ofd_id, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 100, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 100}], "amounts": {"total": 100}})
    .to_string()
}

/// Queues `docs` sales over `kkms` KKMs while the OFD is away, brings it back and times the drain; returns
/// documents per second.
async fn drain(docs: usize, kkms: u32) -> f64 {
    let dir = tempfile::tempdir_in(".").expect("temp dir");
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.ofd_link.total_time_ms = 400;
    config.ofd_link.reconnect_ms = 100;
    let started = kassa::server::start_core(&config, Arc::new(SystemClock)).await.expect("core");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kassa::server::serve(started.state(), listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let ids: Vec<u32> = (0..kkms).map(|k| 7000 + k).collect();
    for id in &ids {
        call(&client, &base, "SaveKKM", json!({"ofd_id": id, "ofd_token": 59359406}).to_string()).await;
    }
    let emulator = started.emulator.as_ref().expect("the built-in emulator");
    emulator.inject(Fault::DropBeforeRead, u32::MAX / 2);
    let queued = Instant::now();
    let per_kkm = docs / kkms as usize;
    let mut clients = Vec::new();
    for id in ids.clone() {
        // Two clients per KKM keep its lock busy; the device lock orders them.
        for half in 0..2 {
            let (client, base) = (client.clone(), base.clone());
            let n = per_kkm / 2 + if half == 0 { per_kkm % 2 } else { 0 };
            clients.push(tokio::spawn(async move {
                for _ in 0..n {
                    let v = call(&client, &base, "TradeOperation", sale(id)).await;
                    assert_eq!(v["response_data"]["is_offline"], true, "queued while the OFD is away");
                }
            }));
        }
    }
    for c in clients {
        c.await.expect("client");
    }
    let total = per_kkm * kkms as usize;
    eprintln!("{total} sales queued over {kkms} KKM(s) in {:.1} s", queued.elapsed().as_secs_f64());

    let accepted = || ids.iter().map(|id| emulator.accepted(*id).len()).sum::<usize>();
    emulator.clear_faults();
    let deadline = Instant::now() + Duration::from_secs(600);
    let (first_at, first) = loop {
        let n = accepted();
        if n > 0 {
            break (Instant::now(), n);
        }
        assert!(Instant::now() < deadline, "nothing delivered");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let done_at = loop {
        if accepted() >= total {
            break Instant::now();
        }
        assert!(Instant::now() < deadline, "the queue was not delivered: {} of {total}", accepted());
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    for id in &ids {
        let got = emulator.accepted(*id);
        let numbers: Vec<u32> = got.iter().filter_map(|d| d.offline_ticket_number).collect();
        assert_eq!(got.len(), per_kkm, "KKM {id}: each document once");
        assert_eq!(numbers.len(), per_kkm, "KKM {id}: every one autonomous");
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "KKM {id}: in order");
    }
    let rate = (total - first) as f64 / done_at.duration_since(first_at).as_secs_f64();
    let _ = stop.send(());
    let _ = server.await;
    drop(started);
    rate
}

#[tokio::main]
async fn main() {
    let docs: usize = std::env::var("DRAIN_BENCH_DOCS").ok().and_then(|s| s.parse().ok()).unwrap_or(4000);
    let kkms: Vec<u32> = std::env::var("DRAIN_BENCH_KKMS")
        .unwrap_or_else(|_| "1,4,8".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rounds: usize = std::env::var("DRAIN_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    for k in kkms {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            rates.push(drain(docs, k).await);
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "queue drain, {docs} documents over {k} KKM(s): {:.0} documents/s (median of {rounds})",
            rates[rounds / 2]
        );
    }
}
