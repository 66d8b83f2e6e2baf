#!/usr/bin/env bash
# Clients generated from docs/openapi.json read every answer: a Python client (openapi-python-client, from
# PyPI) and a TypeScript one (openapi-typescript types with openapi-fetch calls, from npm; no Java), each
# generated without a warning, installed (pip) or type-checked (tsc --strict), and driven through a sale, a
# return, X, Z and a journal query against a live `kassa serve` (.ci/clients/smoke.py, smoke.ts). Versions
# are pinned; the venv and node_modules are kept under target/clients and rebuilt only when a pin changes.
# Needs target/debug/kassa (built by cargo test), python3 with venv, node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
PYCLIENT_PINS="openapi-python-client==0.29.1 setuptools==80.9.0 wheel==0.45.1"
work=target/clients
mkdir -p "$work"

# --- Python: the generator and the build tools in a venv, reused while the pins are the same.
venv=$work/venv
if [ "$(cat "$venv/pins" 2>/dev/null)" != "$PYCLIENT_PINS" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet $PYCLIENT_PINS
    echo "$PYCLIENT_PINS" >"$venv/pins"
fi
rm -rf "$work/python" && mkdir -p "$work/python"
# No formatter run after generating; /metrics (OpenMetrics text) read as the plain text it is.
cat >"$work/python/config.yaml" <<'YAML'
post_hooks: []
project_name_override: kassa-client
package_name_override: kassa_client
content_type_overrides:
  application/openmetrics-text: text/plain
YAML
(cd "$work/python" && "../venv/bin/openapi-python-client" generate --path ../../../docs/openapi.json \
    --meta setup --config config.yaml --fail-on-warning)
"$venv/bin/pip" install --quiet --no-build-isolation --force-reinstall --no-deps "$work/python/kassa-client"
"$venv/bin/pip" install --quiet --no-build-isolation "$work/python/kassa-client"

# --- TypeScript: node_modules from the pinned lock file, reused while it is the same.
ts=$work/ts
mkdir -p "$ts"
if ! cmp -s .ci/clients/package-lock.json "$ts/package-lock.json" || [ ! -d "$ts/node_modules" ]; then
    cp .ci/clients/package.json .ci/clients/package-lock.json "$ts/"
    (cd "$ts" && npm ci --no-audit --no-fund)
fi
cp .ci/clients/smoke.ts .ci/clients/tsconfig.json "$ts/"
"$ts/node_modules/.bin/openapi-typescript" docs/openapi.json -o "$ts/kassa.ts"
rm -rf "$ts/dist"
"$ts/node_modules/.bin/tsc" -p "$ts"

# --- A live server on port 0; it prints `listening api <address>` once bound.
# Under target/, where nothing else cleans up behind the run.
data=$(mktemp -d "$PWD/$work/run.XXXXXX")
target/debug/kassa serve --listen 127.0.0.1:0 --data-dir "$data/data" >"$data/listening" 2>"$data/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
addr=
for _ in $(seq 150); do
    addr=$(awk '$1 == "listening" && $2 == "api" { print $3 }' "$data/listening")
    [ -n "$addr" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$data/server.log"; echo "clients: kassa serve exited before it listened" >&2; exit 1; }
    sleep 0.2
done
[ -n "$addr" ] || { echo "clients: kassa serve did not say where it listens within 30 s" >&2; exit 1; }
curl -sf -H 'Authorization: 0000' -d '{"ofd_id": 6923, "ofd_token": 59359406, "ofd_uid": "4C49A0CB1DD4413387F6E6199CBB1B2A"}' \
    "http://${addr}/SaveKKM" >/dev/null
"$venv/bin/python" .ci/clients/smoke.py "http://${addr}"
node "$ts/dist/smoke.js" "http://${addr}"
kill -0 "$server" # the server survived both clients
