//! What the benchmarks share: how a series of timings is printed, a port for an in-process server, and one
//! call of the Kazakh API that must succeed. Each bench uses part of it.
#![allow(dead_code)]
use serde_json::Value;
use std::time::Duration;

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
