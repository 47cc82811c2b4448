/**
 * Whether the kernel already knows a connection's peer is gone, without
 * reading what it sent first. A session paused for backpressure reads
 * nothing, so a reset behind megabytes of unread frames would otherwise be
 * seen only when reading resumes or a reply comes back refused, after one
 * of its frames has run. TCP_INFO says it at once (native/peer-state.c);
 * where the addon or the OS cannot (not built, not Linux), every peer reads
 * as present and departures are seen the old way.
 */
import type { Socket } from 'node:net';
import { nativeAddon } from '../workers/native-resize.js';

/** Linux's TCP_CLOSE: the connection is dead (the peer reset it, or answered our bytes with a reset because it had closed). */
const TCP_CLOSE = 7;

type TcpState = (fd: number) => number;

/** The addon's probe, or undefined where it cannot be asked (addon not built or too old, or not Linux). */
function probe(): TcpState | undefined {
  if (process.platform !== 'linux') return undefined;
  return nativeAddon()?.tcpState;
}

let cached: TcpState | null | undefined;
const tcpState = (): TcpState | undefined => {
  if (cached === undefined) cached = probe() ?? null;
  return cached ?? undefined;
};

/** The probe is available here: departed peers' queued frames are dropped before any reaches a worker. */
export function canSeeResets(): boolean {
  return tcpState() !== undefined;
}

/**
 * True when the peer has certainly gone: the socket is destroyed, or the
 * kernel holds the connection CLOSE (reset). A half-closed peer (FIN: it
 * sent its last frame and waits for its results) is not gone.
 */
export function peerGone(socket: Socket): boolean {
  if (socket.destroyed) return true;
  const state = tcpState();
  // net.Socket and TLSSocket both expose their TCP handle's descriptor (Unix).
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (!state || fd === undefined || fd < 0) return false;
  return state(fd) === TCP_CLOSE;
}
