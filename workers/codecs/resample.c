/*
 * The inner loops of workers/ops/lanczos.ts in 128-bit WebAssembly SIMD: one source row filtered across into the
 * ring, one result row filtered down from it. The taps, the gamma tables and the layout of the memory are set by
 * lanczos.ts; nothing here allocates.
 *
 * A pixel is one f32x4 vector across: R, G, B and 0 (opaque) or R, G, B, A premultiplied (alpha). An opaque ring row
 * keeps 3 floats a pixel, each vector stored over the next pixel's first lane, so the pass down reads no unused lane.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define LINEAR_STEPS 65535

/* Filled by lanczos.ts, as its TypeScript computed them. */
static float to_linear[256];
static float to_unit[256];
static uint8_t to_srgb[LINEAR_STEPS + 1];

float *linear_table(void) { return to_linear; }
float *unit_table(void) { return to_unit; }
uint8_t *srgb_table(void) { return to_srgb; }

/*
 * `in_width` RGBA pixels of `src` into `line` in linear light, then filtered across onto `out_width` pixels of `dst`
 * (`first`, `count`, `weights`: each result pixel's first source pixel, tap count and `span` weights).
 */
void filter_row(const uint8_t *src, int in_width, v128_t *line, int alpha, const int32_t *first,
                const int32_t *count, const float *weights, int span, int out_width, float *dst) {
  if (alpha) {
    for (int x = 0; x < in_width; x++, src += 4) {
      v128_t colour = wasm_f32x4_make(to_linear[src[0]], to_linear[src[1]], to_linear[src[2]], 1.0f);
      line[x] = wasm_f32x4_mul(colour, wasm_f32x4_splat(to_unit[src[3]]));
    }
  } else {
    for (int x = 0; x < in_width; x++, src += 4) {
      line[x] = wasm_f32x4_make(to_linear[src[0]], to_linear[src[1]], to_linear[src[2]], 0.0f);
    }
  }
  const int step = alpha ? 4 : 3;
  for (int x = 0; x < out_width; x++, weights += span, dst += step) {
    const v128_t *p = line + first[x];
    const int n = count[x];
    // Two sums, so each addition need not wait for the one before.
    v128_t a = wasm_f32x4_splat(0.0f), b = a;
    int k = 0;
    for (; k + 1 < n; k += 2) {
      a = wasm_f32x4_add(a, wasm_f32x4_mul(p[k], wasm_v128_load32_splat(weights + k)));
      b = wasm_f32x4_add(b, wasm_f32x4_mul(p[k + 1], wasm_v128_load32_splat(weights + k + 1)));
    }
    if (k < n) a = wasm_f32x4_add(a, wasm_f32x4_mul(p[k], wasm_v128_load32_splat(weights + k)));
    wasm_v128_store(dst, wasm_f32x4_add(a, b));
  }
}

/* A linear value's index in the sRGB table, four at a time; Lanczos overshoots are clipped. */
static inline v128_t level(v128_t v) {
  v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f)), wasm_f32x4_splat(1.0f));
  v = wasm_f32x4_add(wasm_f32x4_mul(v, wasm_f32x4_splat((float)LINEAR_STEPS)), wasm_f32x4_splat(0.5f));
  return wasm_i32x4_trunc_sat_f32x4(v);
}

/* Four floats at `i` of the `n` rows, weighted; two sums, as across. */
static inline v128_t column_sum(const float **rows, int n, int i, const float *weights) {
  v128_t a = wasm_f32x4_splat(0.0f), b = a;
  int k = 0;
  for (; k + 1 < n; k += 2) {
    a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(rows[k] + i), wasm_v128_load32_splat(weights + k)));
    b = wasm_f32x4_add(b, wasm_f32x4_mul(wasm_v128_load(rows[k + 1] + i), wasm_v128_load32_splat(weights + k + 1)));
  }
  if (k < n) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(rows[k] + i), wasm_v128_load32_splat(weights + k)));
  return wasm_f32x4_add(a, b);
}

