//! The Ukrainian front end to end over HTTP (keep-alive): the Vchasno DM envelope → rules → ledger commit
//! (WAL, synchronous=FULL) → test ПРРО → answer. Prints the median and p99 of a two-row sale without printed
//! forms and of the same sale with all four forms (text, image, PDF, ESC/POS commands) in the answer.
//!
//! Run: `cargo bench --bench ua` (release). `UA_BENCH_N` sets the requests per case (default 300);
//! `UA_BENCH_PLAIN=1` makes both cases plain sales (to profile the plain one alone).
use kassa::config::Config;
use kassa::ledger::clock::SystemClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

mod common;
use common::{figures, free_port};

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("UA_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.ua.listen = Some(format!("127.0.0.1:{port}"));
    let device = config.ua.prro.iter().next().expect("the default ПРРО").device.clone();
    let started = kassa::server::start_core(&config, Arc::new(SystemClock)).await.expect("core");
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _fronts = kassa::server::start_fronts(&config, &started, stopped).await.expect("fronts");

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/dm/execute");
    let call = |msg: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let v: Value =
                client.post(&url).body(msg.to_string()).send().await.expect("send").json().await.expect("json");
            assert_eq!(v["res"], 0, "{v}");
            v
        }
    };
    let envelope = |fiscal: Value| {
        json!({"ver": 6, "source": "bench", "device": device, "tag": "", "type": 1,
               "userinfo": {"email": "", "phone": ""}, "fiscal": fiscal})
    };
    call(envelope(json!({"task": 0, "cashier": "Петренко І."}))).await;
    let sale = envelope(json!({"task": 1, "cashier": "Петренко І.", "receipt": {
        "sum": 81.50, "rows": [
            {"code": "101", "name": "Сир твердий", "cnt": 0.1, "price": 300.00, "taxgrp": 1},
            {"code": "102", "name": "Хліб «Бородинський»", "cnt": 2, "price": 25.75, "taxgrp": 1}],
        "pays": [{"type": 0, "sum": 100, "change": 18.50, "comment": ""}]}}));
    // UA_BENCH_PLAIN=1: both halves are plain sales, so a profile of the run is the plain sale's alone.
    let plain_only = std::env::var_os("UA_BENCH_PLAIN").is_some();
    let mut with_forms = sale.clone();
    for k in ["need_pf_txt", "need_pf_img", "need_pf_pdf", "need_pf_doccmd"] {
        if !plain_only {
            with_forms[k] = json!("1");
        }
    }

    for _ in 0..20 {
        call(sale.clone()).await;
        call(with_forms.clone()).await;
    }
    let (mut plain, mut forms) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Alternating, so both cases see the same machine.
    for _ in 0..n {
        let start = Instant::now();
        call(sale.clone()).await;
        plain.push(start.elapsed());
        let start = Instant::now();
        let a = call(with_forms.clone()).await;
        forms.push(start.elapsed());
        assert!(plain_only || a["pf_text"].as_str().is_some_and(|t| !t.is_empty()), "no text form");
    }
    figures("sale without forms", plain);
    figures("sale with the four forms", forms);
    started.printing.spooler.shutdown();
}
