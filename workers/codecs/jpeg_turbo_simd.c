/*
 * WebAssembly SIMD versions of libjpeg-turbo 2.1.5's three hottest decode steps at full scale, bit-exact with
 * the C code they replace (jidctint.c jpeg_idct_islow, jdsample.c h2v1/h2v2_fancy_upsample, jdcolext.c
 * ycc_rgb_convert_internal). build_jpeg_turbo.sh appends this file to jsimd_none.c, whose stubs of the same
 * names it renames, so libjpeg-turbo's own jsimd_can_* dispatch picks these up.
 *
 * Exact by construction: every lane does the C code's arithmetic in the C code's types (JLONG is 32 bits on
 * wasm32, so i32x4 wraps where the C wraps), including the short cuts the C takes for zero AC terms, and the
 * range-limit tables are replaced by the clamps they encode. Loads and stores stay inside the bytes the C code
 * reads and writes; the columns a whole vector does not cover go through the C formulas one by one.
 */

#include <string.h>
#include <wasm_simd128.h>

/* ---- YCbCr -> RGB(A): jdcolext.c ycc_rgb_convert_internal, tables of build_ycc_rgb_table ---- */

#define YCC_SCALEBITS 16
#define YCC_ONE_HALF ((JLONG)1 << (YCC_SCALEBITS - 1))
#define YCC_FIX(x) ((JLONG)((x) * (1L << YCC_SCALEBITS) + 0.5))

GLOBAL(int)
jsimd_can_ycc_rgb(void)
{
  return BITS_IN_JSAMPLE == 8 && sizeof(JLONG) == 4;
}

/* y + chroma term for eight pixels, clamped to 0..255 as range_limit[] does (the sum is within -256..511). */
static inline v128_t ycc_add(v128_t y16, v128_t lo, v128_t hi)
{
  return wasm_i16x8_add(y16, wasm_i16x8_narrow_i32x4(lo, hi));
}

/* The four i32 lanes of an i16x8 half, widened. */
#define LO32(v) wasm_i32x4_extend_low_i16x8(v)
#define HI32(v) wasm_i32x4_extend_high_i16x8(v)

/* (x * c + ONE_HALF) >> 16 for x = Cb or Cr - 128 (the Cr_r and Cb_b tables). */
static inline v128_t ycc_term(v128_t x32, JLONG c)
{
  return wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_mul(x32, wasm_i32x4_splat(c)), wasm_i32x4_splat(YCC_ONE_HALF)),
                        YCC_SCALEBITS);
}

/* (Cb_g[cb] + Cr_g[cr]) >> 16. */
static inline v128_t ycc_green(v128_t cb32, v128_t cr32)
{
  v128_t sum = wasm_i32x4_add(wasm_i32x4_mul(cb32, wasm_i32x4_splat(-YCC_FIX(0.34414))),
                              wasm_i32x4_add(wasm_i32x4_mul(cr32, wasm_i32x4_splat(-YCC_FIX(0.71414))),
                                             wasm_i32x4_splat(YCC_ONE_HALF)));
  return wasm_i32x4_shr(sum, YCC_SCALEBITS);
}

/* R, G and B of the eight pixels in the u16 lanes of y, cb and cr, as i16x8 before clamping. */
static inline void ycc_eight(v128_t y, v128_t cb, v128_t cr, v128_t *r, v128_t *g, v128_t *b)
{
  v128_t center = wasm_i16x8_splat(CENTERJSAMPLE);
  cb = wasm_i16x8_sub(cb, center);
  cr = wasm_i16x8_sub(cr, center);
  v128_t cb0 = LO32(cb), cb1 = HI32(cb), cr0 = LO32(cr), cr1 = HI32(cr);
  *r = ycc_add(y, ycc_term(cr0, YCC_FIX(1.40200)), ycc_term(cr1, YCC_FIX(1.40200)));
  *g = ycc_add(y, ycc_green(cb0, cr0), ycc_green(cb1, cr1));
  *b = ycc_add(y, ycc_term(cb0, YCC_FIX(1.77200)), ycc_term(cb1, YCC_FIX(1.77200)));
}

