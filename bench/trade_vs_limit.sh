#!/usr/bin/env bash
# TradeOperation against the limit anchor, in one run: builds both in release, starts each on a fresh data
# folder, loads each with the same wrk script (8 connections over 8 KKMs) and prints both figures and the ratio.
# Only the ratio is stable on a shared machine. Needs wrk (Debian's package) and ../shared/bench/limit.
#
#   bash bench/trade_vs_limit.sh [SECONDS] [CONNECTIONS]     # defaults: 10 s, 8 connections
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-8}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
[ -f "$limit_src/Cargo.toml" ] || { echo "the limit anchor is not at $limit_src (set LIMIT_SRC)" >&2; exit 1; }

# KASSA_BIN / LIMIT_BIN: run binaries already built (on a busy machine, to compare builds without rebuilding).
kassa_bin=${KASSA_BIN:-target/release/kassa}
limit_bin=${LIMIT_BIN:-target/limit/release/limit}
[ -n "${KASSA_BIN:-}" ] || cargo build --release --bin kassa >&2
[ -n "${LIMIT_BIN:-}" ] || CARGO_TARGET_DIR="$PWD/target/limit" cargo build --release --manifest-path "$limit_src/Cargo.toml" >&2

# shellcheck source=bench/kassa_start.sh
. "$(dirname "$0")/kassa_start.sh"
bench_begin
start_kassa kassa "$kassa_bin"
kassa=$kassa_addr

# The anchor takes its port from PORT: ask the system for one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port DB="$work/limit.db" "$limit_bin" >"$work/limit.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

load() { # URL → the LOAD line of trade.lua
    KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${secs}s" --latency -s "$limit_src/trade.lua" "$1" | grep '^LOAD'
}
# A short warm-up of each, then the measured runs, alternating so both see the same machine.
load "http://$kassa" >/dev/null
load "http://127.0.0.1:$port" >/dev/null
k=$(load "http://$kassa")
l=$(load "http://127.0.0.1:$port")
echo "kassa  $k"
echo "limit  $l"
rps() { sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$1"; }
python3 -c "print(f'ratio  kassa/limit = {float(\"$(rps "$k")\") / float(\"$(rps "$l")\") * 100:.1f} %')"
