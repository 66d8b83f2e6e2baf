#!/usr/bin/env bash
# bench/store_engines.sh [KASSA_BIN] [SECS] [CONNS] [ROUNDS]: TradeOperation sales/s and latency of one Kassa
# serving from SQLite (kassa.db in its folder) and of one serving from PostgreSQL (`--store`), alternating, in
# one run, on this machine. PostgreSQL is a throwaway cluster from Debian's binaries with its durable defaults
# (fsync, synchronous_commit and full_page_writes on), so both engines put every acknowledged sale on disk
# before the answer. Load: the limit anchor's trade.lua (8 KKMs), as bench/trade_vs_limit.sh runs it.
# BASE_BIN=<another kassa>: each round also serves PostgreSQL with that build ("postgres-base"), to measure a
# change of the PostgreSQL path against it in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/kassa} secs=${2:-10} conns=${3:-8} rounds=${4:-3} base=${BASE_BIN:-}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
# shellcheck source=bench/kassa_start.sh
. bench/kassa_start.sh
bench_begin

# shellcheck source=.ci/pg_cluster.sh
. .ci/pg_cluster.sh
pgdir="$work/pg"
# The scratch folder is the bench user's: PostgreSQL's user must pass through it to its own folder.
chmod 711 "$work"
pg_cluster_start "$pgdir"
trap 'pg_cluster_stop "$pgdir"; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$pg_port
psql() { "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$port" -U kassa -d postgres -c "$1" >/dev/null; }

# load NAME: wrk against the last started server; prints "NAME sales/s p50 p99" (milliseconds), from trade.lua's
# LOAD line; a round with a refused sale stops the run.
load() {
    local line bad
    line=$(KASSA_KKMS=8 KASSA_PIN=$pin wrk -t"$(( conns < 2 ? conns : 2 ))" -c"$conns" -d"${secs}s" --latency \
        -s "$limit_src/trade.lua" "http://$kassa_addr" | grep '^LOAD')
    bad=$(sed -E 's/.*bad=([0-9]+).*/\1/' <<<"$line")
    [ "$bad" -eq 0 ] || { echo "$1: $bad sales refused: $line" >&2; exit 1; }
    sed -E "s/.*p50_ms=([0-9.]+) p99_ms=([0-9.]+) rps=([0-9.]+).*/$1 \3 \1 \2/" <<<"$line"
}

# on_postgres NAME DB BIN: BIN serving a new database DB under load; its figures go to results as NAME.
on_postgres() {
    psql "CREATE DATABASE $2 TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
    export KASSA_STORE_URL="postgres://kassa@127.0.0.1:$port/$2"
    start_kassa "$2" "$3"
    unset KASSA_STORE_URL
    results+=("$(load "$1")")
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
}

results=()
for r in $(seq "$rounds"); do
    start_kassa "sqlite$r" "$bin"
    results+=("$(load sqlite)")
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
    on_postgres postgres "r$r" "$bin"
    [ -z "$base" ] || on_postgres postgres-base "b$r" "$base"
done
printf '%s\n' "${results[@]}" | awk -v conns="$conns" -v secs="$secs" "$MEDIAN_AWK"'
    { n[$1]++; rps[$1, n[$1]] = $2; p50[$1, n[$1]] = $3; p99[$1, n[$1]] = $4 }
    END {
        printf "TradeOperation, %d connections over 8 KKMs, %d s a round, %d rounds alternating (medians):\n", conns, secs, n["sqlite"]
        for (e in n) printf "  %-9s %8.0f sales/s   p50 %.2f ms   p99 %.2f ms\n", e, med(rps, e), med(p50, e), med(p99, e)
        printf "  PostgreSQL / SQLite: %.2f\n", med(rps, "postgres") / med(rps, "sqlite")
        if (n["postgres-base"]) printf "  PostgreSQL / PostgreSQL of BASE_BIN: %.3f\n", med(rps, "postgres") / med(rps, "postgres-base")
    }'
printf 'rounds:\n'; printf '  %s\n' "${results[@]}"
