#!/bin/sh
# Builds jpeg_turbo.wasm, the TurboJPEG decoder of workers/ops/jpeg_scaled.ts, from libjpeg-turbo 2.1.5's source:
#   sh workers/codecs/build_jpeg_turbo.sh SOURCE_DIR [OUT]   (OUT: by default the committed jpeg_turbo.wasm)
# Needs emcc (3.1), cmake and make. Three changes to the source, all for speed:
# - the Huffman decoder's bit buffer is 64 bits wide, as on x32: WebAssembly has 64-bit integers, and the 32-bit
#   buffer (chosen because size_t is 32 bits) refills twice as often;
# - jpeg_turbo_simd.c, hand-written WebAssembly SIMD for the islow IDCT, h2v1/h2v2 fancy upsampling and YCbCr to
#   RGB(A), bit-exact with the C it replaces: it is appended to jsimd_none.c (the SIMD dispatch of a WITH_SIMD=0
#   build), whose stubs of those names are renamed away, so libjpeg-turbo's jsimd_can_* checks choose it;
# - -O3 -msimd128, so the compiler may use 128-bit SIMD where its loops allow.
# setjmp and longjmp are imports: jpeg_scaled.ts returns 0 from setjmp and throws from longjmp, so a fatal libjpeg
# error leaves the wasm call as a JavaScript exception and that instance is thrown away.
set -eu
# Debian's emcc finds its JavaScript tools (acorn) only through NODE_PATH.
[ -z "${NODE_PATH:-}" ] && [ -d /usr/share/nodejs ] && export NODE_PATH=/usr/share/nodejs
src=$(cd "$1" && pwd)
codecs=$(cd "$(dirname "$0")" && pwd)
out=${2:-$codecs/jpeg_turbo.wasm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/src"
sed -i 's/#elif defined(__x86_64__) \&\& defined(__ILP32__)$/#elif (defined(__x86_64__) \&\& defined(__ILP32__)) || defined(__wasm__)/' \
  "$work/src/jdhuff.h"
sed -i 's/^#if SIZEOF_SIZE_T == 8 || defined(_WIN64) || (defined(__x86_64__) \&\& defined(__ILP32__))$/& || defined(__wasm__)/' \
  "$work/src/jdhuff.c"
grep -q '__wasm__' "$work/src/jdhuff.h" && grep -q '__wasm__' "$work/src/jdhuff.c"
cp "$codecs/jpeg_turbo_simd.c" "$work/src/"
sed -i -E 's/^(jsimd_(can_)?(ycc_rgb|ycc_rgb_convert|h2v1_fancy_upsample|h2v2_fancy_upsample|idct_islow))\(/\1_none(/' \
  "$work/src/jsimd_none.c"
[ "$(grep -c '^jsimd_.*_none(' "$work/src/jsimd_none.c")" = 8 ]
echo '#include "jpeg_turbo_simd.c"' >>"$work/src/jsimd_none.c"
cat >"$work/imports.h" <<'H'
#include <setjmp.h>
#undef setjmp
#undef longjmp
__attribute__((import_module("env"), import_name("setjmp"))) int imported_setjmp(void *buf);
__attribute__((import_module("env"), import_name("longjmp"), noreturn)) void imported_longjmp(void *buf, int value);
#define setjmp(b) imported_setjmp(b)
#define longjmp(b, v) imported_longjmp(b, v)
H
mkdir "$work/build"
cd "$work/build"
emcmake cmake ../src -DWITH_SIMD=0 -DENABLE_SHARED=0 -DWITH_TURBOJPEG=1 -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="-O3 -msimd128 -include $work/imports.h" >cmake.log
# CMake's size probe runs under node and misreads size_t; wasm32's is 4 bytes.
sed -i 's/#define SIZEOF_SIZE_T .*/#define SIZEOF_SIZE_T  4/' jconfigint.h
emmake make -j2 turbojpeg-static >make.log
# A small start, as every worker holds one (the @cwasm build started at 128 KiB): memory grows with the first decode.
emcc -O3 -msimd128 libturbojpeg.a -o "$out" --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sFILESYSTEM=0 \
  -sTOTAL_STACK=65536 -sINITIAL_MEMORY=196608 -sERROR_ON_UNDEFINED_SYMBOLS=0 \
  -sEXPORTED_FUNCTIONS=_malloc,_free,_tjInitDecompress,_tjDestroy,_tjDecompressHeader3,_tjDecompress2
chmod 644 "$out"
echo "wrote $out"
