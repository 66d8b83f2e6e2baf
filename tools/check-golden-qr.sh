#!/bin/sh
# Dev-time check (not CI): decodes every QR code and barcode in the golden PNGs with zbarimg
# and fails if one does not decode. Needs `apt-get install zbar-tools`.
set -eu
cd "$(dirname "$0")/.."
status=0
for f in golden/*/*.png; do
    case "$f" in *.actual.png|*.diff.png) continue ;; esac
    out=$(zbarimg -q "$f" 2>/dev/null || true)
    case "$f" in
        golden/ticket/*|golden/self-test/*)
            if [ -z "$out" ]; then echo "NOT DECODED: $f"; status=1; else echo "$f: $out" | tr '\n' ' '; echo; fi ;;
        *) [ -z "$out" ] || echo "$f: $out" ;;
    esac
done
exit $status
