/*
 * The fixed-point bilinear arithmetic shared by resize.c (a whole decoded
 * image) and decode-resize.c (rows straight from the JPEG decoder): one
 * definition, so both give the same bytes as the JavaScript loop in
 * src/workers/resize-bytes.ts.
 *
 * It blends rows first (a straight loop over a whole source row the
 * compiler vectorises) and then columns, where the JavaScript loop does all
 * four taps per output. The integer sums are the same terms in another
 * order, so the output is bit-identical to the JavaScript path
 * (test/native-resize.test.ts, test/fused-decode.test.ts).
 *
 * On x86-64 CPUs with AVX2 (chosen at run time, so one build serves any
 * x86-64) the row pass uses vpmaddwd and the 3-channel column pass one
 * 8-lane multiply per pixel; elsewhere plain C, which the compiler
 * vectorises as far as the target allows.
 *
 * Static functions only: each file that includes it gets its own copy.
 */
#ifndef CROWDLINE_BILINEAR_H
#define CROWDLINE_BILINEAR_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COEF_BITS 11
#define ROUND (1 << (2 * COEF_BITS - 1))
#define SHIFT (2 * COEF_BITS)

/* Rows: out = r0 * b0 + r1 * b1 over n bytes (at most 255 * 2050 each: fits int32). */
static inline void blend_rows_generic(const uint8_t *restrict r0, const uint8_t *restrict r1, int32_t b0, int32_t b1,
                                      int32_t *restrict out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (int32_t)r0[i] * b0 + (int32_t)r1[i] * b1;
}

/* Columns, any channel count: packed = (lo, hi, w0, w1) per output pixel, offsets in row values. */
static inline void blend_columns_generic(const int32_t *restrict row, const int32_t *restrict packed, uint32_t width,
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

/* Each weight is rounded on its own, so a pair may sum to 2049; any sum up to
 * 2050 keeps 255 * sum * sum + ROUND inside int32. */
static inline int weights_ok(int32_t w0, int32_t w1) {
  return w0 >= 0 && w1 >= 0 && w0 + w1 <= (1 << COEF_BITS) + 2;
}

/*
 * One output row from two source rows, the columns fixed for a whole image:
 * made once per call by columns_plan (which checks the column table against
 * the source row's bytes), used per row by columns_blend, freed by
 * columns_free.
 */
typedef struct {
  const int32_t *xs; /* (lo, hi, w0, w1) per output column; lo/hi = source pixel x channels */
  uint32_t width;    /* output columns */
  uint32_t channels;
  size_t first, span; /* the row pass covers only the source bytes [first, first + span) some output reads */
  int simd;           /* AVX2 row pass */
  int32_t *row;       /* the blended row plus 8 zeroed lanes the SIMD loads may reach */
  int32_t *wide;      /* the SIMD 3-channel column pass (NULL when not used) */
  int32_t *sums;
} Columns;

/* NULL when the plan is ready; else the reason (nothing left allocated). */
static const char *columns_plan(Columns *c, const int32_t *xs, uint32_t width, uint32_t channels, uint64_t row_bytes) {
  memset(c, 0, sizeof *c);
  int64_t first = INT64_MAX, last = -1;
  for (uint32_t x = 0; x < width; x++) {
    const int32_t lo = xs[4 * (size_t)x], hi = xs[4 * (size_t)x + 1];
    if (lo < 0 || hi < 0 || (uint64_t)lo + channels > row_bytes || (uint64_t)hi + channels > row_bytes ||
        !weights_ok(xs[4 * (size_t)x + 2], xs[4 * (size_t)x + 3]))
      return "column table out of range";
    if (lo < first) first = lo;
    if (hi + (int64_t)channels > last) last = hi + (int64_t)channels;
  }
  /* The 3-channel SIMD column pass needs adjacent taps; check every column once. */
  int adjacent = channels == 3;
  for (uint32_t x = 0; x < width && adjacent; x++) {
    const int32_t *p = xs + 4 * (size_t)x;
    adjacent = p[1] == p[0] + 3 || (p[1] == p[0] && p[3] == 0);
  }
  int simd = 0;
#ifdef HAVE_AVX2_PATH
  simd = __builtin_cpu_supports("avx2");
#endif
  c->xs = xs;
  c->width = width;
  c->channels = channels;
  c->first = (size_t)first;
  c->span = (size_t)(last - first);
  c->simd = simd;
  c->row = calloc((size_t)row_bytes + 8, sizeof(int32_t));
  if (simd && adjacent) {
    c->wide = malloc(sizeof(int32_t) * 8 * (size_t)width);
    c->sums = malloc(sizeof(int32_t) * (3 * (size_t)width + 8));
  }
  if (c->row == NULL || (simd && adjacent && (c->wide == NULL || c->sums == NULL))) {
    free(c->row);
    free(c->wide);
    free(c->sums);
    memset(c, 0, sizeof *c);
    return "out of memory";
  }
  if (c->wide != NULL)
    for (uint32_t x = 0; x < width; x++) {
      const int32_t w0 = xs[4 * (size_t)x + 2], w1 = xs[4 * (size_t)x + 3];
      const int32_t v[8] = {w0, w0, w0, w1, w1, w1, 0, 0};
      memcpy(c->wide + 8 * (size_t)x, v, sizeof v);
    }
  return NULL;
}

/* out (width x channels bytes) = the rows r0, r1 (whole source rows) blended by b0, b1, then the columns. */
static inline void columns_blend(const Columns *c, const uint8_t *r0, const uint8_t *r1, int32_t b0, int32_t b1,
                                 uint8_t *out) {
#ifdef HAVE_AVX2_PATH
  if (c->simd) {
    blend_rows_avx2(r0 + c->first, r1 + c->first, b0, b1, c->row + c->first, c->span);
    if (c->wide != NULL) blend_columns3_avx2(c->row, c->xs, c->wide, c->width, c->sums, out);
    else blend_columns_generic(c->row, c->xs, c->width, c->channels, out);
    return;
  }
#endif
  blend_rows_generic(r0 + c->first, r1 + c->first, b0, b1, c->row + c->first, c->span);
  blend_columns_generic(c->row, c->xs, c->width, c->channels, out);
}

static inline void columns_free(Columns *c) {
  free(c->wide);
  free(c->sums);
  free(c->row);
  memset(c, 0, sizeof *c);
}

/* N-API argument helpers. */
typedef struct {
  void *data;
  size_t length; /* elements */
  napi_typedarray_type type;
} View;

static inline int get_view(napi_env env, napi_value v, napi_typedarray_type want, View *out) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &buffer, &offset) != napi_ok) return 0;
  return out->type == want;
}

static inline int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

#endif
