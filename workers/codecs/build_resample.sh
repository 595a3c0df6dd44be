#!/bin/sh
# Builds resample.wasm, the SIMD inner loops of workers/ops/lanczos.ts and of the box shrink, from resample.c:
#   sh workers/codecs/build_resample.sh [OUT]   (OUT: by default the committed resample.wasm)
# Needs emcc (3.1). No JavaScript glue, no malloc: lanczos.ts lays out the memory and grows it. A 16 KiB stack and
# the gamma tables make its start; it grows with the width of the rows it filters.
set -eu
# Debian's emcc finds its JavaScript tools (acorn) only through NODE_PATH.
[ -z "${NODE_PATH:-}" ] && [ -d /usr/share/nodejs ] && export NODE_PATH=/usr/share/nodejs
dir=$(cd "$(dirname "$0")" && pwd)
out=${1:-$dir/resample.wasm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
emcc -O3 -msimd128 "$dir/resample.c" -o "$work/resample.wasm" --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH \
  -sFILESYSTEM=0 -sTOTAL_STACK=16384 -sINITIAL_MEMORY=131072 \
  -sEXPORTED_FUNCTIONS=_linear_table,_unit_table,_srgb_table,_filter_row,_filter_down,_box_add_row,_box_out
cp "$work/resample.wasm" "$out"
chmod 644 "$out"
echo "wrote $out"
