# Sourced by the bench scripts.

# bench_begin: what every load script starts with: wrk at hand, a scratch folder "$work" that goes at exit
# with the servers in "pids", and the administrator PIN in "pin".
bench_begin() {
    command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
    work=$(mktemp -d)
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
    pin=4321
}

# start_kassa NAME BIN: starts BIN serve on port 0 in "$work/NAME" with the
# administrator PIN "$pin", adds its pid to "pids" (the caller's trap stops it), saves KKMs 7001-7008 and sets
# "kassa_addr" to the address it printed (`listening api <address>`). Called directly, not in $(...), so the
# pid reaches the caller's array.
start_kassa() {
    KASSA_ADMIN_PIN=$pin "$2" serve --listen 127.0.0.1:0 --data-dir "$work/$1" >"$work/$1.out" 2>"$work/$1.log" &
    pids+=($!)
    kassa_addr=""
    for _ in $(seq 300); do
        kassa_addr=$(awk '$1 == "listening" && $2 == "api" { print $3 }' "$work/$1.out")
        [ -n "$kassa_addr" ] && break
        sleep 0.1
    done
    [ -n "$kassa_addr" ] || { cat "$work/$1.log" >&2; echo "$1 did not start" >&2; exit 1; }
    for kkm in $(seq 7001 7008); do
        curl -sf -H "Authorization: $pin" -d "{\"ofd_id\": $kkm, \"ofd_token\": 59359406, \"local_name\": \"K$kkm\"}" \
            "http://$kassa_addr/SaveKKM" | grep -q '"response_code":0' || { echo "SaveKKM $kkm failed on $1" >&2; exit 1; }
    done
}
