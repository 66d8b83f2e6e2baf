#!/usr/bin/env bash
# bench/trade_ab.sh OLD_KASSA NEW_KASSA [SECS] [ROUNDS]: TradeOperation throughput of two Kassa binaries on one
# machine in one run, loads alternating (old, new, old, new, ...) so both see the same noise; prints each
# round and the medians. The load is the limit anchor's trade.lua (8 connections over 8 KKMs), or the wrk script
# SCRIPT names (bench/closing.lua: every sale on a new connection). Use it to show a change does not make the
# core slower: build the older commit's binary aside first. Each round also prints the server's CPU time per
# answered sale (user + system, from /proc), steadier than the throughput on a noisy machine, and the part of
# it the writer thread spent (`kassa-writer`, which commits every SQLite write: the core's serial part).
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
old_pid=${pids[0]} new_pid=${pids[1]}
tick_ms=$(( 1000 / $(getconf CLK_TCK) ))
cpu_ticks() { awk '{print $14 + $15}' "$1"; }
# The writer thread's stat file (it starts with the first write of a sale; none yet: /dev/null).
writer_stat() {
    local t
    for t in /proc/"$1"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = kassa-writer ] && { echo "$t/stat"; return; }
    done
    echo /dev/null
}
# One load of $1 seconds against $2 (server pid $3): wrk's LOAD line, " cpu_ms_per_sale=…" and
# " writer_ms_per_sale=…".
load() {
    local before line after writer w_before w_after
    writer=$(writer_stat "$3")
    before=$(cpu_ticks "/proc/$3/stat") w_before=$(cpu_ticks "$writer")
    line=$(KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${1}s" --latency \
        -s "$script" "http://$2" | grep '^LOAD')
    after=$(cpu_ticks "/proc/$3/stat") w_after=$(cpu_ticks "$writer")
    python3 -c 'import sys, re; ok = max(int(re.search(r"ok=(\d+)", sys.argv[1]).group(1)), 1); t = int(sys.argv[4]); print(f"{sys.argv[1]} cpu_ms_per_sale={int(sys.argv[2]) * t / ok:.3f} writer_ms_per_sale={int(sys.argv[3] or 0) * t / ok:.3f}")' \
        "$line" "$(( after - before ))" "$(( ${w_after:-0} - ${w_before:-0} ))" "$tick_ms"
}
load 5 "$a" "$old_pid" >/dev/null
load 5 "$b" "$new_pid" >/dev/null
field() { sed -E "s/.*$1=([0-9.]+).*/\\1/" <<<"$2"; }
olds=() news=() old_p50=() new_p50=() old_cpu=() new_cpu=() old_w=() new_w=()
for r in $(seq "$rounds"); do
    o=$(load "$secs" "$a" "$old_pid"); n=$(load "$secs" "$b" "$new_pid")
    echo "round $r old $o"
    echo "round $r new $n"
    olds+=("$(field rps "$o")"); news+=("$(field rps "$n")")
    old_p50+=("$(field p50_ms "$o")"); new_p50+=("$(field p50_ms "$n")")
    old_cpu+=("$(field cpu_ms_per_sale "$o")"); new_cpu+=("$(field cpu_ms_per_sale "$n")")
    old_w+=("$(field writer_ms_per_sale "$o")"); new_w+=("$(field writer_ms_per_sale "$n")")
done
python3 - "${olds[*]}" "${news[*]}" "${old_p50[*]}" "${new_p50[*]}" "${old_cpu[*]}" "${new_cpu[*]}" \
    "${old_w[*]}" "${new_w[*]}" <<'PY'
import statistics, sys
o, n, po, pn, co, cn, wo, wn = ([float(x) for x in a.split()] for a in sys.argv[1:9])
mo, mn = statistics.median(o), statistics.median(n)
print(f"median rps  old {mo:.1f}  new {mn:.1f}  new/old = {mn / mo * 100:.1f} %")
print(f"median p50  old {statistics.median(po):.2f} ms  new {statistics.median(pn):.2f} ms")
mco, mcn = statistics.median(co), statistics.median(cn)
print(f"median CPU per sale  old {mco:.3f} ms  new {mcn:.3f} ms  new/old = {mcn / mco * 100:.1f} %")
mwo, mwn = statistics.median(wo), statistics.median(wn)
if mwo and mwn:
    print(f"median writer CPU per sale  old {mwo:.3f} ms  new {mwn:.3f} ms  new/old = {mwn / mwo * 100:.1f} %")
PY
