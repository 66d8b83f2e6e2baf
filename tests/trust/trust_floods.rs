//! Floods against the neighbour fronts, through the real binary: one unauthenticated batch of thousands of
//! envelopes, hundreds of held megabyte bodies, and hundreds of half-open requests and silent sockets. The
//! server keeps serving, makes no document it was not asked for within the limits, and its memory (the
//! kernel's peak RSS count) stays under the 60 MB goal.
use crate::trust_support;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use trust_support::{Kassa, http, try_http, ua_envelope};

/// The memory goal of the whole server, in KiB.
const GOAL_KIB: u64 = 60 * 1024;

fn sale(tag: &str) -> Value {
    let mut env = ua_envelope(
        tag,
        json!({"task": 1, "cashier": "Іваненко", "receipt": {"rows": [{"code": "1", "name": "Хліб", "cnt": 1, "price": 21.5, "taxgrp": 1}],
            "pays": [{"type": 0, "sum": 21.5}]}}),
    );
    env["need_pf_img"] = json!(1);
    env["need_pf_pdf"] = json!(1);
    env["need_pf_txt"] = json!(1);
    env
}

fn last_receipt(k: &Kassa) -> Value {
    let a =
        http(k.ua(), "POST", "/dm/execute", &[], ua_envelope("", json!({"task": 18})).to_string().as_bytes()).json();
    a["info"]["last_receipt_no"].clone()
}

#[test]
fn a_batch_past_the_limit_is_refused_whole_and_a_full_batch_stays_within_the_memory_goal() {
    let k = Kassa::start("");
    let open = http(k.ua(), "POST", "/dm/execute", &[], ua_envelope("open", json!({"task": 0})).to_string().as_bytes());
    assert_eq!(open.json()["res"], 0, "{}", open.text());
    let before = last_receipt(&k);

    // 3 966 envelopes in one unauthenticated request (under 1 MiB): refused before anything is made.
    let batch: Vec<Value> = (0..3966)
        .map(|i| {
            json!({"tag": format!("f{i}"), "fiscal": {"task": 1, "receipt": {"rows": [{"name": "Хліб", "cnt": 1, "price": 1}],
                "pays": [{"type": 0, "sum": 1}]}}})
        })
        .collect();
    assert!(json!(batch).to_string().len() < 1 << 20);
    let answer =
        try_http(k.ua(), "POST", "/dm/execute-pkg", &[], json!(batch).to_string().as_bytes(), Duration::from_secs(60))
            .expect("the batch is answered within a minute");
    let v = answer.json();
    assert_eq!(v["res"], 1, "{}", &answer.text()[..answer.text().len().min(400)]);
    assert!(v["errortxt"].as_str().unwrap().contains("ua.max_batch"), "{v}");
    assert_eq!(last_receipt(&k), before, "a refused batch made documents");

    // A full batch (the default limit, 100) with every printed form: answered in order, one by one.
    let batch: Vec<Value> = (0..100).map(|i| sale(&format!("full-{i}"))).collect();
    let answer = http(k.ua(), "POST", "/dm/execute-pkg", &[], json!(batch).to_string().as_bytes());
    let list = answer.json();
    let list = list.as_array().expect("an array of answers");
    assert_eq!(list.len(), 100);
    assert!(list.iter().all(|a| a["res"] == 0), "{}", list[0]);
    assert_eq!(list[99]["tag"], "full-99");
    let (now, peak) = k.memory_kib();
    println!("after a 100-envelope batch ({} KB answer): RSS {now} KiB, peak {peak} KiB", answer.body.len() / 1024);
    assert!(peak < GOAL_KIB, "peak RSS {peak} KiB");
}

/// Opens `n` connections that each announce a body of `size` bytes to `path` and send all but its last byte.
fn held_bodies(port: u16, path: &str, n: usize, size: usize) -> Vec<TcpStream> {
    let chunk = vec![b' '; size - 1];
    (0..n)
        .filter_map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
            let head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n\r\n");
            c.write_all(head.as_bytes()).ok()?;
            // The server may answer and close before it has read it all.
            let _ = c.write_all(&chunk);
            Some(c)
        })
        .collect()
}

#[test]
fn hundreds_of_held_megabyte_bodies_stay_within_the_memory_goal() {
    let _turn = trust_support::many_sockets();
    let k = Kassa::start("");
    for (name, port, path) in [("Ukrainian", k.ua(), "/dm/execute"), ("Belarusian", k.by_http(), "/")] {
        let held = held_bodies(port, path, 256, 1 << 20);
        assert!(held.len() > 200, "{name}: the connections were refused");
        let (now, peak) = k.memory_kib();
        println!("{name}: 256 held 1 MiB bodies: RSS {now} KiB, peak {peak} KiB");
        assert!(peak < GOAL_KIB, "{name}: peak RSS {peak} KiB with 256 held bodies");
        // A sale still goes through meanwhile.
        let ping = if name == "Ukrainian" {
            http(port, "POST", path, &[], ua_envelope("", json!({"task": 18})).to_string().as_bytes()).json()["res"]
                .clone()
        } else {
            http(port, "POST", path, &[], br#"{"type":"ping"}"#).json()["type"].clone()
        };
        assert!(ping == 0 || ping == "pong", "{name}: {ping}");
        drop(held);
    }
}

/// A request head that never ends, held open.
fn half_open(port: u16, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n").unwrap();
            c
        })
        .collect()
}

fn pong_over_tcp(port: u16) -> Result<Value, String> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let msg = br#"{"type":"ping"}"#;
    let mut out = (msg.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    c.write_all(&out).map_err(|e| e.to_string())?;
    let mut len = [0u8; 4];
    c.read_exact(&mut len).map_err(|e| format!("no answer: {e}"))?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    c.read_exact(&mut body).map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

#[test]
fn half_open_requests_and_silent_sockets_do_not_keep_customers_out_of_any_front() {
    let _turn = trust_support::many_sockets();
    // A small cap, so the flood is larger than what a listener holds.
    let k = Kassa::start("max_connections = 100");
    let limit = Duration::from_secs(20);
    // Belarusian HTTP and Ukrainian HTTP: 256 half-open requests each, then 60 customers.
    for (name, port) in [("Belarusian HTTP", k.by_http()), ("Ukrainian", k.ua()), ("Kazakh", k.api())] {
        let flood = half_open(port, 256);
        let mut served = 0;
        for _ in 0..60 {
            let answer = match name {
                "Belarusian HTTP" => try_http(port, "POST", "/", &[], br#"{"type":"ping"}"#, limit),
                "Ukrainian" => try_http(
                    port,
                    "POST",
                    "/dm/execute",
                    &[],
                    ua_envelope("", json!({"task": 18})).to_string().as_bytes(),
                    limit,
                ),
                _ => try_http(port, "GET", "/Ping", &[], b"", limit),
            };
            served += usize::from(answer.is_ok_and(|a| a.status == 200));
        }
        println!("{name}: {served} of 60 served beside 256 half-open requests");
        assert_eq!(served, 60, "{name}");
        drop(flood);
    }
    // Belarusian framed TCP: 256 sockets that connect and say nothing, then 60 customers.
    let silent: Vec<TcpStream> = (0..256).map(|_| TcpStream::connect(("127.0.0.1", k.by_tcp())).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let served = (0..60).filter(|_| pong_over_tcp(k.by_tcp()).is_ok_and(|v| v["type"] == "pong")).count();
    println!("Belarusian TCP: {served} of 60 served beside 256 silent sockets");
    assert_eq!(served, 60);
    drop(silent);
}
