#!/usr/bin/env bash
# bench/nodes.sh [KASSA_BIN] [SECS] [ROUNDS]: TradeOperation sales/s of 1, 2 and 3 Kassa nodes on one PostgreSQL
# database, and of one Kassa on SQLite, in one run on this machine, 8 connections over 8 KKMs in all. Every node
# sends to one OFD emulator (`kassa ofd-emulator`, tokens fixed so each run may save the KKMs anew), as nodes
# of one provider would.
#   - "sticky": each node is sent the sales of its own KKMs (a load balancer that routes by device);
#   - "spread": every node is sent sales of every KKM, so most requests are handed to the node serving the KKM.
# PostgreSQL is a throwaway cluster with its durable defaults (fsync, synchronous_commit on). On a 2-core machine
# the nodes and the database share the cores: the figures show the cost of nodes, not their scale.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/kassa} secs=${2:-10} rounds=${3:-3}
# shellcheck source=bench/kassa_start.sh
. bench/kassa_start.sh
bench_begin
# shellcheck source=.ci/pg_cluster.sh
. .ci/pg_cluster.sh
pgdir="$work/pg"
chmod 711 "$work"
pg_cluster_start "$pgdir" -c max_connections=200
trap 'pg_cluster_stop "$pgdir"; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
psql() { "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U kassa -d postgres -c "$1" >/dev/null; }

"$bin" ofd-emulator --listen 127.0.0.1:0 --no-rotation >"$work/ofd.out" 2>"$work/ofd.log" &
pids+=($!)
ofd=$(listening "$work/ofd.out" ofd "$work/ofd.log") || exit 1
cat >"$work/kassa.toml" <<TOML
[[ofd]]
uid = "4C49A0CB1DD4413387F6E6199CBB1B2A"
name = "bench"
endpoint = "$ofd"
emulator = true
consumer_url = "http://consumer.test-oofd.kz"
TOML
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# node NAME: one more `kassa serve` on "$KASSA_STORE_URL" (or SQLite without it); its address in "addrs".
node() {
    KASSA_ADMIN_PIN=$pin KASSA_PIN_KEY=$key "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/$1" \
        --config "$work/kassa.toml" >"$work/$1.out" 2>"$work/$1.log" &
    pids+=($!)
    local addr
    addr=$(listening "$work/$1.out" api "$work/$1.log") || exit 1
    addrs+=("$addr")
}

# run NAME NODES MODE: NODES nodes (0: one on SQLite), KKMs 7001-7008 saved, then one wrk per node for SECS
# seconds, 8 connections in all; prints "NAME sales/s p50 p99", the p50 and p99 of the node with the most.
run() {
    local name=$1 nodes=$2 mode=$3 i n=$(( $2 > 0 ? $2 : 1 )) first
    addrs=()
    local started=${#pids[@]}
    if [ "$nodes" -eq 0 ]; then
        node "$name-sqlite"
    else
        psql "CREATE DATABASE $name TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
        export KASSA_STORE_URL="postgres://kassa@127.0.0.1:$pg_port/$name"
        for i in $(seq "$nodes"); do node "$name-$i"; done
        unset KASSA_STORE_URL
    fi
    local answer
    for kkm in $(seq 7001 7008); do
        answer=$(curl -s -H "Authorization: $pin" -d "{\"ofd_id\": $kkm, \"ofd_token\": 59359406, \"local_name\": \"K$kkm\"}" \
            "http://${addrs[0]}/SaveKKM")
        grep -q '"response_code":0' <<<"$answer" || { echo "SaveKKM $kkm failed: $answer" >&2; tail -5 "$work/$name-1.log" >&2; exit 1; }
    done
    # Each node takes its own KKMs first (one sale each), so "sticky" starts with the leases where it sends.
    for i in $(seq 0 $(( n - 1 ))); do
        for kkm in $(seq $(( 7001 + i * 8 / n )) $(( 7000 + (i + 1) * 8 / n ))); do
            curl -sf -H "Authorization: $pin" -d "{\"kkm_ofd_id\":$kkm,\"operation\":2,\"items\":[{\"type\":1,\"commodity\":{\"name\":\"Нан\",\"section_code\":\"1\",\"quantity\":1,\"price\":100,\"measure_unit_code\":\"796\"}}],\"payments\":[{\"type\":0,\"sum\":100}]}" \
                "http://${addrs[$i]}/TradeOperation" | grep -q '"response_code":0' || { echo "first sale on $kkm failed" >&2; exit 1; }
        done
    done
    local outs=() loads=()
    for i in $(seq 0 $(( n - 1 ))); do
        if [ "$mode" = sticky ]; then first=$(( 7001 + i * 8 / n )); count=$(( (i + 1) * 8 / n - i * 8 / n )); else first=7001; count=8; fi
        KASSA_KKM_FIRST=$first KASSA_KKM_COUNT=$count KASSA_PIN=$pin \
            wrk -t1 -c$(( 8 / n )) -d"${secs}s" --latency -s bench/nodes.lua "http://${addrs[$i]}" >"$work/$name-wrk$i" &
        loads+=($!)
        outs+=("$work/$name-wrk$i")
    done
    wait "${loads[@]}"
    grep -h '^LOAD' "${outs[@]}" | awk -v name="$name" '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          rps += v["rps"]; bad += v["bad"]; if (v["rps"] > best) { best = v["rps"]; p50 = v["p50_ms"]; p99 = v["p99_ms"] } }
        END { if (bad > 0) { print name ": " bad " sales refused" > "/dev/stderr"; exit 1 } print name, rps, p50, p99 }'
    kill "${pids[@]:$started}" 2>/dev/null || true
    wait "${pids[@]:$started}" 2>/dev/null || true
    pids=("${pids[@]:0:$started}")
}

results=()
for r in $(seq "$rounds"); do
    results+=("$(run "sqlite_r$r" 0 sticky | sed 's/^sqlite_r[0-9]*/sqlite/')")
    for n in 1 2 3; do results+=("$(run "pg${n}_r$r" "$n" sticky | sed "s/^pg${n}_r[0-9]*/pg-$n-nodes/")"); done
    results+=("$(run "spread_r$r" 3 spread | sed 's/^spread_r[0-9]*/pg-3-spread/')")
done
printf '%s\n' "${results[@]}" | awk -v secs="$secs" "$MEDIAN_AWK"'
    { n[$1]++; rps[$1, n[$1]] = $2; p50[$1, n[$1]] = $3; p99[$1, n[$1]] = $4 }
    END {
        printf "TradeOperation, 8 connections over 8 KKMs in all, %d s a round, %d rounds (medians):\n", secs, n["sqlite"]
        split("sqlite pg-1-nodes pg-2-nodes pg-3-nodes pg-3-spread", order, " ")
        for (o = 1; o <= 5; o++) { e = order[o]; printf "  %-12s %8.0f sales/s   p50 %.2f ms   p99 %.2f ms\n", e, med(rps, e), med(p50, e), med(p99, e) }
    }'
printf 'rounds:\n'; printf '  %s\n' "${results[@]}"
