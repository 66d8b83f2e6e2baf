//! SIGKILL of the server while its sender is mid-exchange with the OFD: after a restart every committed
//! document reaches the OFD exactly once (same token and REQNUM on resend), and nothing acknowledged is lost.
use crate::common;

use common::{Served, kassa};
use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig, Fault};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn call(port: u16, method: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /{method} HTTP/1.1\r\nHost: localhost\r\nAuthorization: 0000\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let json = out.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(json).unwrap_or_else(|_| panic!("not an envelope: {out}"))
}

/// `kassa serve` over `dir` with `config` (whose `listen` is port 0), once it listens.
fn serve(dir: &std::path::Path, config: &std::path::Path) -> Served {
    let mut command = kassa();
    command.args(["serve", "--data-dir"]).arg(dir).arg("--config").arg(config).stderr(Stdio::null());
    Served::spawn(command, &["api"]).expect("kassa serve starts")
}

fn sale(sum: u32) -> Value {
    json!({
        "kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Сүт", "section_code": "1", "quantity": 1, "price": sum, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": sum}],
        "amounts": {"total": sum}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_exchange_loses_nothing_and_duplicates_nothing() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[[ofd]]\nuid = \"4C49A0CB1DD4413387F6E6199CBB1B2A\"\nname = \"test\"\n\
             endpoint = \"{}\"\nemulator = true\nconsumer_url = \"http://consumer.test-oofd.kz\"\n\
             [ofd_link]\ntotal_time_ms = 3000\nreconnect_ms = 100\n",
            emu.addr()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data, &config);
    let port = server.port("api");
    let save = json!({"ofd_id": 6923, "ofd_token": 59359406, "local_name": "crash"});
    let port2 = port;
    let r = tokio::task::spawn_blocking(move || call(port2, "SaveKKM", &save)).await.unwrap();
    assert_eq!(r["response_code"], 0, "{r}");

    // Three tickets while the OFD is unreachable: committed and queued.
    emu.inject(Fault::DropBeforeRead, 100_000);
    let mut acknowledged = Vec::new();
    for sum in [10, 20, 30] {
        let r = tokio::task::spawn_blocking(move || call(port, "TradeOperation", &sale(sum))).await.unwrap();
        assert_eq!(r["response_code"], 0, "{r}");
        acknowledged.push(r["response_data"]["fiscal_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(acknowledged, ["1001", "1002", "1003"]);

    // The OFD comes back slow: it accepts the head, then takes 1.5 s to answer. Kill the server meanwhile.
    emu.clear_faults();
    emu.inject(Fault::Delay(Duration::from_millis(1500)), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.accepted(6923).is_empty() {
        assert!(Instant::now() < deadline, "the sender never reached the OFD");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(emu.accepted(6923).len(), 1, "the OFD took the head, the answer never arrived");

    // Restart: the head is resent with its REQNUM and old token (the OFD answers from its cache), then the rest.
    let mut server = serve(&data, &config);
    let port = server.port("api");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let k = tokio::task::spawn_blocking(move || call(port, "GetKKMList", &json!({"ofd_id": 6923}))).await.unwrap();
        if k["response_data"][0]["is_offline"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "the queue was not delivered after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let accepted = emu.accepted(6923);
    let numbers: Vec<Option<u32>> = accepted.iter().map(|d| d.offline_ticket_number).collect();
    assert_eq!(numbers, [Some(1001), Some(1002), Some(1003)], "each exactly once, in order: {accepted:?}");

    // Nothing acknowledged was lost, and an online ticket works with the rotated token.
    let journal = tokio::task::spawn_blocking(move || call(port, "GetTransactionList", &json!({"kkm_ofd_id": 6923})))
        .await
        .unwrap();
    let fiscal_ids: Vec<&str> =
        journal["response_data"].as_array().unwrap().iter().map(|d| d["body"]["fiscal_id"].as_str().unwrap()).collect();
    assert_eq!(fiscal_ids, acknowledged);
    let r = tokio::task::spawn_blocking(move || call(port, "TradeOperation", &sale(40))).await.unwrap();
    assert_eq!((r["response_code"].clone(), r["response_data"]["is_offline"].clone()), (json!(0), json!(false)), "{r}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    emu.shutdown().await;
}