/* One pixel the way the C code computes it. */
static inline void ycc_one(int y, int cb, int cr, JSAMPLE *out, int red, int green, int blue)
{
  JLONG x_cb = cb - CENTERJSAMPLE, x_cr = cr - CENTERJSAMPLE;
  int r = y + (int)((YCC_FIX(1.40200) * x_cr + YCC_ONE_HALF) >> YCC_SCALEBITS);
  int g = y + (int)((-YCC_FIX(0.34414) * x_cb + YCC_ONE_HALF + -YCC_FIX(0.71414) * x_cr) >> YCC_SCALEBITS);
  int b = y + (int)((YCC_FIX(1.77200) * x_cb + YCC_ONE_HALF) >> YCC_SCALEBITS);
  out[red] = (JSAMPLE)(r < 0 ? 0 : r > MAXJSAMPLE ? MAXJSAMPLE : r);
  out[green] = (JSAMPLE)(g < 0 ? 0 : g > MAXJSAMPLE ? MAXJSAMPLE : g);
  out[blue] = (JSAMPLE)(b < 0 ? 0 : b > MAXJSAMPLE ? MAXJSAMPLE : b);
}

GLOBAL(void)
jsimd_ycc_rgb_convert(j_decompress_ptr cinfo, JSAMPIMAGE input_buf, JDIMENSION input_row, JSAMPARRAY output_buf,
                      int num_rows)
{
  const int red = rgb_red[cinfo->out_color_space], green = rgb_green[cinfo->out_color_space];
  const int blue = rgb_blue[cinfo->out_color_space], size = rgb_pixelsize[cinfo->out_color_space];
  /* The byte the C code sets to MAXJSAMPLE in four-byte pixels. */
  const int alpha = 6 - red - green - blue;
  const JDIMENSION num_cols = cinfo->output_width;
  const v128_t opaque = wasm_i8x16_splat((char)MAXJSAMPLE);

  while (--num_rows >= 0) {
    const JSAMPLE *in0 = input_buf[0][input_row], *in1 = input_buf[1][input_row], *in2 = input_buf[2][input_row];
    JSAMPLE *out = *output_buf++;
    JDIMENSION col = 0;
    input_row++;
    for (; size == 4 && col + 16 <= num_cols; col += 16) {
      v128_t y = wasm_v128_load(in0 + col), cb = wasm_v128_load(in1 + col), cr = wasm_v128_load(in2 + col);
      v128_t r0, g0, b0, r1, g1, b1;
      ycc_eight(wasm_u16x8_extend_low_u8x16(y), wasm_u16x8_extend_low_u8x16(cb), wasm_u16x8_extend_low_u8x16(cr),
                &r0, &g0, &b0);
      ycc_eight(wasm_u16x8_extend_high_u8x16(y), wasm_u16x8_extend_high_u8x16(cb),
                wasm_u16x8_extend_high_u8x16(cr), &r1, &g1, &b1);
      v128_t plane[4];
      plane[red] = wasm_u8x16_narrow_i16x8(r0, r1);
      plane[green] = wasm_u8x16_narrow_i16x8(g0, g1);
      plane[blue] = wasm_u8x16_narrow_i16x8(b0, b1);
      plane[alpha] = opaque;
      v128_t p01l = wasm_i8x16_shuffle(plane[0], plane[1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      v128_t p01h =
        wasm_i8x16_shuffle(plane[0], plane[1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      v128_t p23l = wasm_i8x16_shuffle(plane[2], plane[3], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      v128_t p23h =
        wasm_i8x16_shuffle(plane[2], plane[3], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      JSAMPLE *o = out + col * 4;
      wasm_v128_store(o, wasm_i16x8_shuffle(p01l, p23l, 0, 8, 1, 9, 2, 10, 3, 11));
      wasm_v128_store(o + 16, wasm_i16x8_shuffle(p01l, p23l, 4, 12, 5, 13, 6, 14, 7, 15));
      wasm_v128_store(o + 32, wasm_i16x8_shuffle(p01h, p23h, 0, 8, 1, 9, 2, 10, 3, 11));
      wasm_v128_store(o + 48, wasm_i16x8_shuffle(p01h, p23h, 4, 12, 5, 13, 6, 14, 7, 15));
    }
    for (; col < num_cols; col++) {
      ycc_one(in0[col], in1[col], in2[col], out + col * size, red, green, blue);
      if (size == 4)
        out[col * 4 + alpha] = MAXJSAMPLE;
    }
  }
}

/* ---- Fancy upsampling: jdsample.c h2v1_fancy_upsample and h2v2_fancy_upsample ---- */

GLOBAL(int)
jsimd_can_h2v1_fancy_upsample(void)
{
  return BITS_IN_JSAMPLE == 8;
}

GLOBAL(int)
jsimd_can_h2v2_fancy_upsample(void)
{
  return BITS_IN_JSAMPLE == 8;
}

/* Stores the even outputs (lanes of even0, even1) and the odd ones interleaved: 32 bytes. */
static inline void store_pairs(JSAMPLE *out, v128_t even0, v128_t even1, v128_t odd0, v128_t odd1)
{
  v128_t even = wasm_u8x16_narrow_i16x8(even0, even1), odd = wasm_u8x16_narrow_i16x8(odd0, odd1);
  wasm_v128_store(out, wasm_i8x16_shuffle(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
  wasm_v128_store(out + 16,
                  wasm_i8x16_shuffle(even, odd, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
}

/*
 * The triangle filter on sixteen columns, each in two u16x8 halves: out[2c] = (3 * near + before + even_bias) >>
 * shift, out[2c + 1] = (3 * near + after + odd_bias) >> shift, stored as 32 bytes.
 */
static inline void triangle(JSAMPLE *out, v128_t near0, v128_t near1, v128_t before0, v128_t before1, v128_t after0,
                            v128_t after1, v128_t even_bias, v128_t odd_bias, int shift)
{
  near0 = wasm_i16x8_add(near0, wasm_i16x8_shl(near0, 1));
  near1 = wasm_i16x8_add(near1, wasm_i16x8_shl(near1, 1));
  store_pairs(out, wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(near0, before0), even_bias), shift),
              wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(near1, before1), even_bias), shift),
              wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(near0, after0), odd_bias), shift),
              wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(near1, after1), odd_bias), shift));
}

GLOBAL(void)
jsimd_h2v1_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr, JSAMPARRAY input_data,
                          JSAMPARRAY *output_data_ptr)
{
  JSAMPARRAY output_data = *output_data_ptr;
  const JDIMENSION width = compptr->downsampled_width; /* > 2: jinit_upsampler checks */
  const v128_t one = wasm_i16x8_splat(1), two = wasm_i16x8_splat(2);
  int inrow;

  for (inrow = 0; inrow < cinfo->max_v_samp_factor; inrow++) {
    const JSAMPLE *in = input_data[inrow];
    JSAMPLE *out = output_data[inrow];
    JDIMENSION col;
    int invalue = in[0];
    out[0] = (JSAMPLE)invalue;
    out[1] = (JSAMPLE)((invalue * 3 + in[1] + 2) >> 2);
    /* Columns col..col+15 read in[col - 1 .. col + 16]. */
    for (col = 1; col + 16 < width; col += 16) {
      v128_t prev = wasm_v128_load(in + col - 1), here = wasm_v128_load(in + col), next = wasm_v128_load(in + col + 1);
      triangle(out + 2 * col, wasm_u16x8_extend_low_u8x16(here), wasm_u16x8_extend_high_u8x16(here),
               wasm_u16x8_extend_low_u8x16(prev), wasm_u16x8_extend_high_u8x16(prev), wasm_u16x8_extend_low_u8x16(next),
               wasm_u16x8_extend_high_u8x16(next), one, two, 2);
    }
    for (; col < width - 1; col++) {
      invalue = in[col] * 3;
      out[2 * col] = (JSAMPLE)((invalue + in[col - 1] + 1) >> 2);
      out[2 * col + 1] = (JSAMPLE)((invalue + in[col + 1] + 2) >> 2);
    }
    invalue = in[width - 1];
    out[2 * width - 2] = (JSAMPLE)((invalue * 3 + in[width - 2] + 1) >> 2);
    out[2 * width - 1] = (JSAMPLE)invalue;
  }
}

/* 3 * nearer + further for the u8 lanes of near and far, as two u16x8 halves. */
static inline void colsum(const JSAMPLE *near, const JSAMPLE *far, v128_t *lo, v128_t *hi)
{
  v128_t a = wasm_v128_load(near), b = wasm_v128_load(far);
  v128_t a0 = wasm_u16x8_extend_low_u8x16(a), a1 = wasm_u16x8_extend_high_u8x16(a);
  *lo = wasm_i16x8_add(wasm_i16x8_add(a0, wasm_i16x8_shl(a0, 1)), wasm_u16x8_extend_low_u8x16(b));
  *hi = wasm_i16x8_add(wasm_i16x8_add(a1, wasm_i16x8_shl(a1, 1)), wasm_u16x8_extend_high_u8x16(b));
}

GLOBAL(void)
jsimd_h2v2_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr, JSAMPARRAY input_data,
                          JSAMPARRAY *output_data_ptr)
{
  JSAMPARRAY output_data = *output_data_ptr;
  const JDIMENSION width = compptr->downsampled_width; /* > 2: jinit_upsampler checks */
  const v128_t seven = wasm_i16x8_splat(7), eight = wasm_i16x8_splat(8);
  int inrow = 0, outrow = 0, v;

  while (outrow < cinfo->max_v_samp_factor) {
    for (v = 0; v < 2; v++) {
      /* in0: the nearest input row; in1: the next nearest, above for the first output row, below for the second. */
      const JSAMPLE *in0 = input_data[inrow], *in1 = input_data[v == 0 ? inrow - 1 : inrow + 1];
      JSAMPLE *out = output_data[outrow++];
      JDIMENSION col;
      int thiscolsum = in0[0] * 3 + in1[0], nextcolsum = in0[1] * 3 + in1[1], lastcolsum;
      out[0] = (JSAMPLE)((thiscolsum * 4 + 8) >> 4);
      out[1] = (JSAMPLE)((thiscolsum * 3 + nextcolsum + 7) >> 4);
      /* Columns col..col+15 read col - 1 .. col + 16 of both rows. */
      for (col = 1; col + 16 < width; col += 16) {
        v128_t last0, last1, this0, this1, next0, next1;
        colsum(in0 + col - 1, in1 + col - 1, &last0, &last1);
        colsum(in0 + col, in1 + col, &this0, &this1);
        colsum(in0 + col + 1, in1 + col + 1, &next0, &next1);
        triangle(out + 2 * col, this0, this1, last0, last1, next0, next1, eight, seven, 4);
      }
      lastcolsum = in0[col - 1] * 3 + in1[col - 1];
      thiscolsum = in0[col] * 3 + in1[col];
      for (; col < width - 1; col++) {
        nextcolsum = in0[col + 1] * 3 + in1[col + 1];
        out[2 * col] = (JSAMPLE)((thiscolsum * 3 + lastcolsum + 8) >> 4);
        out[2 * col + 1] = (JSAMPLE)((thiscolsum * 3 + nextcolsum + 7) >> 4);
        lastcolsum = thiscolsum;
        thiscolsum = nextcolsum;
      }
      out[2 * width - 2] = (JSAMPLE)((thiscolsum * 3 + lastcolsum + 8) >> 4);
      out[2 * width - 1] = (JSAMPLE)((thiscolsum * 4 + 7) >> 4);
    }
    inrow++;
  }
}

