//! What an operator sees, through the real binary: `/health`, `/ready` and `/metrics` on the Kazakh listener,
//! one log line per call (never a PIN), wrong PINs and throttling at warn, `--log-format json`, no colour
//! when stderr is a file, an OFD outage told in a handful of lines, a `reconnect_ms` below the protocol's
//! minimum refused at start and an unreachable OFD warned about at start.
use crate::common;

use common::{Served, kassa};
use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig, Fault};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const PIN: &str = "7391";
const WRONG: &str = "8462";

/// `kassa serve` over `dir/data` with the administrator PIN [`PIN`], `args` and standard error to `dir/log`.
fn serve(dir: &Path, args: &[&str]) -> Served {
    let log = std::fs::File::create(dir.join("log")).expect("log file");
    let mut command = kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.join("data")).args(args);
    command.env("KASSA_ADMIN_PIN", PIN).env_remove("RUST_LOG").env_remove("NO_COLOR").stderr(Stdio::from(log));
    Served::spawn(command, &["api"]).expect("kassa serve starts")
}

fn stop(mut server: Served, dir: &Path) -> String {
    sigterm(server.child.id());
    let _ = server.child.wait();
    std::fs::read_to_string(dir.join("log")).expect("log")
}

/// SIGTERM, as systemd and a person's Ctrl-C stop it (the log is then complete).
fn sigterm(pid: u32) {
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
}

async fn call(base: &str, method: &str, pin: &str, body: Value) -> Value {
    let client = reqwest::Client::new();
    let resp = client.post(format!("{base}/{method}")).header("Authorization", pin).body(body.to_string());
    resp.send().await.expect("request").json().await.expect("envelope")
}

async fn get(base: &str, path: &str) -> (u16, String) {
    let resp = reqwest::get(format!("{base}{path}")).await.expect("request");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

fn sale(sum: u32) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": sum}]
    })
}

