//! The Belarusian front end to end: the envelope over HTTP (keep-alive) and over framed TCP → rules →
//! ledger commit (WAL, synchronous=FULL) → simulated СКО → the four representations → answer. Prints the
//! median and p99 of a deposit over HTTP and of a three-item sale over TCP, and the cost of the receipt
//! forms alone (text, HTML, ESC/POS from `templates/by/`).
//!
//! Run: `cargo bench --bench by` (release). `BY_BENCH_N` sets the requests per case (default 500);
//! `BY_BENCH_FILL` the deposits made in the shift before the timed ones (default 20), to time a long shift.
use kassa::config::Config;
use kassa::ledger::clock::SystemClock;
use kassa::render::{Format, RenderOptions, Renderer, RendererConfig, TemplateKey};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{figures, free_port};

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BY_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let fill: usize = std::env::var("BY_BENCH_FILL").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let (http, tcp) = (free_port(), free_port());
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.by.listen = Some(format!("127.0.0.1:{http}"));
    config.by.tcp_listen = Some(format!("127.0.0.1:{tcp}"));
    config.by.max_shift_documents = 1_000_000;
    for sko in &mut config.by.sko.0 {
        sko.pin = "2718".into();
    }
    let started = kassa::server::start_core(&config, Arc::new(SystemClock)).await.expect("core");
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _fronts = kassa::server::start_fronts(&config, &started, stopped).await.expect("fronts");

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{http}/");
    let call = |msg: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let v: Value =
                client.post(&url).body(msg.to_string()).send().await.expect("send").json().await.expect("json");
            assert_eq!(v["type"], "send", "{v}");
            v
        }
    };
    let env = |addr: &str, action: &str, data: Value| json!({"type": "send", "address": addr, "headers": {"action": action}, "data": data});
    call(env("ik.service.token.authority", "authorize", json!({"pin": "2718"}))).await;
    call(env("ik.service.token.shift", "open_shift", json!({}))).await;

    let deposit = env("ik.service.token.deposit", "deposit", json!({"header": {"cashier": "Test"}, "sum": "15.00"}));
    for _ in 0..fill {
        call(deposit.clone()).await;
    }
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        call(deposit.clone()).await;
        t.push(start.elapsed());
    }
    figures("deposit over HTTP (4 reprs)", t);

    let item =
        |name: &str, price: &str| json!({"name": name, "price": price, "quantity": "1.000", "tax_rate": "tax20"});
    let sale = env(
        "ik.service.token.sales.retail",
        "create_sale",
        json!({"header": {"cashier": "Test"}, "items": [item("Хлеб", "1.55"), item("Молоко", "2.10"), item("Сыр", "7.30")],
               "payments": [{"payment_type": "cash", "value": "20.00"}]}),
    )
    .to_string();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", tcp)).await.expect("tcp");
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        // One write per frame, as a POS sends it (two small writes would meet Nagle and delayed ACK).
        let mut frame = (sale.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(sale.as_bytes());
        s.write_all(&frame).await.expect("write");
        let len = s.read_u32().await.expect("len");
        let mut body = vec![0u8; len as usize];
        s.read_exact(&mut body).await.expect("body");
        t.push(start.elapsed());
        assert!(body.starts_with(br#"{"type":"send""#));
    }
    figures("3-item sale over framed TCP (4 reprs)", t);

    // The receipt forms alone.
    let renderer = Renderer::new(RendererConfig::default());
    let doc = json!({"header": {"cashier": "Test", "company_name": "ИП Моров А.М.", "currency": "BYN", "device_id": 131010705,
        "number": 10398, "serial_number": "AVQ11031010705", "shift_number": 878, "tax_number": 191832203, "uid": "1A5663901D4B4CE607CF1091"},
        "sum": "15.00", "title": "Документ регистрации операции внесения", "sum_label": "Внесено", "closed_at": "31.08.2022 09:56:22"});
    let opts = RenderOptions { text_columns: Some(48), lang: "ru".into(), ..RenderOptions::default() };
    let formats = [Format::GridText, Format::GridHtml, Format::GridEscPos];
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let g = renderer.render_forms(TemplateKey::new("by", "cash.j2"), None, &doc, &opts, &formats).expect("render");
        t.push(start.elapsed());
        assert!(g.forms[0].len() > 500);
    }
    figures("deposit receipt forms (text+html+escpos)", t);
    started.printing.spooler.shutdown();
}
