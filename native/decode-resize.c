/*
 * decodeResizeU8: the uint8 fast path's decode and resize in one pass.
 *
 * libjpeg (Debian's libjpeg62-turbo: the same libjpeg-turbo code as the
 * TurboJPEG the two-step path uses, with the same settings: the IFAST DCT
 * that @julusian/jpeg-turbo asks for, fancy upsampling) decodes one scanline at a time into a ring of a few
 * rows; as soon as an output row's two source rows are in the ring, the
 * bilinear.h arithmetic (the one resize.c runs) blends them into dst. The
 * whole decoded image (6 MB at 1920x1080) is never written, so the resize
 * no longer reads it back from memory: the rows it blends are still in the
 * cache the decoder wrote them to.
 *
 * Errors: libjpeg's error_exit longjmps back here and becomes a JS Error
 * with libjpeg's message; so does every warning (corrupt data, premature
 * end of file), which would otherwise give a frame with grey or garbage
 * rows, as TurboJPEG's decode reports them as failures too. The
 * decompressor is always destroyed. The header's size must equal the
 * srcWidth x srcHeight the caller checked against its limits
 * (src/workers/jpeg-inspect.ts) before calling.
 */
#include "bilinear.h"

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

/* Source rows held at once: an output row reads two, which the tables keep within RING of the newest decoded. */
#define RING 4

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} ErrorTrap;

static void trap_error_exit(j_common_ptr cinfo) {
  ErrorTrap *trap = (ErrorTrap *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, trap->message);
  longjmp(trap->jump, 1);
}

/* level -1: a warning (corrupt or truncated data): fail the frame. Levels >= 0: trace messages, ignored. */
static void trap_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  ErrorTrap *trap = (ErrorTrap *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, trap->message);
  longjmp(trap->jump, 1);
}

static void trap_output_message(j_common_ptr cinfo) {
  (void)cinfo; /* never print to stderr */
}

typedef struct {
  struct jpeg_decompress_struct cinfo;
  ErrorTrap trap;
  Columns columns;
  uint8_t *ring;
  char message[JMSG_LENGTH_MAX + 96]; /* set when the decode failed */
} Job;

/* Everything after the argument checks; 0 on success, else job->message says why. Frees nothing but what it made. */
static int run(Job *job, const uint8_t *jpeg, size_t jpeg_len, J_COLOR_SPACE space, uint32_t channels, const int32_t *ys,
               uint32_t sw, uint32_t sh, uint8_t *out, uint32_t dw, uint32_t dh) {
  struct jpeg_decompress_struct *cinfo = &job->cinfo;
  /* volatile: read after a longjmp. */
  volatile uint32_t decoded = 0;
  if (setjmp(job->trap.jump)) {
    snprintf(job->message, sizeof job->message, "libjpeg: %s", job->trap.message);
    return 1;
  }
  jpeg_mem_src(cinfo, jpeg, (unsigned long)jpeg_len);
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->image_width != sw || cinfo->image_height != sh) {
    snprintf(job->message, sizeof job->message, "the JPEG header says %ux%u, the caller checked %ux%u",
             (unsigned)cinfo->image_width, (unsigned)cinfo->image_height, (unsigned)sw, (unsigned)sh);
    return 1;
  }
  cinfo->out_color_space = space;
  /* As the two-step path: @julusian/jpeg-turbo decodes with TJFLAG_FASTDCT (src/decompress.cc), i.e. the IFAST
   * integer IDCT, with fancy upsampling (the default); this gives its bytes exactly (test/fused-decode.test.ts). */
  cinfo->dct_method = JDCT_IFAST;
  jpeg_start_decompress(cinfo);
  if (cinfo->output_width != sw || cinfo->output_height != sh || (uint32_t)cinfo->output_components != channels) {
    snprintf(job->message, sizeof job->message, "libjpeg would output %ux%u x %d, expected %ux%u x %u",
             (unsigned)cinfo->output_width, (unsigned)cinfo->output_height, cinfo->output_components, (unsigned)sw,
             (unsigned)sh, (unsigned)channels);
    return 1;
  }
  const size_t row_bytes = (size_t)sw * channels;
  for (uint32_t y = 0; y < dh; y++) {
    const int32_t *p = ys + 4 * (size_t)y;
    const uint32_t lo = (uint32_t)((size_t)p[0] / row_bytes), hi = (uint32_t)((size_t)p[1] / row_bytes);
    const uint32_t need = lo > hi ? lo : hi;
    while (decoded <= need) {
      JSAMPROW row = job->ring + (size_t)(decoded % RING) * row_bytes;
      if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
        snprintf(job->message, sizeof job->message, "libjpeg returned no scanline %u of %u", (unsigned)decoded, (unsigned)sh);
        return 1;
      }
      decoded = decoded + 1;
    }
    columns_blend(&job->columns, job->ring + (size_t)(lo % RING) * row_bytes, job->ring + (size_t)(hi % RING) * row_bytes,
                  p[2], p[3], out + (size_t)y * dw * channels);
  }
  /* The rows below the last one read still have to be decoded: a corrupt or truncated end fails the frame, as in the
   * two-step path, and jpeg_finish_decompress wants every scanline. */
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = job->ring;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      snprintf(job->message, sizeof job->message, "libjpeg returned no scanline %u of %u", (unsigned)cinfo->output_scanline,
               (unsigned)sh);
      return 1;
    }
  }
  jpeg_finish_decompress(cinfo);
  return 0;
}