fn save_kkm() -> Value {
    json!({"ofd_id": 6923, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A", "local_name": "Касса 1"})
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_metrics_and_one_log_line_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let base = server.base();

    let (status, body) = get(&base, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "ok");
    let (status, body) = get(&base, "/ready").await;
    assert_eq!(status, 200, "{body}");
    // The Kazakh Ping keeps the seed's answer.
    let (status, body) = get(&base, "/Ping").await;
    assert_eq!((status, body.as_str()), (200, r#"{"response_code":0,"response_data":"ok"}"#));

    assert_eq!(call(&base, "SaveKKM", PIN, save_kkm()).await["response_code"], 0);
    assert_eq!(call(&base, "TradeOperation", PIN, sale(450)).await["response_code"], 0);
    assert_eq!(call(&base, "TradeOperation", WRONG, sale(450)).await["response_code"], 5);

    let (status, metrics) = get(&base, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(sample(&metrics, r#"kassa_requests_total{method="TradeOperation",code="0"}"#), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, r#"kassa_requests_total{method="TradeOperation",code="5"}"#), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, r#"kassa_request_duration_seconds_count{method="TradeOperation"}"#), Some(2.0));
    assert!(metrics.contains(r#"kassa_request_duration_seconds_bucket{le="#), "{metrics}");
    assert_eq!(sample(&metrics, "kassa_wrong_pins_total"), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, r#"kassa_kkm_offline{kkm="6923"}"#), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, r#"kassa_kkm_queued_documents{kkm="6923"}"#), Some(0.0));
    assert_eq!(sample(&metrics, r#"kassa_kkm_autonomous_hours_left{kkm="6923"}"#), Some(72.0));
    assert_eq!(sample(&metrics, r#"kassa_kkm_can_work{kkm="6923"}"#), Some(1.0));
    assert!(sample(&metrics, r#"kassa_printer_state{printer="virtual",state="idle"}"#).is_some(), "{metrics}");
    assert_eq!(sample(&metrics, r#"kassa_print_jobs{printer="virtual",state="failed"}"#), Some(0.0));
    assert!(metrics.contains("# TYPE kassa_pin_throttle_refusals counter"), "{metrics}");

    let log = stop(server, dir.path());
    assert!(!log.contains('\x1b'), "no colour when stderr is a file: {log}");
    assert!(!common::shows_pin(&log, PIN) && !common::shows_pin(&log, WRONG), "a PIN reached the log: {log}");
    let calls: Vec<&str> = log.lines().filter(|l| l.contains(" call ") && l.contains("TradeOperation")).collect();
    assert_eq!(calls.len(), 2, "one line per call: {log}");
    assert!(calls[0].contains("INFO") && calls[0].contains("kkm=6923") && calls[0].contains("code=0"), "{log}");
    assert!(calls[0].contains(" ms="), "{log}");
    assert!(calls[1].contains("code=5"), "{log}");
    assert!(log.lines().any(|l| l.contains("WARN") && l.contains("wrong PIN")), "{log}");
    assert!(!log.lines().any(|l| l.contains("INFO") && l.contains("/metrics")), "probes log at debug: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_pins_are_warned_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, "[auth]\nmax_failures = 2\nlockout_ms = 60000\n").unwrap();
    let server = serve(dir.path(), &["--config", config.to_str().unwrap()]);
    let base = server.base();
    for _ in 0..3 {
        assert_eq!(call(&base, "GetKKMList", WRONG, json!({})).await["response_code"], 5);
    }
    let (_, metrics) = get(&base, "/metrics").await;
    assert_eq!(sample(&metrics, r#"kassa_pin_throttle_refusals_total{scope="address"}"#), Some(1.0), "{metrics}");
    let log = stop(server, dir.path());
    assert!(log.lines().any(|l| l.contains("WARN") && l.contains("address locked out")), "{log}");
    assert_eq!(log.lines().filter(|l| l.contains("WARN") && l.contains("wrong PIN ip=")).count(), 2, "{log}");
    assert!(
        !log.lines().any(|l| l.contains("WARN") && l.contains("PIN not checked")),
        "refusals are counted, not warned one by one: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--log-format", "json"]);
    let base = server.base();
    assert_eq!(call(&base, "GetOFDList", PIN, json!({})).await["response_code"], 0);
    let log = stop(server, dir.path());
    let lines: Vec<Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let call = lines.iter().find(|l| l["fields"]["method"] == "GetOFDList").expect("the call's line");
    assert_eq!(call["level"], "INFO");
    assert_eq!(call["fields"]["code"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ofd_outage_is_one_warning_and_one_recovery_line_and_ready_stays_true_within_the_limit() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        format!(
            "[[ofd]]\nuid = \"4C49A0CB1DD4413387F6E6199CBB1B2A\"\nname = \"test rig\"\nendpoint = \"{}\"\nemulator = true\n\
             consumer_url = \"http://consumer.test-oofd.kz\"\n[ofd_link]\ntotal_time_ms = 300\nreconnect_ms = 150\n",
            emu.addr()
        ),
    )
    .unwrap();
    let server = serve(dir.path(), &["--config", config.to_str().unwrap()]);
    let base = server.base();
    assert_eq!(call(&base, "SaveKKM", PIN, save_kkm()).await["response_code"], 0);

    emu.inject(Fault::DropBeforeRead, 1_000_000);
    for sum in [10, 20, 30] {
        assert_eq!(call(&base, "TradeOperation", PIN, sale(sum)).await["response_code"], 0);
    }
    // Let the sender retry several times against the dead OFD.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, ready) = get(&base, "/ready").await;
    assert_eq!(status, 200, "autonomous within the limit is ready: {ready}");
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["kkms"][0]["ofd"], "unreachable", "{ready}");
    let (_, metrics) = get(&base, "/metrics").await;
    assert_eq!(sample(&metrics, r#"kassa_kkm_offline{kkm="6923"}"#), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, r#"kassa_kkm_queued_documents{kkm="6923"}"#), Some(3.0), "{metrics}");
    let left = sample(&metrics, r#"kassa_kkm_autonomous_hours_left{kkm="6923"}"#).unwrap();
    assert!(left < 72.0 && left > 71.0, "{metrics}");
    assert!(sample(&metrics, r#"kassa_kkm_oldest_unsent_age_seconds{kkm="6923"}"#).unwrap() >= 2.0, "{metrics}");

    emu.clear_faults();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = call(&base, "GetKKMList", PIN, json!({"ofd_id": 6923})).await;
        if list["response_data"][0]["is_offline"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "the queue was not delivered: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = stop(server, dir.path());
    let ofd: Vec<&str> = log.lines().filter(|l| l.contains("OFD")).collect();
    assert_eq!(
        ofd.iter().filter(|l| l.contains("WARN") && l.contains("OFD unreachable: KKM 6923")).count(),
        1,
        "{log}"
    );
    let back: Vec<_> = ofd.iter().filter(|l| l.contains("OFD reachable again")).collect();
    assert_eq!(back.len(), 1, "{log}");
    assert!(back[0].contains("sent 3 queued document(s)"), "{log}");
    assert!(ofd.len() <= 4, "not one line per retry: {log}");
}

#[test]
fn a_reconnect_below_the_protocol_minimum_is_refused_at_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        "[[ofd]]\nuid = \"4C49A0CB1DD4413387F6E6199CBB1B2A\"\nname = \"Казахтелеком - test\"\nendpoint = \"37.150.215.187:7777\"\n\
         consumer_url = \"http://consumer.test-oofd.kz\"\n[ofd_link]\nreconnect_ms = 1000\n",
    )
    .unwrap();
    let out = kassa()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reconnect_ms = 1000") && err.contains("minimum of 60000 ms"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing was created: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ofd_unreachable_at_start_is_a_warning() {
    // A port held bound but never listening: every connect is refused.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        format!("[[ofd]]\nuid = \"4C49A0CB1DD4413387F6E6199CBB1B2A\"\nname = \"far away\"\nendpoint = \"{addr}\"\nconsumer_url = \"http://c\"\n"),
    )
    .unwrap();
    let server = serve(dir.path(), &["--config", config.to_str().unwrap()]);
    let (status, _) = get(&server.base(), "/health").await;
    assert_eq!(status, 200, "the server starts all the same");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = stop(server, dir.path());
    let warned: Vec<_> = log.lines().filter(|l| l.contains("OFD unreachable at start")).collect();
    assert_eq!(warned.len(), 1, "{log}");
    assert!(warned[0].contains("WARN") && warned[0].contains(&addr.to_string()), "{log}");
}
