#!/usr/bin/env bash
# bench/pg_statements.sh OLD_BIN NEW_BIN [SECS]: which PostgreSQL statements a change made dearer. Each build serves
# a database of its own under the same load (trade.lua, 8 connections over 8 KKMs, SECS each), on one throwaway
# cluster with pg_stat_statements; prints each database's total time and the costliest statements of both.
# PGEXTRA="-c autovacuum_naptime=1" gives the tables statistics while the load runs.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 secs=${3:-10}
limit_src=${LIMIT_SRC:-../shared/bench/limit}
. bench/kassa_start.sh
bench_begin
. .ci/pg_cluster.sh
pgdir="$work/pg"; chmod 711 "$work"
pg_cluster_start "$pgdir" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all ${PGEXTRA:-}
trap 'pg_cluster_stop "$pgdir"; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
su() { "$pg_bin/psql" -X -q -A -t -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "$1"; }
su "CREATE EXTENSION pg_stat_statements"
for db in old new; do
  su "CREATE DATABASE $db OWNER kassa TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
done
for db in old new; do
  bin=$old; [ $db = new ] && bin=$new
  export KASSA_STORE_URL="postgres://kassa@127.0.0.1:$pg_port/$db"
  start_kassa "$db" "$bin"
  unset KASSA_STORE_URL
  KASSA_KKMS=8 KASSA_PIN=$pin wrk -t2 -c8 -d${secs}s -s "$limit_src/trade.lua" "http://$kassa_addr" | grep '^LOAD'
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
su "SELECT d.datname, round(sum(total_exec_time)::numeric,0) AS ms, sum(calls) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid GROUP BY 1 ORDER BY 1"
su "SELECT d.datname, round(total_exec_time::numeric,0), calls, round((total_exec_time/calls)::numeric,3), left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname IN ('old','new') ORDER BY total_exec_time DESC LIMIT 24"
