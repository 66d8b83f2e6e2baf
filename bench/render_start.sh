#!/usr/bin/env bash
# `kassa render` as one process: the median wall time of RUNS runs (default 50) per output format, of one
# binary, or of two alternating (A B A B ...) so that both see the same machine.
#   bench/render_start.sh target/release/kassa [RUNS] [OTHER_KASSA]
# The document is the bundled 20-item Kazakh ticket (`--sample ticket_20_items_kk`), profile generic-58.
set -euo pipefail
A=${1:?usage: bench/render_start.sh KASSA [RUNS] [OTHER_KASSA]}
RUNS=${2:-50}
B=${3:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Prints one run's wall time in microseconds.
once() {
    local bin=$1 format=$2 start end
    start=$(date +%s%N)
    "$bin" render --sample ticket_20_items_kk --format "$format" -o "$out/r.$format" 2>/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}

median_ms() {
    sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000}'
}

printf '%-8s %12s' format "A ms"
[ -n "$B" ] && printf ' %12s %8s' "B ms" "A/B"
printf '   (median of %s runs, A=%s%s)\n' "$RUNS" "$A" "${B:+, B=$B}"
for format in txt escpos png; do
    once "$A" "$format" >/dev/null
    [ -n "$B" ] && once "$B" "$format" >/dev/null
    : >"$out/a"
    : >"$out/b"
    for _ in $(seq "$RUNS"); do
        once "$A" "$format" >>"$out/a"
        [ -n "$B" ] && once "$B" "$format" >>"$out/b"
    done
    a=$(median_ms <"$out/a")
    printf '%-8s %12s' "$format" "$a"
    if [ -n "$B" ]; then
        b=$(median_ms <"$out/b")
        printf ' %12s %8s' "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
    fi
    echo
done
