#!/usr/bin/env bash
# bench/trade_tail.sh [KASSA_BIN] [SECS] [CONNS]: where a sale's tail latency comes from. Loads one Kassa with
# the limit anchor's trade.lua, prints wrk's percentiles, then the server's own histogram of TradeOperation
# (`kassa_request_duration_seconds` on /metrics, timed from the outermost middleware to the answer). Time
# that wrk sees and the server does not was spent outside the handler (waiting for a core, in the client).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/kassa} secs=${2:-10} conns=${3:-8}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
# shellcheck source=bench/kassa_start.sh
. bench/kassa_start.sh
bench_begin
start_kassa kassa "$bin"
KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${secs}s" --latency \
    -s "$limit_src/trade.lua" "http://$kassa_addr" | grep -E '^LOAD|^ +(50|75|90|99)%'
echo "server-side, sales answered within (seconds):"
curl -s "http://$kassa_addr/metrics" | grep 'request_duration_seconds_bucket.*TradeOperation' \
    | sed -E 's/.*le="([^"]+)".* ([0-9]+)$/  \1 \2/'
