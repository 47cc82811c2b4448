/*
 * crowdline's native resize: OpenCV-style fixed-point bilinear on bytes,
 * the uint8 fast path's one hot loop (src/workers/native-resize.ts).
 *
 * The coordinate/weight tables come from JavaScript (preprocess.ts
 * fixedAxis), so both implementations share one definition of the
 * sampling; this file only does the arithmetic. It blends rows first (a
 * straight loop over a whole source row the compiler vectorises) and then
 * columns, where the JavaScript loop does all four taps per output. The
 * integer sums are the same terms in another order, so the output is
 * bit-identical to the JavaScript path (test/native-resize.test.ts).
 *
 * On x86-64 CPUs with AVX2 (chosen at run time, so one build serves any
 * x86-64) the row pass uses vpmaddwd and the 3-channel column pass one
 * 8-lane multiply per pixel; elsewhere plain C, which the compiler
 * vectorises as far as the target allows. `simd` in the exports says which.
 *
 * Every index is checked against the buffers' lengths before the loops run:
 * a bad table or a short buffer throws instead of reading out of bounds.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COEF_BITS 11
#define ROUND (1 << (2 * COEF_BITS - 1))
#define SHIFT (2 * COEF_BITS)

/* Rows: out = r0 * b0 + r1 * b1 over n bytes (at most 255 * 2050 each: fits int32). */
static void blend_rows_generic(const uint8_t *restrict r0, const uint8_t *restrict r1, int32_t b0, int32_t b1,
                               int32_t *restrict out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (int32_t)r0[i] * b0 + (int32_t)r1[i] * b1;
}

/* Columns, any channel count: packed = (lo, hi, w0, w1) per output pixel, offsets in row values. */
static void blend_columns_generic(const int32_t *restrict row, const int32_t *restrict packed, uint32_t width,
                                  uint32_t channels, uint8_t *restrict out) {
  for (uint32_t x = 0; x < width; x++) {
    const int32_t *p = packed + 4 * (size_t)x;
    for (uint32_t c = 0; c < channels; c++)
      *out++ = (uint8_t)((row[p[0] + c] * p[2] + row[p[1] + c] * p[3] + ROUND) >> SHIFT);
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

/* Rows, 16 bytes a step: the two rows' bytes interleaved as 16-bit pairs, one
 * multiply-add of each pair by (b0, b1) gives 8 int32 sums (vpmaddwd). */
__attribute__((target("avx2"))) static void blend_rows_avx2(const uint8_t *restrict r0, const uint8_t *restrict r1,
                                                            int32_t b0, int32_t b1, int32_t *restrict out, size_t n) {
  const __m256i weights = _mm256_set1_epi32((int32_t)((uint32_t)b1 << 16 | (uint32_t)b0));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(r0 + i));
    const __m128i b = _mm_loadu_si128((const __m128i *)(r1 + i));
    const __m256i lo = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));
    const __m256i hi = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b));
    _mm256_storeu_si256((__m256i *)(out + i), _mm256_madd_epi16(lo, weights));
    _mm256_storeu_si256((__m256i *)(out + i + 8), _mm256_madd_epi16(hi, weights));
  }
  for (; i < n; i++) out[i] = (int32_t)r0[i] * b0 + (int32_t)r1[i] * b1;
}

/*
 * Three channels, every column's taps adjacent (hi = lo + 3, or hi = lo with
 * w1 = 0 at the right border): one unaligned load covers both source pixels
 * [a0 a1 a2 b0 b1 b2 . .], multiplied by (w0 w0 w0 w1 w1 w1 0 0) and folded
 * (lanes 3-5 onto 0-2). Each pixel's 8-lane store lands 3 lanes after the
 * last one, so only the 3 valid lanes survive; a last pass rounds and packs
 * to bytes. `wide` holds the per-pixel weight vectors, `sums` width*3 + 8
 * lanes, `row` 8 readable lanes past the last column read.
 */
__attribute__((target("avx2"))) static void blend_columns3_avx2(const int32_t *restrict row, const int32_t *restrict packed,
                                                                const int32_t *restrict wide, uint32_t width,
                                                                int32_t *restrict sums, uint8_t *restrict out) {
  const __m256i fold = _mm256_setr_epi32(3, 4, 5, 0, 0, 0, 0, 0);
  for (uint32_t x = 0; x < width; x++) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(row + packed[4 * (size_t)x]));
    const __m256i m = _mm256_mullo_epi32(v, _mm256_loadu_si256((const __m256i *)(wide + 8 * (size_t)x)));
    _mm256_storeu_si256((__m256i *)(sums + 3 * (size_t)x), _mm256_add_epi32(m, _mm256_permutevar8x32_epi32(m, fold)));
  }
  const size_t n = 3 * (size_t)width;
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)((sums[i] + ROUND) >> SHIFT);
}
#endif

typedef struct {
  void *data;
  size_t length; /* elements */
  napi_typedarray_type type;
} View;

