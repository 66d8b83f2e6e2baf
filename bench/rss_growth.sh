#!/usr/bin/env bash
# Whether the server's memory grows with its journal: `kassa serve` (the built-in OFD emulator, 8 KKMs) under
# wrk's TradeOperation load for SECONDS, its RSS printed every STEP seconds with the documents made so far, then
# the growth per 10 000 documents between the first and the last reading. A server that holds something per
# document shows a steady climb here long after the 60 s memory bench (`cargo bench --bench memory`) ends.
#
#   bash bench/rss_growth.sh [SECONDS] [STEP] [CONNECTIONS]     # defaults: 120 s, 20 s, 8 connections
#   KASSA_BIN=path/to/kassa bash bench/rss_growth.sh            # a binary already built
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
step=${2:-20}
conns=${3:-8}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
[ -f "$limit_src/trade.lua" ] || { echo "wrk's script is not at $limit_src/trade.lua (set LIMIT_SRC)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing (it counts the documents): apt-get install sqlite3" >&2; exit 1; }
kassa_bin=${KASSA_BIN:-target/release/kassa}
[ -n "${KASSA_BIN:-}" ] || cargo build --release --bin kassa >&2

# shellcheck source=bench/kassa_start.sh
. "$(dirname "$0")/kassa_start.sh"
bench_begin
start_kassa growth "$kassa_bin"
pid=${pids[0]}
KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${secs}s" --latency \
    -s "$limit_src/trade.lua" "http://$kassa_addr" >"$work/wrk.out" &
load=$!
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
# A read of the live database through its own connection: it sees every committed document.
documents() { sqlite3 "file:$work/growth/kassa.db?mode=ro" 'SELECT count(*) FROM ledger_documents'; }
readings=()
for t in $(seq "$step" "$step" "$secs"); do
    sleep "$step"
    reading="$(rss) $(documents)"
    readings+=("$reading")
    echo "t=${t}s rss_kb=${reading% *} documents=${reading#* }"
done
wait "$load"
grep '^LOAD' "$work/wrk.out"
python3 - "${readings[0]}" "${readings[-1]}" <<'EOF'
import sys
(r0, d0), (r1, d1) = (map(int, a.split()) for a in sys.argv[1:3])
per = (r1 - r0) / max(d1 - d0, 1) * 10_000
print(f"growth  {r0 / 1024:.1f} MB at {d0} documents -> {r1 / 1024:.1f} MB at {d1}: {per:+.0f} kB per 10 000 documents")
EOF
