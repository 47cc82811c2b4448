/*
 * tcpState(fd: number): number
 *
 * The kernel's state of the TCP connection on socket `fd` (Linux TCP_INFO
 * tcpi_state: 1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT, ...), or -1 where it
 * cannot be read (another OS, not a TCP socket, a closed fd). The server
 * asks it before a paused connection's frame goes to a worker
 * (src/accept/peer-state.ts): a peer that reset (or closed with our bytes
 * unread) leaves the connection CLOSE at once, even while megabytes it
 * sent before are still unread, which reading would only reach afterwards.
 * It reads state only: unlike SO_ERROR it clears nothing, so the socket's
 * own reads and writes still see the error.
 */
/* struct tcp_info is a glibc extension, hidden under -std=c11 without this. */
#define _DEFAULT_SOURCE
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

static napi_value tcp_state(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "tcpState: expected a file descriptor");
    return NULL;
  }
  int32_t state = -1;
#ifdef __linux__
  struct tcp_info tcpi;
  socklen_t len = sizeof tcpi;
  if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &tcpi, &len) == 0 && len >= 1) state = tcpi.tcpi_state;
#else
  (void)fd;
#endif
  if (napi_create_int32(env, state, &result) != napi_ok) return NULL;
  return result;
}

/* Called from the addon's init (resize.c). */
int crowdline_add_peer_state(napi_env env, napi_value exports) {
  napi_value fn;
  return napi_create_function(env, "tcpState", NAPI_AUTO_LENGTH, tcp_state, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "tcpState", fn) == napi_ok;
}