static int get_view(napi_env env, napi_value v, napi_typedarray_type want, View *out) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &buffer, &offset) != napi_ok) return 0;
  return out->type == want;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

/* Each weight is rounded on its own, so a pair may sum to 2049; any sum up to
 * 2050 keeps 255 * sum * sum + ROUND inside int32. */
static int weights_ok(int32_t w0, int32_t w1) {
  return w0 >= 0 && w1 >= 0 && w0 + w1 <= (1 << COEF_BITS) + 2;
}

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
  /* The row pass covers only the columns some output reads. */
  int64_t first = INT64_MAX, last = -1;
  for (uint32_t x = 0; x < dw; x++) {
    const int32_t lo = xs[4 * x], hi = xs[4 * x + 1];
    if (lo < 0 || hi < 0 || (uint64_t)lo + ch > row_bytes || (uint64_t)hi + ch > row_bytes ||
        !weights_ok(xs[4 * x + 2], xs[4 * x + 3])) {
      napi_throw_range_error(env, NULL, "resizeBilinearU8: column table out of range");
      return NULL;
    }
    if (lo < first) first = lo;
    if (hi + (int64_t)ch > last) last = hi + (int64_t)ch;
  }
  for (uint32_t y = 0; y < dh; y++) {
    const int32_t lo = ys[4 * y], hi = ys[4 * y + 1];
    if (lo < 0 || hi < 0 || lo % row_bytes != 0 || hi % row_bytes != 0 || (uint64_t)lo + row_bytes > src.length ||
        (uint64_t)hi + row_bytes > src.length || !weights_ok(ys[4 * y + 2], ys[4 * y + 3])) {
      napi_throw_range_error(env, NULL, "resizeBilinearU8: row table out of range");
      return NULL;
    }
  }
  /* The 3-channel SIMD column pass needs adjacent taps; check every column once. */
  int adjacent = ch == 3;
  for (uint32_t x = 0; x < dw && adjacent; x++) {
    const int32_t *p = xs + 4 * (size_t)x;
    adjacent = p[1] == p[0] + 3 || (p[1] == p[0] && p[3] == 0);
  }
  int simd = 0;
#ifdef HAVE_AVX2_PATH
  simd = __builtin_cpu_supports("avx2");
#endif
  /* row: the blended row plus 8 zeroed lanes the SIMD loads may reach; wide, sums: the SIMD column pass. */
  int32_t *row = calloc((size_t)row_bytes + 8, sizeof(int32_t));
  int32_t *wide = simd && adjacent ? malloc(sizeof(int32_t) * 8 * (size_t)dw) : NULL;
  int32_t *sums = simd && adjacent ? malloc(sizeof(int32_t) * (3 * (size_t)dw + 8)) : NULL;
  if (row == NULL || (simd && adjacent && (wide == NULL || sums == NULL))) {
    free(row);
    free(wide);
    free(sums);
    napi_throw_error(env, NULL, "resizeBilinearU8: out of memory");
    return NULL;
  }
  if (wide != NULL)
    for (uint32_t x = 0; x < dw; x++) {
      const int32_t w0 = xs[4 * (size_t)x + 2], w1 = xs[4 * (size_t)x + 3];
      const int32_t v[8] = {w0, w0, w0, w1, w1, w1, 0, 0};
      memcpy(wide + 8 * (size_t)x, v, sizeof v);
    }
  const uint8_t *s = (const uint8_t *)src.data;
  uint8_t *out = (uint8_t *)dst.data + doff;
  const size_t span = (size_t)(last - first);
  for (uint32_t y = 0; y < dh; y++) {
    const int32_t *p = ys + 4 * (size_t)y;
#ifdef HAVE_AVX2_PATH
    if (simd) {
      blend_rows_avx2(s + p[0] + first, s + p[1] + first, p[2], p[3], row + first, span);
      if (wide != NULL) blend_columns3_avx2(row, xs, wide, dw, sums, out);
      else blend_columns_generic(row, xs, dw, ch, out);
      out += (size_t)dw * ch;
      continue;
    }
#endif
    blend_rows_generic(s + p[0] + first, s + p[1] + first, p[2], p[3], row + first, span);
    blend_columns_generic(row, xs, dw, ch, out);
    out += (size_t)dw * ch;
  }
  free(wide);
  free(sums);
  free(row);
  return NULL;
}

int crowdline_add_shared_view(napi_env env, napi_value exports); /* shared-view.c */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn, simd;
  const char *kind = "none";
#ifdef HAVE_AVX2_PATH
  if (__builtin_cpu_supports("avx2")) kind = "avx2";
#endif
  if (napi_create_function(env, "resizeBilinearU8", NAPI_AUTO_LENGTH, resize_bilinear_u8, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "resizeBilinearU8", fn) != napi_ok ||
      napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &simd) != napi_ok ||
      napi_set_named_property(env, exports, "simd", simd) != napi_ok || !crowdline_add_shared_view(env, exports))
    return NULL;
  return exports;
}
