/*
 * crowdline's native resize: OpenCV-style fixed-point bilinear on bytes,
 * the uint8 fast path's one hot loop (src/workers/native-resize.ts).
 *
 * The coordinate/weight tables come from JavaScript (resize-bytes.ts
 * fixedAxis), so both implementations share one definition of the
 * sampling; this file only runs the arithmetic of bilinear.h (rows first,
 * then columns; AVX2 chosen at run time), whose output is bit-identical to
 * the JavaScript path (test/native-resize.test.ts). `simd` in the exports
 * says which loop runs. decode-resize.c runs the same arithmetic on rows
 * straight from the JPEG decoder.
 *
 * Every index is checked against the buffers' lengths before the loops run:
 * a bad table or a short buffer throws instead of reading out of bounds.
 */
#include "bilinear.h"

#include <stdio.h>

/*
 * resizeBilinearU8(src: Uint8Array, srcWidth, srcHeight, channels,
 *                  xTable: Int32Array, yTable: Int32Array,
 *                  dst: Uint8Array, dstOffset, dstWidth, dstHeight): void
 * xTable: (lo, hi, w0, w1) per output column, lo/hi = source pixel x channels.
 * yTable: (lo, hi, w0, w1) per output row, lo/hi = source row x row bytes.
 * dst gets dstHeight x dstWidth x channels bytes at dstOffset (interleaved).
 */
static napi_value resize_bilinear_u8(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10) {
    napi_throw_type_error(env, NULL, "resizeBilinearU8: expected 10 arguments");
    return NULL;
  }
  View src, xt, yt, dst;
  uint32_t sw, sh, ch, doff, dw, dh;
  if (!get_view(env, argv[0], napi_uint8_array, &src) || !get_u32(env, argv[1], &sw) || !get_u32(env, argv[2], &sh) ||
      !get_u32(env, argv[3], &ch) || !get_view(env, argv[4], napi_int32_array, &xt) ||
      !get_view(env, argv[5], napi_int32_array, &yt) || !get_view(env, argv[6], napi_uint8_array, &dst) ||
      !get_u32(env, argv[7], &doff) || !get_u32(env, argv[8], &dw) || !get_u32(env, argv[9], &dh)) {
    napi_throw_type_error(env, NULL, "resizeBilinearU8: bad argument types");
    return NULL;
  }
  const uint64_t row_bytes = (uint64_t)sw * ch;
  if (ch < 1 || ch > 4 || sw == 0 || sh == 0 || dw == 0 || dh == 0 || row_bytes * sh > src.length ||
      xt.length != 4 * (size_t)dw || yt.length != 4 * (size_t)dh ||
      (uint64_t)doff + (uint64_t)dw * dh * ch > dst.length) {
    napi_throw_range_error(env, NULL, "resizeBilinearU8: sizes do not match the buffers");
    return NULL;
  }
  const int32_t *xs = (const int32_t *)xt.data;
  const int32_t *ys = (const int32_t *)yt.data;
  for (uint32_t y = 0; y < dh; y++) {
    const int32_t lo = ys[4 * y], hi = ys[4 * y + 1];
    if (lo < 0 || hi < 0 || lo % row_bytes != 0 || hi % row_bytes != 0 || (uint64_t)lo + row_bytes > src.length ||
        (uint64_t)hi + row_bytes > src.length || !weights_ok(ys[4 * y + 2], ys[4 * y + 3])) {
      napi_throw_range_error(env, NULL, "resizeBilinearU8: row table out of range");
      return NULL;
    }
  }
  Columns columns;
  const char *why = columns_plan(&columns, xs, dw, ch, row_bytes);
  if (why != NULL) {
    char message[96];
    snprintf(message, sizeof message, "resizeBilinearU8: %s", why);
    if (strcmp(why, "out of memory") == 0) napi_throw_error(env, NULL, message);
    else napi_throw_range_error(env, NULL, message);
    return NULL;
  }
  const uint8_t *s = (const uint8_t *)src.data;
  uint8_t *out = (uint8_t *)dst.data + doff;
  for (uint32_t y = 0; y < dh; y++) {
    const int32_t *p = ys + 4 * (size_t)y;
    columns_blend(&columns, s + p[0], s + p[1], p[2], p[3], out);
    out += (size_t)dw * ch;
  }
  columns_free(&columns);
  return NULL;
}

int crowdline_add_shared_view(napi_env env, napi_value exports); /* shared-view.c */
int crowdline_add_peer_state(napi_env env, napi_value exports);  /* peer-state.c */
int crowdline_add_thread_nice(napi_env env, napi_value exports); /* thread-nice.c */
#ifdef CROWDLINE_HAVE_JPEG
int crowdline_add_decode_resize(napi_env env, napi_value exports); /* decode-resize.c */
#endif

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn, simd;
  const char *kind = "none";
#ifdef HAVE_AVX2_PATH
  if (__builtin_cpu_supports("avx2")) kind = "avx2";
#endif
  if (napi_create_function(env, "resizeBilinearU8", NAPI_AUTO_LENGTH, resize_bilinear_u8, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "resizeBilinearU8", fn) != napi_ok ||
      napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &simd) != napi_ok ||
      napi_set_named_property(env, exports, "simd", simd) != napi_ok || !crowdline_add_shared_view(env, exports) ||
      !crowdline_add_peer_state(env, exports) || !crowdline_add_thread_nice(env, exports))
    return NULL;
#ifdef CROWDLINE_HAVE_JPEG
  if (!crowdline_add_decode_resize(env, exports)) return NULL;
#endif
  return exports;
}