/* ---- Accurate integer IDCT: jidctint.c jpeg_idct_islow ---- */

#define ISLOW_CONST_BITS 13
#define ISLOW_PASS1_BITS 2
#define DEQUANTIZE(coef, quantval) (((ISLOW_MULT_TYPE)(coef)) * (quantval))

GLOBAL(int)
jsimd_can_idct_islow(void)
{
  return BITS_IN_JSAMPLE == 8 && DCTSIZE == 8 && sizeof(JCOEF) == 2 && sizeof(ISLOW_MULT_TYPE) == 4 &&
         sizeof(JLONG) == 4;
}

#define I32(c) wasm_i32x4_splat(c)
#define ADD wasm_i32x4_add
#define SUB wasm_i32x4_sub
#define MUL wasm_i32x4_mul

/*
 * The 1-D transform of jpeg_idct_islow on four lanes: in[0..7] are the eight inputs (coefficients 0..7 of a
 * column or a row), out[0..7] the eight results before DESCALE's shift, with its rounding already added.
 */
static inline void islow_1d(const v128_t in[8], v128_t out[8], JLONG rounding)
{
  v128_t z2 = in[2], z3 = in[6];
  v128_t z1 = MUL(ADD(z2, z3), I32(4433));                /* FIX_0_541196100 */
  v128_t tmp2 = ADD(z1, MUL(z3, I32(-15137)));            /* -FIX_1_847759065 */
  v128_t tmp3 = ADD(z1, MUL(z2, I32(6270)));              /* FIX_0_765366865 */
  v128_t tmp0 = wasm_i32x4_shl(ADD(in[0], in[4]), ISLOW_CONST_BITS);
  v128_t tmp1 = wasm_i32x4_shl(SUB(in[0], in[4]), ISLOW_CONST_BITS);
  /* DESCALE's rounding goes into the even part, which every output adds. */
  tmp0 = ADD(tmp0, I32(rounding));
  tmp1 = ADD(tmp1, I32(rounding));
  v128_t tmp10 = ADD(tmp0, tmp3), tmp13 = SUB(tmp0, tmp3), tmp11 = ADD(tmp1, tmp2), tmp12 = SUB(tmp1, tmp2);

  tmp0 = in[7];
  tmp1 = in[5];
  tmp2 = in[3];
  tmp3 = in[1];
  z1 = ADD(tmp0, tmp3);
  z2 = ADD(tmp1, tmp2);
  z3 = ADD(tmp0, tmp2);
  v128_t z4 = ADD(tmp1, tmp3);
  v128_t z5 = MUL(ADD(z3, z4), I32(9633));                /* FIX_1_175875602 */
  tmp0 = MUL(tmp0, I32(2446));                            /* FIX_0_298631336 */
  tmp1 = MUL(tmp1, I32(16819));                           /* FIX_2_053119869 */
  tmp2 = MUL(tmp2, I32(25172));                           /* FIX_3_072711026 */
  tmp3 = MUL(tmp3, I32(12299));                           /* FIX_1_501321110 */
  z1 = MUL(z1, I32(-7373));                               /* -FIX_0_899976223 */
  z2 = MUL(z2, I32(-20995));                              /* -FIX_2_562915447 */
  z3 = ADD(MUL(z3, I32(-16069)), z5);                     /* -FIX_1_961570560 */
  z4 = ADD(MUL(z4, I32(-3196)), z5);                      /* -FIX_0_390180644 */
  tmp0 = ADD(tmp0, ADD(z1, z3));
  tmp1 = ADD(tmp1, ADD(z2, z4));
  tmp2 = ADD(tmp2, ADD(z2, z3));
  tmp3 = ADD(tmp3, ADD(z1, z4));

  out[0] = ADD(tmp10, tmp3);
  out[7] = SUB(tmp10, tmp3);
  out[1] = ADD(tmp11, tmp2);
  out[6] = SUB(tmp11, tmp2);
  out[2] = ADD(tmp12, tmp1);
  out[5] = SUB(tmp12, tmp1);
  out[3] = ADD(tmp13, tmp0);
  out[4] = SUB(tmp13, tmp0);
}