/*
 * decodeResizeU8(jpeg: Uint8Array, channelOrder: 0 RGB | 1 BGR | 2 GRAY,
 *                xTable: Int32Array, yTable: Int32Array,
 *                dst: Uint8Array, dstOffset, dstWidth, dstHeight,
 *                srcWidth, srcHeight): void
 * The tables are resizeBilinearU8's for a srcWidth x srcHeight image of
 * 3 (RGB, BGR) or 1 (GRAY) channels; the output is the bytes
 * resizeBilinearU8 gives on the TurboJPEG-decoded image. yTable must read
 * source rows in order (each row's taps within RING rows of the furthest
 * one read so far), as every bilinear table does. Throws RangeError for
 * arguments that do not fit, Error for a JPEG that does not decode.
 */
static napi_value decode_resize_u8(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10) {
    napi_throw_type_error(env, NULL, "decodeResizeU8: expected 10 arguments");
    return NULL;
  }
  View src, xt, yt, dst;
  uint32_t order, doff, dw, dh, sw, sh;
  if (!get_view(env, argv[0], napi_uint8_array, &src) || !get_u32(env, argv[1], &order) ||
      !get_view(env, argv[2], napi_int32_array, &xt) || !get_view(env, argv[3], napi_int32_array, &yt) ||
      !get_view(env, argv[4], napi_uint8_array, &dst) || !get_u32(env, argv[5], &doff) || !get_u32(env, argv[6], &dw) ||
      !get_u32(env, argv[7], &dh) || !get_u32(env, argv[8], &sw) || !get_u32(env, argv[9], &sh)) {
    napi_throw_type_error(env, NULL, "decodeResizeU8: bad argument types");
    return NULL;
  }
  if (order > 2) {
    napi_throw_range_error(env, NULL, "decodeResizeU8: channelOrder must be 0 (RGB), 1 (BGR) or 2 (GRAY)");
    return NULL;
  }
  const J_COLOR_SPACE space = order == 0 ? JCS_RGB : order == 1 ? JCS_EXT_BGR : JCS_GRAYSCALE;
  const uint32_t ch = order == 2 ? 1 : 3;
  const uint64_t row_bytes = (uint64_t)sw * ch;
  if (sw == 0 || sh == 0 || dw == 0 || dh == 0 || sw > JPEG_MAX_DIMENSION || sh > JPEG_MAX_DIMENSION ||
      xt.length != 4 * (size_t)dw || yt.length != 4 * (size_t)dh ||
      (uint64_t)doff + (uint64_t)dw * dh * ch > dst.length) {
    napi_throw_range_error(env, NULL, "decodeResizeU8: sizes do not match the buffers");
    return NULL;
  }
  /* Rows: within the image, whole rows, read in order (the ring holds the last RING rows decoded). */
  const int32_t *ys = (const int32_t *)yt.data;
  int64_t furthest = -1;
  for (uint32_t y = 0; y < dh; y++) {
    const int32_t lo = ys[4 * y], hi = ys[4 * y + 1];
    if (lo < 0 || hi < 0 || (uint64_t)lo % row_bytes != 0 || (uint64_t)hi % row_bytes != 0 ||
        (uint64_t)lo / row_bytes >= sh || (uint64_t)hi / row_bytes >= sh || !weights_ok(ys[4 * y + 2], ys[4 * y + 3])) {
      napi_throw_range_error(env, NULL, "decodeResizeU8: row table out of range");
      return NULL;
    }
    const int64_t a = (int64_t)((uint64_t)lo / row_bytes), b = (int64_t)((uint64_t)hi / row_bytes);
    if (a > furthest) furthest = a;
    if (b > furthest) furthest = b;
    if ((a < b ? a : b) <= furthest - RING) {
      napi_throw_range_error(env, NULL, "decodeResizeU8: row table reads rows out of order");
      return NULL;
    }
  }
  Job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "decodeResizeU8: out of memory");
    return NULL;
  }
  const char *why = columns_plan(&job->columns, (const int32_t *)xt.data, dw, ch, row_bytes);
  if (why != NULL) {
    char message[96];
    snprintf(message, sizeof message, "decodeResizeU8: %s", why);
    if (strcmp(why, "out of memory") == 0) napi_throw_error(env, NULL, message);
    else napi_throw_range_error(env, NULL, message);
    free(job);
    return NULL;
  }
  job->ring = malloc((size_t)row_bytes * RING);
  if (job->ring == NULL) {
    columns_free(&job->columns);
    free(job);
    napi_throw_error(env, NULL, "decodeResizeU8: out of memory");
    return NULL;
  }
  job->cinfo.err = jpeg_std_error(&job->trap.pub);
  job->trap.pub.error_exit = trap_error_exit;
  job->trap.pub.emit_message = trap_emit_message;
  job->trap.pub.output_message = trap_output_message;
  int failed;
  if (setjmp(job->trap.jump)) {
    /* jpeg_create_decompress itself failed (out of memory). */
    snprintf(job->message, sizeof job->message, "libjpeg: %s", job->trap.message);
    failed = 1;
  } else {
    jpeg_create_decompress(&job->cinfo);
    failed = run(job, (const uint8_t *)src.data, src.length, space, ch, ys, sw, sh, (uint8_t *)dst.data + doff, dw, dh);
  }
  jpeg_destroy_decompress(&job->cinfo);
  columns_free(&job->columns);
  free(job->ring);
  if (failed) {
    char message[sizeof job->message + 32];
    snprintf(message, sizeof message, "decodeResizeU8: %s", job->message);
    free(job);
    napi_throw_error(env, NULL, message);
    return NULL;
  }
  free(job);
  return NULL;
}

/* Called from resize.c's module init when this file is built (the addon is built with libjpeg). */
int crowdline_add_decode_resize(napi_env env, napi_value exports) {
  napi_value fn;
  return napi_create_function(env, "decodeResizeU8", NAPI_AUTO_LENGTH, decode_resize_u8, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "decodeResizeU8", fn) == napi_ok;
}
