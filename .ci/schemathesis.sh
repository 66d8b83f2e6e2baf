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
# Port 0: the server prints `listening api <address>` on standard output once it is bound.
target/debug/kassa serve --listen 127.0.0.1:0 --data-dir "$data/data" >"$data/listening" 2>"$data/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
addr=
for _ in $(seq 150); do
    addr=$(awk '$1 == "listening" && $2 == "api" { print $3 }' "$data/listening")
    [ -n "$addr" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$data/server.log"; echo "schemathesis: kassa serve exited before it listened" >&2; exit 1; }
    sleep 0.2
done
[ -n "$addr" ] || { echo "schemathesis: kassa serve did not say where it listens within 30 s" >&2; exit 1; }
port=${addr##*:}
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
