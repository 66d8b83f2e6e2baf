#!/usr/bin/env bash
# The whole test suite again, every server in it serving from PostgreSQL (issue 25): one throwaway cluster from
# Debian's binaries on a loopback port, a database per data folder (tests/common: test_store), removed at the end.
# Tests about SQLite's own files (kassa.db, its log, its mark) run in the SQLite pass only and say so here.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/pg_cluster.sh
. .ci/pg_cluster.sh
dir=$(mktemp -d)
trap 'pg_cluster_stop "$dir"; rm -rf "$dir"' EXIT
pg_cluster_start "$dir" -c fsync=off -c full_page_writes=off -c max_connections=400
echo "postgres-suite: PostgreSQL on 127.0.0.1:$pg_port; cargo test with every server on it"
KASSA_TEST_POSTGRES="postgres://kassa@127.0.0.1:$pg_port" KASSA_REQUIRE_POSTGRES=1 cargo test