/*
 * Result row of `width` pixels into `out` (RGBA bytes) from the `n` ring rows from `top` (ring rows of `row_floats`
 * floats, a multiple of 4, `span` of them), weighted by `weights`. `rows` holds `span` pointers, `scratch`
 * `row_floats` int32s.
 */
void filter_down(const float *ring, int row_floats, int span, int top, int n, const float *weights, int width,
                 int alpha, const float **rows, int32_t *scratch, uint8_t *out) {
  for (int k = 0; k < n; k++) rows[k] = ring + ((top + k) % span) * row_floats;
  if (!alpha) {
    for (int i = 0; i < row_floats; i += 4) {
      wasm_v128_store(scratch + i, level(column_sum(rows, n, i, weights)));
    }
    for (int x = 0; x < width; x++, out += 4, scratch += 3) {
      out[0] = to_srgb[scratch[0]];
      out[1] = to_srgb[scratch[1]];
      out[2] = to_srgb[scratch[2]];
      out[3] = 255;
    }
    return;
  }
  for (int x = 0; x < width; x++, out += 4) {
    const int i = x * 4;
    v128_t sum = column_sum(rows, n, i, weights);
    const float alpha_sum = wasm_f32x4_extract_lane(sum, 3);
    if (alpha_sum <= 0) {
      // Transparent black.
      out[0] = out[1] = out[2] = out[3] = 0;
      continue;
    }
    const float keep = alpha_sum >= 1 ? 1 : 1 / alpha_sum;
    v128_t index = level(wasm_f32x4_mul(sum, wasm_f32x4_splat(keep)));
    out[0] = to_srgb[wasm_i32x4_extract_lane(index, 0)];
    out[1] = to_srgb[wasm_i32x4_extract_lane(index, 1)];
    out[2] = to_srgb[wasm_i32x4_extract_lane(index, 2)];
    // As a Uint8ClampedArray stores it: clipped, halves to even.
    const double level255 = alpha_sum * 255.0;
    out[3] = level255 >= 255.0 ? 255 : (uint8_t)__builtin_nearbyint(level255);
  }
}

/* Adds one source row's blocks of `fx` RGBA pixels into `sums` (four int32s a result pixel). */
void box_add_row(const uint8_t *src, int width, int fx, v128_t *sums) {
  for (int x = 0; x < width; x++) {
    v128_t sum = wasm_i32x4_splat(0);
    for (int k = 0; k < fx; k++, src += 4) {
      v128_t pixel = wasm_v128_load32_zero(src);
      sum = wasm_i32x4_add(sum, wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(pixel)));
    }
    sums[x] = wasm_i32x4_add(sums[x], sum);
  }
}

/*
 * `width` result pixels from `sums` of `area` source pixels each, as pixels.ts's JavaScript made them (the sum plus
 * half the area, divided, stored as a Uint8ClampedArray rounds: halves to even), and the sums set back to 0.
 */
void box_out(v128_t *sums, int width, int area, uint8_t *out) {
  const v128_t half = wasm_i32x4_splat(area >> 1);
  const v128_t divisor = wasm_f64x2_splat(area);
  for (int x = 0; x < width; x++, out += 4) {
    v128_t s = wasm_i32x4_add(sums[x], half);
    v128_t low = wasm_f64x2_nearest(wasm_f64x2_div(wasm_f64x2_convert_low_i32x4(s), divisor));
    v128_t high = wasm_f64x2_nearest(
        wasm_f64x2_div(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(s, s, 2, 3, 0, 1)), divisor));
    v128_t levels = wasm_i32x4_shuffle(wasm_i32x4_trunc_sat_f64x2_zero(low), wasm_i32x4_trunc_sat_f64x2_zero(high),
                                       0, 1, 4, 5);
    v128_t words = wasm_u16x8_narrow_i32x4(levels, levels);
    wasm_v128_store32_lane(out, wasm_u8x16_narrow_i16x8(words, words), 0);
    sums[x] = wasm_i32x4_splat(0);
  }
}
