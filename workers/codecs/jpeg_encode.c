/*
 * The JPEG encoder of workers/ops/jpeg_encode.ts: RGBA in, a baseline JPEG out, with the settings @jsquash/jpeg 1.6.0's
 * MozJPEG build uses by default (quantisation table 3, optimised Huffman tables, trellis quantisation, 4:2:0), so
 * results are the same bytes as from that build. Errors leave through the imported jpeg_failed, which throws.
 */
#include <stdio.h>
#include <stdlib.h>
#include "jpeglib.h"
#include "cdjpeg.h"

__attribute__((import_module("env"), import_name("jpeg_failed"), noreturn)) void jpeg_failed(const char *message);

static void fail(j_common_ptr cinfo) {
  static char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  jpeg_failed(message);
}

/* Warnings (such as "quantization tables are too coarse for baseline JPEG" at low qualities) change nothing. */
static void quiet(j_common_ptr cinfo) {
  (void)cinfo;
}

/* The JPEG's address (free it), its length at *size. */
unsigned char *encode_rgba(const unsigned char *rgba, int width, int height, int quality, unsigned long *size) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  unsigned char *out = NULL;
  char ratings[12];
  JSAMPROW *rows;
  int y;
  cinfo.err = jpeg_std_error(&err);
  err.error_exit = fail;
  err.output_message = quiet;
  jpeg_create_compress(&cinfo);
  *size = 0;
  jpeg_mem_dest(&cinfo, &out, size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_EXT_RGBA;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, JCS_YCbCr);
  jpeg_c_set_int_param(&cinfo, JINT_BASE_QUANT_TBL_IDX, 3);
  cinfo.optimize_coding = TRUE;
  cinfo.smoothing_factor = 0;
  jpeg_c_set_bool_param(&cinfo, JBOOLEAN_USE_SCANS_IN_TRELLIS, FALSE);
  jpeg_c_set_bool_param(&cinfo, JBOOLEAN_TRELLIS_EOB_OPT, FALSE);
  jpeg_c_set_bool_param(&cinfo, JBOOLEAN_TRELLIS_Q_OPT, FALSE);
  jpeg_c_set_int_param(&cinfo, JINT_TRELLIS_NUM_LOOPS, 1);
  jpeg_c_set_int_param(&cinfo, JINT_DC_SCAN_OPT_MODE, 0);
  /* cjpeg's -quality parser, as @jsquash/jpeg uses it: it scales the tables the way MozJPEG tunes them. */
  snprintf(ratings, sizeof ratings, "%d", quality);
  set_quality_ratings(&cinfo, ratings, FALSE);
  cinfo.num_scans = 0;
  cinfo.scan_info = NULL;
  jpeg_start_compress(&cinfo, TRUE);
  rows = malloc(sizeof(JSAMPROW) * height);
  if (!rows) ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
  for (y = 0; y < height; y++) rows[y] = (JSAMPROW)(rgba + (size_t)y * width * 4);
  while (cinfo.next_scanline < cinfo.image_height)
    jpeg_write_scanlines(&cinfo, rows + cinfo.next_scanline, cinfo.image_height - cinfo.next_scanline);
  free(rows);
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return out;
}
