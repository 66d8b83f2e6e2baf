#!/bin/sh
# Makes the receipt subsets of DejaVu Sans Mono that src/render/font.rs draws from first (fontdue parses a
# font whole: the subset takes about 1 ms, the whole font about 10). Needs fontTools (`pip install fonttools`).
# The subset keeps the outlines and metrics of what it holds; the font's tests check that each glyph draws
# the same from the subset as from the whole font.
set -e
cd "$(dirname "$0")"
RANGES="U+0020-007E,U+00A0-00FF,U+0400-04FF,U+2010-2044,U+20A0-20BF,U+2116,U+2122,U+2212"
for w in "" "-Bold"; do
    pyftsubset "DejaVuSansMono$w.ttf" --unicodes="$RANGES" --layout-features='' --no-hinting \
        --output-file="DejaVuSansMono$w-receipt.ttf"
done