/* Transposes the 4x4 i32 block a, b, c, d in place. */
static inline void transpose4(v128_t *a, v128_t *b, v128_t *c, v128_t *d)
{
  v128_t ab0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), ab1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  v128_t cd0 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), cd1 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i64x2_shuffle(ab0, cd0, 0, 2);
  *b = wasm_i64x2_shuffle(ab0, cd0, 1, 3);
  *c = wasm_i64x2_shuffle(ab1, cd1, 0, 2);
  *d = wasm_i64x2_shuffle(ab1, cd1, 1, 3);
}

/* range_limit[x & RANGE_MASK] of the IDCT table: x's low 10 bits as a signed number, plus 128, clamped. */
static inline v128_t islow_limit(v128_t x)
{
  return ADD(wasm_i32x4_shr(wasm_i32x4_shl(x, 22), 22), I32(CENTERJSAMPLE));
}

GLOBAL(void)
jsimd_idct_islow(j_decompress_ptr cinfo, jpeg_component_info *compptr, JCOEFPTR coef_block, JSAMPARRAY output_buf,
                 JDIMENSION output_col)
{
  const ISLOW_MULT_TYPE *quant = (const ISLOW_MULT_TYPE *)compptr->dct_table;
  v128_t rows[8], ac = wasm_i64x2_splat(0);
  int i;

  for (i = 0; i < 8; i++) {
    rows[i] = wasm_v128_load(coef_block + 8 * i);
    if (i > 0)
      ac = wasm_v128_or(ac, rows[i]);
  }
  /* No AC coefficient at all (common in flat areas): every column but the first short-cuts to 0 in pass 1 and
   * every row to its first value in pass 2, so the block is one value. */
  if (!wasm_v128_any_true(wasm_v128_or(ac, wasm_i16x8_replace_lane(rows[0], 0, 0)))) {
    JLONG dc = LEFT_SHIFT(DEQUANTIZE(coef_block[0], quant[0]), ISLOW_PASS1_BITS);
    JSAMPLE *range_limit = IDCT_range_limit(cinfo);
    JSAMPLE value = range_limit[(int)DESCALE(dc, ISLOW_PASS1_BITS + 3) & RANGE_MASK];
    for (i = 0; i < 8; i++)
      memset(output_buf[i] + output_col, value, 8);
    return;
  }

  /* Pass 1, columns in lanes: halves 0 (columns 0-3) and 1 (columns 4-7). A column whose AC terms are all zero
   * takes the C code's short cut, DC << PASS1_BITS. */
  v128_t zero_ac16 = wasm_i16x8_eq(ac, wasm_i64x2_splat(0));
  v128_t ws[2][8];
  for (int half = 0; half < 2; half++) {
    v128_t in[8], out[8];
    for (i = 0; i < 8; i++) {
      v128_t coef = half == 0 ? wasm_i32x4_extend_low_i16x8(rows[i]) : wasm_i32x4_extend_high_i16x8(rows[i]);
      in[i] = MUL(coef, wasm_v128_load(quant + 8 * i + 4 * half));
    }
    islow_1d(in, out, (JLONG)1 << (ISLOW_CONST_BITS - ISLOW_PASS1_BITS - 1));
    v128_t zero_ac =
      half == 0 ? wasm_i32x4_extend_low_i16x8(zero_ac16) : wasm_i32x4_extend_high_i16x8(zero_ac16);
    v128_t dc = wasm_i32x4_shl(in[0], ISLOW_PASS1_BITS);
    for (i = 0; i < 8; i++)
      ws[half][i] = wasm_v128_bitselect(dc, wasm_i32x4_shr(out[i], ISLOW_CONST_BITS - ISLOW_PASS1_BITS), zero_ac);
  }

  /* Pass 2, rows in lanes: t[k] holds element k of rows 0-3 (r = 0) or 4-7 (r = 1). */
  v128_t res16[8];
  v128_t res[2][8];
  for (int r = 0; r < 2; r++) {
    v128_t t[8], out[8];
    for (i = 0; i < 4; i++) {
      t[i] = ws[0][4 * r + i];
      t[4 + i] = ws[1][4 * r + i];
    }
    transpose4(&t[0], &t[1], &t[2], &t[3]);
    transpose4(&t[4], &t[5], &t[6], &t[7]);
    v128_t row_ac = wasm_v128_or(wasm_v128_or(wasm_v128_or(t[1], t[2]), wasm_v128_or(t[3], t[4])),
                                 wasm_v128_or(wasm_v128_or(t[5], t[6]), t[7]));
    v128_t zero_ac = wasm_i32x4_eq(row_ac, I32(0));
    islow_1d(t, out, (JLONG)1 << (ISLOW_CONST_BITS + ISLOW_PASS1_BITS + 3 - 1));
    v128_t dc = wasm_i32x4_shr(ADD(t[0], I32(1 << (ISLOW_PASS1_BITS + 3 - 1))), ISLOW_PASS1_BITS + 3);
    for (i = 0; i < 8; i++) {
      v128_t full = wasm_i32x4_shr(out[i], ISLOW_CONST_BITS + ISLOW_PASS1_BITS + 3);
      res[r][i] = islow_limit(wasm_v128_bitselect(dc, full, zero_ac));
    }
  }
  /* res[r][k]: output column k of rows 4r..4r+3. Narrow to i16 (column k of rows 0-7), then transpose 8x8. */
  for (i = 0; i < 8; i++)
    res16[i] = wasm_i16x8_narrow_i32x4(res[0][i], res[1][i]);
  v128_t a0 = wasm_i16x8_shuffle(res16[0], res16[1], 0, 8, 1, 9, 2, 10, 3, 11);
  v128_t a1 = wasm_i16x8_shuffle(res16[0], res16[1], 4, 12, 5, 13, 6, 14, 7, 15);
  v128_t a2 = wasm_i16x8_shuffle(res16[2], res16[3], 0, 8, 1, 9, 2, 10, 3, 11);
  v128_t a3 = wasm_i16x8_shuffle(res16[2], res16[3], 4, 12, 5, 13, 6, 14, 7, 15);
  v128_t a4 = wasm_i16x8_shuffle(res16[4], res16[5], 0, 8, 1, 9, 2, 10, 3, 11);
  v128_t a5 = wasm_i16x8_shuffle(res16[4], res16[5], 4, 12, 5, 13, 6, 14, 7, 15);
  v128_t a6 = wasm_i16x8_shuffle(res16[6], res16[7], 0, 8, 1, 9, 2, 10, 3, 11);
  v128_t a7 = wasm_i16x8_shuffle(res16[6], res16[7], 4, 12, 5, 13, 6, 14, 7, 15);
  /* a0: rows 0-3 of columns 0,1; a1: rows 4-7 of columns 0,1; a2/a3: columns 2,3; ... */
  v128_t b0 = wasm_i32x4_shuffle(a0, a2, 0, 4, 1, 5); /* rows 0,1 of columns 0-3 */
  v128_t b1 = wasm_i32x4_shuffle(a0, a2, 2, 6, 3, 7); /* rows 2,3 */
  v128_t b2 = wasm_i32x4_shuffle(a1, a3, 0, 4, 1, 5); /* rows 4,5 */
  v128_t b3 = wasm_i32x4_shuffle(a1, a3, 2, 6, 3, 7); /* rows 6,7 */
  v128_t b4 = wasm_i32x4_shuffle(a4, a6, 0, 4, 1, 5); /* the same for columns 4-7 */
  v128_t b5 = wasm_i32x4_shuffle(a4, a6, 2, 6, 3, 7);
  v128_t b6 = wasm_i32x4_shuffle(a5, a7, 0, 4, 1, 5);
  v128_t b7 = wasm_i32x4_shuffle(a5, a7, 2, 6, 3, 7);
  v128_t r01 = wasm_u8x16_narrow_i16x8(wasm_i64x2_shuffle(b0, b4, 0, 2), wasm_i64x2_shuffle(b0, b4, 1, 3));
  v128_t r23 = wasm_u8x16_narrow_i16x8(wasm_i64x2_shuffle(b1, b5, 0, 2), wasm_i64x2_shuffle(b1, b5, 1, 3));
  v128_t r45 = wasm_u8x16_narrow_i16x8(wasm_i64x2_shuffle(b2, b6, 0, 2), wasm_i64x2_shuffle(b2, b6, 1, 3));
  v128_t r67 = wasm_u8x16_narrow_i16x8(wasm_i64x2_shuffle(b3, b7, 0, 2), wasm_i64x2_shuffle(b3, b7, 1, 3));
  wasm_v128_store64_lane(output_buf[0] + output_col, r01, 0);
  wasm_v128_store64_lane(output_buf[1] + output_col, r01, 1);
  wasm_v128_store64_lane(output_buf[2] + output_col, r23, 0);
  wasm_v128_store64_lane(output_buf[3] + output_col, r23, 1);
  wasm_v128_store64_lane(output_buf[4] + output_col, r45, 0);
  wasm_v128_store64_lane(output_buf[5] + output_col, r45, 1);
  wasm_v128_store64_lane(output_buf[6] + output_col, r67, 0);
  wasm_v128_store64_lane(output_buf[7] + output_col, r67, 1);
}
