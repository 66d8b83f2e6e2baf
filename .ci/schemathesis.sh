#!/usr/bin/env bash
# Fuzzes a live `kassa serve` with schemathesis from docs/openapi.json (served at /openapi.json): a bounded
# number of cases per operation; fails on a crash, an internal failure (code 4 or 19), an undocumented
# status or content type, or an answer that breaks its schema. Needs target/debug/kassa (built by cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-100}
SEED=${SCHEMATHESIS_SEED:-20261203}
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
fi
"$venv/bin/schemathesis" --version
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/debug/kassa serve --listen "127.0.0.1:${port}" --data-dir "$data/data" >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:${port}/Ping" >/dev/null && break
    sleep 0.2
done
# Register the seed's KKM so fiscal operations reach the fiscal core rather than stopping at 61.
curl -s -H 'Authorization: 0000' -d '{"ofd_id": 6923, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A"}' \
    "http://127.0.0.1:${port}/SaveKKM" >/dev/null
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=.ci "$venv/bin/schemathesis" run \
    "http://127.0.0.1:${port}/openapi.json" \
    --header 'Authorization: 0000' \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --checks status_code_conformance,content_type_conformance,response_schema_conformance,no_internal_failure \
    --workers 1 --seed "$SEED" --no-color --generation-database none \
    --exclude-path /openapi.json
kill -0 "$server" # the server survived the run
