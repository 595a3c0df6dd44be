#!/bin/sh
# Builds mozjpeg.wasm, the JPEG encoder of workers/ops/jpeg_encode.ts, from MozJPEG 3.2's source (as the npm package
# mozjpeg@8.0.0 carries it in vendor/source/mozjpeg.tar.gz, SHA-256 8aecc1ec...; test/setup.sh unpacks it):
#   sh workers/codecs/build_mozjpeg.sh SOURCE_DIR [OUT]   (OUT: by default the committed mozjpeg.wasm)
# Needs emcc (3.1), make and git (to apply the patch). mozjpeg.patch changes how three hot loops are computed, never
# what they compute: the results are the same bytes as @jsquash/jpeg 1.6.0's build of MozJPEG 3.3.1 gives
# (test/workers/ops/jpeg_encode_test.ts):
# - the Huffman statistics pass walks only the nonzero coefficients (a mask made with SIMD compares, then count
#   trailing zeros) and takes bit lengths from a count of leading zeros, not a loop;
# - trellis quantisation tries as run starts only the positions whose coefficient is nonzero (a list kept as it
#   goes, in the same order), not every earlier position with a test, and computes pow(2, x) once, not per block;
# - -O3 -msimd128, and no getenv (JPEGMEM) in the memory manager.
set -eu
# Debian's emcc finds its JavaScript tools (acorn) only through NODE_PATH.
[ -z "${NODE_PATH:-}" ] && [ -d /usr/share/nodejs ] && export NODE_PATH=/usr/share/nodejs
src=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here/mozjpeg.wasm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# -p keeps the timestamps, so make does not try to rerun autotools.
cp -pr "$src" "$work/src"
cd "$work/src"
git apply "$here/mozjpeg.patch"
# The host only has to be one configure knows; emcc decides the target. -DNO_GETENV: no environment in the module.
emconfigure ./configure --host=i686-pc-linux-gnu --without-simd --disable-shared --enable-static --without-turbojpeg \
  --without-java CFLAGS="-O3 -msimd128 -DNO_GETENV" >configure.log 2>&1
# The build date would make every build differ.
sed -i 's/^#define BUILD .*/#define BUILD "imgserve"/' jconfigint.h
emmake make -j2 libjpeg.la >make.log 2>&1
emcc -O3 -msimd128 -I. "$here/jpeg_encode.c" rdswitch.c .libs/libjpeg.a -o "$out" --no-entry -sSTANDALONE_WASM \
  -sALLOW_MEMORY_GROWTH -sFILESYSTEM=0 -sTOTAL_STACK=65536 -sINITIAL_MEMORY=327680 -sERROR_ON_UNDEFINED_SYMBOLS=0 \
  -sEXPORTED_FUNCTIONS=_malloc,_free,_encode_rgba 2>&1 | { grep -v "undefined symbol: jpeg_failed" || true; } >&2
chmod 644 "$out"
echo "wrote $out"
