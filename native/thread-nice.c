/*
 * lowerThreadPriority(increment: number): { before: number, after: number }
 *
 * Adds `increment` (0-19) to the nice value of the CALLING THREAD only
 * (Linux: setpriority(PRIO_PROCESS, gettid(), ...) acts on one thread),
 * clamped at 19, the lowest priority; returns its nice value before and
 * after. Raising one's own nice needs no privilege; 0 changes nothing and
 * only proves the call is allowed (a seccomp filter may refuse it).
 *
 * The inference workers and decode threads call it at their start, before
 * they create their ONNX Runtime session (src/workers/thread-nice.ts):
 * threads a thread creates inherit its nice, so ONNX Runtime's intra-op
 * threads sit beside their worker, below the main thread, whose accept,
 * socket reads, framing and replies are small and latency-critical.
 *
 * Not exported off Linux: there PRIO_PROCESS means the whole process.
 */
/* syscall() and SYS_gettid are hidden under -std=c11 without this. */
#define _DEFAULT_SOURCE
#include <node_api.h>
#include <stdbool.h>

#ifdef __linux__
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The calling thread's nice value, or INT32_MIN with errno set (getpriority may return -1 legitimately). */
static int32_t thread_nice(pid_t tid) {
  errno = 0;
  int value = getpriority(PRIO_PROCESS, (id_t)tid);
  if (value == -1 && errno != 0) return INT32_MIN;
  return value;
}

static napi_value throw_errno(napi_env env, const char *what) {
  char message[128];
  snprintf(message, sizeof message, "lowerThreadPriority: %s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value lower_thread_priority(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, before_value, after_value;
  napi_valuetype type;
  double increment = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_typeof(env, argv[0], &type) != napi_ok ||
      type != napi_number || napi_get_value_double(env, argv[0], &increment) != napi_ok || !(increment >= 0 && increment <= 19) ||
      increment != (double)(int32_t)increment) {
    napi_throw_range_error(env, NULL, "lowerThreadPriority: expected a whole number 0-19");
    return NULL;
  }
  pid_t tid = (pid_t)syscall(SYS_gettid);
  int32_t before = thread_nice(tid);
  if (before == INT32_MIN) return throw_errno(env, "getpriority");
  int32_t target = before + (int32_t)increment;
  if (target > 19) target = 19;
  if (setpriority(PRIO_PROCESS, (id_t)tid, target) != 0) return throw_errno(env, "setpriority");
  int32_t after = thread_nice(tid);
  if (after == INT32_MIN) return throw_errno(env, "getpriority");
  if (napi_create_object(env, &result) != napi_ok || napi_create_int32(env, before, &before_value) != napi_ok ||
      napi_create_int32(env, after, &after_value) != napi_ok || napi_set_named_property(env, result, "before", before_value) != napi_ok ||
      napi_set_named_property(env, result, "after", after_value) != napi_ok)
    return NULL;
  return result;
}
#endif

/* Called from the addon's init (resize.c). */
int crowdline_add_thread_nice(napi_env env, napi_value exports) {
#ifdef __linux__
  napi_value fn;
  return napi_create_function(env, "lowerThreadPriority", NAPI_AUTO_LENGTH, lower_thread_priority, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "lowerThreadPriority", fn) == napi_ok;
#else
  (void)env;
  (void)exports;
  return true;
#endif
}
