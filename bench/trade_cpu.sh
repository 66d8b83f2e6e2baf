#!/usr/bin/env bash
# bench/trade_cpu.sh OLD_KASSA NEW_KASSA [SECS] [ROUNDS]: the CPU time each Kassa binary spends per
# TradeOperation (user + system time of the server process over the sales it answered), loads alternating,
# medians. On a shared machine CPU per sale moves far less with the neighbours' load than sales per second
# do, so this is the figure to compare two builds by while others compile. Same load as bench/trade_ab.sh.
set -euo pipefail
old=$1 new=$2 secs=${3:-8} rounds=${4:-3} conns=${CONNS:-8}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
# shellcheck source=bench/kassa_start.sh
. "$(dirname "$0")/kassa_start.sh"
bench_begin
start_kassa old "$old"
a=$kassa_addr a_pid=${pids[-1]}
start_kassa new "$new"
b=$kassa_addr b_pid=${pids[-1]}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# One load: prints "ok rps p50 cpu_ms_per_sale".
load() {
    local before after out ok
    before=$(ticks "$3")
    out=$(KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${1}s" --latency -s "$limit_src/trade.lua" "http://$2" | grep '^LOAD')
    after=$(ticks "$3")
    ok=$(sed -E 's/.*ok=([0-9]+).*/\1/' <<<"$out")
    python3 -c "print($ok, '$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$out")', '$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$out")', round(($after - $before) * 1000 / $hz / max($ok, 1), 3))"
}
load 4 "$a" "$a_pid" >/dev/null
load 4 "$b" "$b_pid" >/dev/null
olds=() news=()
for r in $(seq "$rounds"); do
    o=$(load "$secs" "$a" "$a_pid"); n=$(load "$secs" "$b" "$b_pid")
    echo "round $r old: sales rps p50_ms cpu_ms/sale = $o"
    echo "round $r new: sales rps p50_ms cpu_ms/sale = $n"
    olds+=("$(awk '{print $4}' <<<"$o")"); news+=("$(awk '{print $4}' <<<"$n")")
done
python3 - "${olds[*]}" "${news[*]}" <<'PY'
import statistics, sys
o = statistics.median(map(float, sys.argv[1].split())); n = statistics.median(map(float, sys.argv[2].split()))
print(f"median CPU per sale  old {o:.3f} ms  new {n:.3f} ms  new/old = {100 * n / o:.1f} %")
PY
