//! The HTTP layer against slow and malformed clients, over raw TCP: time limits on a request's head and body,
//! a flood of slow connections to the real binary that must not stop a sale, and hyper's own error answers
//! (400, 414, 431) carrying the JSON envelope.
use crate::common;
use crate::trust_support;

use common::{ADMIN, Served, TestServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Sends `bytes` on a new connection and reads until the server closes it; returns the answer as text.
fn exchange(addr: &str, bytes: &[u8]) -> String {
    let Ok(mut c) = TcpStream::connect(addr) else { return String::new() };
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = c.write_all(bytes);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON body of a raw answer.
fn body(answer: &str) -> serde_json::Value {
    let json = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("no JSON envelope ({e}) in {answer:?}"))
}

#[tokio::test]
async fn hyper_error_answers_carry_the_json_envelope() {
    let s = TestServer::start().await;
    let a = addr(&s);
    let answers = tokio::task::spawn_blocking(move || {
        let long_url = format!("GET /Ping?x={} HTTP/1.1\r\nHost: localhost\r\n\r\n", "a".repeat(70_000));
        // Well past hyper's 400 KiB head buffer, and past what one read into it can hold (a 500 KB header was
        // sometimes read whole and answered 200).
        let big_header = format!("GET /Ping HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n", "b".repeat(1_000_000));
        let garbage = "NOT HTTP AT ALL\r\n\r\n".to_owned();
        [long_url, big_header, garbage].map(|r| exchange(&a, r.as_bytes()))
    })
    .await
    .unwrap();
    for (answer, status) in answers.iter().zip(["414", "431", "400"]) {
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{status}: {}", &answer[..answer.len().min(300)]);
        assert!(answer.to_ascii_lowercase().contains("content-type: application/json"), "{answer:?}");
        let v = body(answer);
        assert_eq!(v["response_code"], 2, "{v}");
        assert_eq!(v["response_data"], "invalid_fields", "{v}");
        assert!(v["message"].as_str().unwrap().len() > 10, "{v}");
    }
    // The server is fine afterwards.
    assert_eq!(s.get("Ping", None, "").await.0, 0);
}

#[tokio::test]
async fn a_head_or_body_that_never_finishes_is_cut_off() {
    let s = TestServer::start_with(|c| {
        c.header_timeout_ms = 1_000;
        c.body_timeout_ms = 1_000;
    })
    .await;
    let a = addr(&s);
    let (head_secs, body_answer) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let answer = exchange(&a, b"POST /GetOperatorList HTTP/1.1\r\nHost: localhost\r\nAuthorization: 0000\r\n");
        assert!(!answer.contains("response_code\":0"), "{answer:?}");
        let head_secs = started.elapsed().as_secs_f64();
        let body = exchange(
            &a,
            b"POST /GetKKMList HTTP/1.1\r\nHost: localhost\r\nAuthorization: 0000\r\nContent-Length: 100\r\n\r\n{\"a\"",
        );
        (head_secs, body)
    })
    .await
    .unwrap();
    assert!(head_secs < 5.0, "an unfinished head is dropped after the time-out, not held: {head_secs:.1} s");
    let v = body(&body_answer);
    assert_eq!(v["response_code"], 2, "{v}");
    assert_eq!(v["response_data"], "invalid_fields", "{v}");
    assert!(v["message"].as_str().unwrap().contains("не пришло"), "{v}");
}

fn post(port: u16, method: &str, body: &str) -> String {
    let request = format!(
        "POST /{method} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {ADMIN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(&format!("127.0.0.1:{port}"), request.as_bytes())
}

#[test]
fn a_flood_of_slow_connections_does_not_stop_a_sale() {
    let _turn = trust_support::many_sockets();
    let dir = tempfile::tempdir().unwrap();
    let mut command = common::kassa();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path()).stderr(Stdio::null());
    let server = Served::spawn(command, &["api"]).expect("kassa serve starts");
    let port = server.port("api");
    assert!(post(port, "SaveKKM", r#"{"ofd_id": 6923, "ofd_token": 59359406}"#).contains("\"response_code\":0"));

    // 900 slow clients (more than the 512 connections the server keeps): half never finish their head,
    // half announce a body they never send.
    let mut flood = Vec::new();
    for n in 0..900 {
        let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else { continue };
        let slow: &[u8] = if n % 2 == 0 {
            b"POST /TradeOperation HTTP/1.1\r\nHost: localhost\r\n"
        } else {
            b"POST /TradeOperation HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n{"
        };
        let _ = c.write_all(slow);
        flood.push(c);
    }
    assert!(flood.len() > 800, "the flood is open: {}", flood.len());

    let sale = r#"{"kkm_ofd_id": 6923, "operation": 2,
        "items": [{"type": 1, "commodity": {"name": "Нан", "section_code": "1", "quantity": 1, "price": 100, "measure_unit_code": "796"}}],
        "payments": [{"type": 0, "sum": 100}], "amounts": {"total": 100}}"#;
    let started = Instant::now();
    let answer = post(port, "TradeOperation", sale);
    let took = started.elapsed();
    assert!(answer.contains("\"response_code\":0"), "the sale went through: {answer}");
    assert!(took < Duration::from_secs(5), "and quickly: {took:?}");
    println!("sale during a flood of {} slow connections: {took:?}", flood.len());

    drop(flood);
    drop(server);
}
