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
    kassa_addr=$(listening "$work/$1.out" api "$work/$1.log") || exit 1
    for kkm in $(seq 7001 7008); do
        curl -sf -H "Authorization: $pin" -d "{\"ofd_id\": $kkm, \"ofd_token\": 59359406, \"local_name\": \"K$kkm\"}" \
            "http://$kassa_addr/SaveKKM" | grep -q '"response_code":0' || { echo "SaveKKM $kkm failed on $1" >&2; exit 1; }
    done
}

# listening OUT NAME LOG: the address a process printed in OUT as `listening NAME <address>`, waited for 30 s at
# most; when it never comes, LOG (its standard error) goes to ours and the status is 1.
listening() {
    local addr=""
    for _ in $(seq 300); do
        addr=$(awk -v name="$2" '$1 == "listening" && $2 == name { print $3; exit }' "$1")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { cat "$3" >&2; echo "$2 did not start ($1)" >&2; return 1; }
    echo "$addr"
}

# The medians of rounds, for the scripts' awk summaries: med(a, e) of the values a[e, 1..n[e]].
# shellcheck disable=SC2034
MEDIAN_AWK='
    function med(a, e,   i, j, t, k, v) {
        k = n[e]; for (i = 1; i <= k; i++) v[i] = a[e, i] + 0
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }'
