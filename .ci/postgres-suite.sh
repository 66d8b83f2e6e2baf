#!/usr/bin/env bash
# The whole test suite again, every server in it serving from PostgreSQL (issue 25): one throwaway cluster from
# Debian's binaries on a loopback port, a database per data folder (tests/common: test_store), removed at the end.
# Tests about SQLite's own files (kassa.db, its log, its mark) run in the SQLite pass only and say so here.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres-suite: no /usr/lib/postgresql/*/bin: install Debian's postgresql" >&2; exit 1; }
dir=$(mktemp -d)
run=()
# PostgreSQL refuses to run as root: as root, its commands run as the postgres user, which owns the folder.
if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    run=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run[@]}" "$bin/initdb" -D "$dir/data" -U kassa --auth=trust -E UTF8 --no-locale >/dev/null
stop() { "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off -c max_connections=400" start
echo "postgres-suite: PostgreSQL on 127.0.0.1:$port; cargo test with every server on it"
KASSA_TEST_POSTGRES="postgres://kassa@127.0.0.1:$port" KASSA_REQUIRE_POSTGRES=1 cargo test
