//! What the front benchmarks share: how a series of timings is printed, and a port for an in-process server.
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
