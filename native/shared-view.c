/*
 * aliasShared(view: Uint8Array over a SharedArrayBuffer): ArrayBuffer
 *
 * A plain (not shared) ArrayBuffer over the same memory as `view`, for
 * onnxruntime-node, which refuses typed arrays over a SharedArrayBuffer.
 * The inference workers make one per tensor slot, once, at start
 * (src/workers/slot-input.ts), and then read each batch where the decode
 * thread wrote it, with no copy. The alias owns nothing (no finalizer
 * frees anything): the caller keeps the SharedArrayBuffer alive as long as
 * the alias (the slots live in workerData for the thread's whole life).
 */
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

static napi_value alias_shared(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    napi_throw_type_error(env, NULL, "aliasShared: expected 1 argument");
    return NULL;
  }
  bool is = false;
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value buffer, alias;
  if (napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "aliasShared: expected a Uint8Array");
    return NULL;
  }
  if (length == 0 || data == NULL) {
    napi_throw_range_error(env, NULL, "aliasShared: empty view");
    return NULL;
  }
  if (napi_create_external_arraybuffer(env, data, length, NULL, NULL, &alias) != napi_ok) {
    napi_throw_error(env, NULL, "aliasShared: this runtime refuses external buffers");
    return NULL;
  }
  return alias;
}

/* Called from the addon's init (resize.c). */
int crowdline_add_shared_view(napi_env env, napi_value exports) {
  napi_value fn;
  return napi_create_function(env, "aliasShared", NAPI_AUTO_LENGTH, alias_shared, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "aliasShared", fn) == napi_ok;
}
