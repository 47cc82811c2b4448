/**
 * The native resize (native/resize.c, built by `npm run build:native`), when
 * it was built: the uint8 fast path's bilinear loop in C, which the compiler
 * vectorises. It is bit-identical to the JavaScript loop in resize-bytes.ts
 * (same tables, same integer terms), so which one runs changes speed, never
 * pixels. Without a compiler the JavaScript loop serves, and the server says
 * which one it uses at start.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeResize {
  /** See native/resize.c: tables are (lo, hi, w0, w1) per output column / row. */
  resizeBilinearU8(
    src: Uint8Array,
    srcWidth: number,
    srcHeight: number,
    channels: number,
    xTable: Int32Array,
    yTable: Int32Array,
    dst: Uint8Array,
    dstOffset: number,
    dstWidth: number,
    dstHeight: number,
  ): void;
  /**
   * native/decode-resize.c: decode a JPEG (libjpeg) and resize it in one pass, the
   * resizeBilinearU8 bytes without the whole decoded image; channelOrder 0 RGB, 1 BGR,
   * 2 GRAY; srcWidth x srcHeight must be the JPEG's size, already checked against the
   * limits. Absent from addons built without libjpeg (or before it).
   */
  readonly decodeResizeU8?: (
    jpeg: Uint8Array,
    channelOrder: 0 | 1 | 2,
    xTable: Int32Array,
    yTable: Int32Array,
    dst: Uint8Array,
    dstOffset: number,
    dstWidth: number,
    dstHeight: number,
    srcWidth: number,
    srcHeight: number,
  ) => void;
  /** 'avx2' where the CPU has it (picked at run time), else 'none' (plain C). */
  readonly simd: string;
  /** native/shared-view.c: a plain ArrayBuffer over a SharedArrayBuffer's memory (src/workers/slot-input.ts); absent from addons built before it. */
  readonly aliasShared?: (view: Uint8Array) => ArrayBuffer;
  /** native/peer-state.c: a TCP socket's kernel state (Linux tcpi_state; -1 where unknown), for src/accept/peer-state.ts; absent from addons built before it. */
  readonly tcpState?: (fd: number) => number;
  /** native/thread-nice.c: adds 0-19 to the calling thread's nice (Linux only; src/workers/thread-nice.ts); absent elsewhere and from addons built before it. */
  readonly lowerThreadPriority?: (increment: number) => { before: number; after: number };
}

/** Where node-gyp puts the addon, from dist/src/workers (the compiled location) up to the package root. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/crowdline_native.node', import.meta.url));

let loaded: { addon: NativeResize | undefined; why: string } | undefined;

function load(): { addon: NativeResize | undefined; why: string } {
  if (!existsSync(NATIVE_ADDON_PATH)) return { addon: undefined, why: `not built (${NATIVE_ADDON_PATH}; npm run build:native)` };
  try {
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as Partial<NativeResize>;
    if (typeof addon.resizeBilinearU8 !== 'function') return { addon: undefined, why: `${NATIVE_ADDON_PATH} has no resizeBilinearU8` };
    return { addon: addon as NativeResize, why: `native (${String(addon.simd)})` };
  } catch (err) {
    return { addon: undefined, why: `could not load ${NATIVE_ADDON_PATH}: ${(err as Error).message}` };
  }
}

/** The addon whatever CROWDLINE_NATIVE_RESIZE says (its non-resize parts: aliasShared), or undefined. Loaded once per thread. */
export function nativeAddon(): NativeResize | undefined {
  loaded ??= load();
  return loaded.addon;
}

// Read once per thread (a worker's env is fixed at its start), not on every frame.
const RESIZE_DISABLED = process.env.CROWDLINE_NATIVE_RESIZE === '0';

/** The addon for resizing (resizeBilinearU8, decodeResizeU8), or undefined: not built, or CROWDLINE_NATIVE_RESIZE=0 (then `nativeResizeStatus()` says why). */
export function nativeResize(): NativeResize | undefined {
  return RESIZE_DISABLED ? undefined : nativeAddon();
}

/** 'native (avx2)' / 'native (none)', or why the JavaScript loop is used. */
export function nativeResizeStatus(): string {
  if (RESIZE_DISABLED) return 'disabled by CROWDLINE_NATIVE_RESIZE=0';
  loaded ??= load();
  return loaded.why;
}
