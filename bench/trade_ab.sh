#!/usr/bin/env bash
# bench/trade_ab.sh OLD_KASSA NEW_KASSA [SECS] [ROUNDS]: TradeOperation throughput of two Kassa binaries on one
# machine in one run, loads alternating (old, new, old, new, ...) so both see the same noise; prints each
# round and the medians. The load is the limit anchor's trade.lua (8 connections over 8 KKMs). Use it to show
# a change does not make the core slower: build the older commit's binary aside first.
set -euo pipefail
old=$1 new=$2 secs=${3:-15} rounds=${4:-3} conns=8
limit_src=${LIMIT_SRC:-../shared/bench/limit}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
pin=4321
start() { # NAME BIN → the address its API listens on, with KKMs 7001-7008 saved
    KASSA_ADMIN_PIN=$pin "$2" serve --listen 127.0.0.1:0 --data-dir "$work/$1" >"$work/$1.out" 2>"$work/$1.log" &
    pids+=($!)
    local addr=""
    for _ in $(seq 300); do
        addr=$(awk '$1 == "listening" && $2 == "api" { print $3 }' "$work/$1.out")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { cat "$work/$1.log" >&2; echo "$1 did not start" >&2; exit 1; }
    for kkm in $(seq 7001 7008); do
        curl -sf -H "Authorization: $pin" -d "{\"ofd_id\": $kkm, \"ofd_token\": 59359406, \"local_name\": \"K$kkm\"}" \
            "http://$addr/SaveKKM" | grep -q '"response_code":0' || { echo "SaveKKM $kkm failed on $1" >&2; exit 1; }
    done
    echo "$addr"
}
a=$(start old "$old")
b=$(start new "$new")
load() { KASSA_KKMS=8 KASSA_PIN=$pin wrk -t2 -c"$conns" -d"${1}s" --latency -s "$limit_src/trade.lua" "http://$2" | grep '^LOAD'; }
load 5 "$a" >/dev/null
load 5 "$b" >/dev/null
rps() { sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$1"; }
olds=() news=()
for r in $(seq "$rounds"); do
    o=$(load "$secs" "$a"); n=$(load "$secs" "$b")
    echo "round $r old $o"
    echo "round $r new $n"
    olds+=("$(rps "$o")"); news+=("$(rps "$n")")
done
python3 - "${olds[*]}" "${news[*]}" <<'PY'
import statistics, sys
o = [float(x) for x in sys.argv[1].split()]; n = [float(x) for x in sys.argv[2].split()]
mo, mn = statistics.median(o), statistics.median(n)
print(f"median rps  old {mo:.1f}  new {mn:.1f}  new/old = {mn / mo * 100:.1f} %")
PY
