#!/usr/bin/env bash
# bench/trade_ab.sh OLD_KASSA NEW_KASSA [SECS] [ROUNDS]: TradeOperation throughput of two Kassa binaries on one
# machine in one run, loads alternating (old, new, old, new, ...) so both see the same noise; prints each
# round and the medians. The load is the limit anchor's trade.lua (8 connections over 8 KKMs), or the wrk script
# SCRIPT names (bench/closing.lua: every sale on a new connection). Use it to show a change does not make the
# core slower: build the older commit's binary aside first.
set -euo pipefail
old=$1 new=$2 secs=${3:-15} rounds=${4:-3} conns=${CONNS:-8}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
script=${SCRIPT:-$limit_src/trade.lua}
# shellcheck source=bench/kassa_start.sh
. "$(dirname "$0")/kassa_start.sh"
bench_begin
start_kassa old "$old"
a=$kassa_addr
start_kassa new "$new"
b=$kassa_addr
load() { KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${1}s" --latency -s "$script" "http://$2" | grep '^LOAD'; }
load 5 "$a" >/dev/null
load 5 "$b" >/dev/null
rps() { sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$1"; }
p50() { sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$1"; }
olds=() news=() old_p50=() new_p50=()
for r in $(seq "$rounds"); do
    o=$(load "$secs" "$a"); n=$(load "$secs" "$b")
    echo "round $r old $o"
    echo "round $r new $n"
    olds+=("$(rps "$o")"); news+=("$(rps "$n")"); old_p50+=("$(p50 "$o")"); new_p50+=("$(p50 "$n")")
done
python3 - "${olds[*]}" "${news[*]}" "${old_p50[*]}" "${new_p50[*]}" <<'PY'
import statistics, sys
o, n, po, pn = ([float(x) for x in a.split()] for a in sys.argv[1:5])
mo, mn = statistics.median(o), statistics.median(n)
print(f"median rps  old {mo:.1f}  new {mn:.1f}  new/old = {mn / mo * 100:.1f} %")
print(f"median p50  old {statistics.median(po):.2f} ms  new {statistics.median(pn):.2f} ms")
PY
