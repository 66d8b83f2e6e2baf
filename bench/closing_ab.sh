#!/usr/bin/env bash
# bench/closing_ab.sh OLD_KASSA NEW_KASSA [SECS] [ROUNDS]: TradeOperation of two Kassa binaries when every sale
# comes on a new connection (bench/closing.lua; CONNS connections at once, default 1), loads alternating; prints
# each round and the medians of p50 and sales/s. What a POS app that does not keep its connection pays per sale.
set -euo pipefail
old=$1 new=$2 secs=${3:-10} rounds=${4:-3} conns=${CONNS:-1}
# shellcheck source=bench/kassa_start.sh
. "$(dirname "$0")/kassa_start.sh"
bench_begin
start_kassa old "$old"
a=$kassa_addr
start_kassa new "$new"
b=$kassa_addr
load() {
    KASSA_KKMS=8 KASSA_PIN=$pin wrk -t1 -c"$conns" -d"${1}s" --latency -s "$(dirname "$0")/closing.lua" "http://$2" |
        grep '^LOAD'
}
load 3 "$a" >/dev/null
load 3 "$b" >/dev/null
for r in $(seq "$rounds"); do
    echo "round $r old $(load "$secs" "$a")"
    echo "round $r new $(load "$secs" "$b")"
done | tee "$work/rounds"
awk "$MEDIAN_AWK"'
    { e = $3; k = ++n[e]
      for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "p50_ms") p[e, k] = kv[2]; if (kv[1] == "rps") r[e, k] = kv[2] } }
    END { printf "median p50 old %.2f ms  new %.2f ms; sales/s old %.1f  new %.1f (new/old %.1f %%)\n",
                 med(p, "old"), med(p, "new"), med(r, "old"), med(r, "new"), med(r, "new") / med(r, "old") * 100 }' "$work/rounds"
