//! OFD link throughput: TICKET frames encoded/decoded per second, and client ↔ emulator round
//! trips per second on loopback with median and p99 latency. Run with `cargo bench --bench ofd`.
#[path = "../tests/common/ofd.rs"]
mod ofd_support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use kassa::country::kz::ofd::client::Credentials;
use kassa::country::kz::ofd::emulator::{Emulator, EmulatorConfig};
use kassa::country::kz::ofd::frame::{Addr, DEFAULT_MAX_FRAME, Frame};
use kassa::country::kz::ofd::proto::OperationTypeEnum;

const CODEC_ITERS: u32 = 200_000;
const ROUND_TRIPS: u32 = 3_000;

fn main() {
    let request = ofd_support::ticket(OperationTypeEnum::OperationSell, 69_690, 50_000);
    let addr = Addr { version: 203, id: 6923, token: 2_704_817_126, reqnum: 1 };
    let size = Frame::request(addr, &request).map(|f| f.to_bytes().len()).unwrap_or(0);

    let start = Instant::now();
    for _ in 0..CODEC_ITERS {
        let frame = Frame::request(black_box(addr), black_box(&request)).map(|f| f.to_bytes());
        black_box(frame.ok());
    }
    let encode = rate(CODEC_ITERS, start.elapsed());

    let bytes = Frame::request(addr, &request).map(|f| f.to_bytes()).unwrap_or_default();
    let start = Instant::now();
    for _ in 0..CODEC_ITERS {
        let parsed = Frame::parse(black_box(&bytes), DEFAULT_MAX_FRAME).and_then(|(f, _)| f.decode_request());
        black_box(parsed.ok());
    }
    let decode = rate(CODEC_ITERS, start.elapsed());

    println!("TICKET frame ({size} bytes, 2 items, 2 payments):");
    println!("  encode  {encode:>12.0} frames/s");
    println!("  decode  {decode:>12.0} frames/s");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let Ok(rt) = rt else {
        eprintln!("cannot start tokio runtime");
        return;
    };
    rt.block_on(async {
        let config = EmulatorConfig { rotate_tokens: false, ..Default::default() };
        let Ok(emu) = Emulator::start(config).await else {
            eprintln!("cannot start emulator");
            return;
        };
        let client = ofd_support::client(emu.addr(), Duration::from_secs(5));
        let mut latencies = Vec::with_capacity(ROUND_TRIPS as usize);
        let start = Instant::now();
        for i in 0..ROUND_TRIPS {
            let creds = Credentials { id: 6923, token: 2_704_817_126, reqnum: (i % 65_535 + 1) as u16 };
            let t = Instant::now();
            let reply = client.exchange(creds, &request).await;
            latencies.push(t.elapsed());
            if let Err(e) = reply {
                eprintln!("round trip {i} failed: {e}");
                return;
            }
        }
        let total = start.elapsed();
        latencies.sort();
        let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
        println!(
            "client ↔ emulator TICKET round trips on loopback (new TCP connection each, {ROUND_TRIPS} sequential):"
        );
        println!("  rate    {:>12.0} round trips/s", rate(ROUND_TRIPS, total));
        println!("  median  {:>12.1} µs", pct(50).as_secs_f64() * 1e6);
        println!("  p99     {:>12.1} µs", pct(99).as_secs_f64() * 1e6);
        println!("  accepted by emulator: {}", emu.accepted(6923).len());
        emu.shutdown().await;
    });
}

fn rate(n: u32, d: Duration) -> f64 {
    f64::from(n) / d.as_secs_f64()
}
