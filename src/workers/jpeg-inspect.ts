/**
 * Reads a JPEG's structure (markers, frame header, scans) in TypeScript,
 * without decoding it, so that nothing a peer sends reaches libjpeg-turbo
 * unchecked. @julusian/jpeg-turbo 2.3 sizes its output buffer with a 32-bit
 * width*height*bpp: a 600-byte file declaring 34179x41887 pixels wraps that
 * to 23 bytes and the decoder writes gigabytes past it (docs/upstream/
 * jpeg-turbo-overflow.md). The walk costs O(bytes) with a native indexOf per
 * marker, and microseconds for a normal camera frame.
 */

export class JpegRejected extends Error {
  override name = 'JpegRejected';
  constructor(
    message: string,
    /** 'too-large' for limit breaches, 'corrupt' for structural faults. */
    readonly reason: 'too-large' | 'corrupt',
  ) {
    super(message);
  }
}

export interface JpegInfo {
  width: number;
  height: number;
  components: number;
  progressive: boolean;
  scans: number;
}

export interface JpegLimits {
  /** Largest width*height accepted. */
  maxPixels: number;
  /** Most scans (SOS markers) accepted; progressive files have about 10. */
  maxScans: number;
  /** Largest decode work (decodeWork: pixels x passes) accepted. */
  maxWork: number;
}

/**
 * A progressive JPEG counts at least this many passes: the decoder holds its
 * whole coefficient image (2 bytes per sample, ~6 bytes per pixel in
 * colour) however few scans it has, and every scan is a pass over it.
 */
export const PROGRESSIVE_MIN_PASSES = 6;

/**
 * What decoding costs, in pixel-passes: width x height for a sequential
 * (baseline) JPEG, x max(scans, PROGRESSIVE_MIN_PASSES) for a progressive
 * one. Time and memory both grow with it; the fair scheduler's estimate of a
 * frame's worker time starts from it.
 */
export function decodeWork(info: JpegInfo): number {
  const passes = info.progressive ? Math.max(info.scans, PROGRESSIVE_MIN_PASSES) : 1;
  return info.width * info.height * passes;
}

/**
 * 8K UHD (7680x4320, 33 MP): above any camera crowdline expects (4K is 8.3 MP,
 * 12 MP fisheyes exist), so a real frame is never refused, while decode
 * memory stays under 100 MB. Progressive encoders write about 10 scans.
 */
export const DEFAULT_JPEG_LIMITS: JpegLimits = { maxPixels: 7680 * 4320, maxScans: 64, maxWork: 7680 * 4320 * 3 };

/** libjpeg's own ceiling on either dimension (JPEG_MAX_DIMENSION). */
const MAX_DIMENSION = 65500;
/** Largest output buffer the binding can size without overflowing a signed 32-bit int (4 bytes per pixel worst case). */
export const MAX_DECODABLE_PIXELS = Math.floor((2 ** 31 - 1) / 4);

// Start-of-frame markers libjpeg-turbo decodes, and what they are called.
const DECODABLE_SOF: Record<number, string> = {
  0xc0: 'baseline',
  0xc1: 'extended sequential',
  0xc2: 'progressive',
  0xc9: 'extended sequential, arithmetic',
  0xca: 'progressive, arithmetic',
};
const OTHER_SOF: Record<number, string> = {
  0xc3: 'lossless',
  0xc5: 'differential sequential',
  0xc6: 'differential progressive',
  0xc7: 'differential lossless',
  0xcb: 'lossless, arithmetic',
  0xcd: 'differential sequential, arithmetic',
  0xce: 'differential progressive, arithmetic',
  0xcf: 'differential lossless, arithmetic',
};

const hex = (marker: number): string => `FF${marker.toString(16).toUpperCase().padStart(2, '0')}`;
const corrupt = (message: string): JpegRejected => new JpegRejected(message, 'corrupt');

/** True for markers that stand alone (no length field). */
function standalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/** Index of the next marker (FF followed by a byte that is not 00, FF or RSTn) at or after `from`, or -1. */
function nextMarkerInScan(bytes: Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    at = bytes.indexOf(0xff, at);
    if (at < 0 || at + 1 >= bytes.length) return -1;
    const next = bytes[at + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      at += 2; // stuffed byte or restart marker: still scan data
    } else if (next === 0xff) {
      at += 1; // fill byte
    } else {
      return at;
    }
  }
}

/**
 * Walks the file's markers and returns its frame header; throws JpegRejected
 * naming what is wrong. Does not check limits (see checkJpegLimits).
 */
export function inspectJpeg(bytes: Uint8Array): JpegInfo {
  return walk(bytes, Number.POSITIVE_INFINITY) as JpegInfo;
}

/**
 * The frame header only, cheaply enough for the main thread: stops at the
 * frame header, or gives up (undefined) after `maxSegments` segments, so a
 * file padded with thousands of tiny segments costs the main thread nothing
 * and is left to a worker's full inspectJpeg. Throws JpegRejected like it.
 * A progressive file's scans are counted too (they make its cost), within
 * the same budget: past it, `scans` is a lower bound.
 */
export function inspectJpegHeader(bytes: Uint8Array, maxSegments = 256): JpegInfo | undefined {
  return walk(bytes, maxSegments);
}

/** The marker walk; with a finite segment budget it returns at a sequential frame header (scans 0), or with the scans seen so far. */
function walk(bytes: Uint8Array, maxSegments: number): JpegInfo | undefined {
  const headerOnly = Number.isFinite(maxSegments);
  let segments = 0;
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw corrupt('not a JPEG: data does not start with the SOI marker FF D8');
  }
  let info: JpegInfo | undefined;
  let at = 2;
  for (;;) {
    // Markers may be preceded by any number of FF fill bytes.
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
    if (at + 1 >= bytes.length) throw corrupt(`truncated JPEG: no EOI marker (data ends at byte ${bytes.length})`);
    if (bytes[at] !== 0xff) throw corrupt(`corrupt JPEG: expected a marker at byte ${at}, found 0x${bytes[at].toString(16).padStart(2, '0')}`);
    const marker = bytes[at + 1];
    if (marker === 0xd9) break; // EOI
    if (++segments > maxSegments) return info;
    if (standalone(marker)) {
      at += 2;
      continue;
    }
    if (at + 4 > bytes.length) throw corrupt(`truncated JPEG: segment ${hex(marker)} at byte ${at} has no length`);
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) throw corrupt(`corrupt JPEG: segment ${hex(marker)} at byte ${at} declares length ${length}`);
    const end = at + 2 + length;
    if (end > bytes.length) throw corrupt(`truncated JPEG: segment ${hex(marker)} at byte ${at} runs past the end of the data`);

    if (marker in OTHER_SOF) {
      throw corrupt(`unsupported JPEG: ${OTHER_SOF[marker]} (${hex(marker)}) images cannot be decoded; send baseline or progressive JPEG`);
    }
    if (marker in DECODABLE_SOF) {
      if (info) throw corrupt(`corrupt JPEG: a second frame header ${hex(marker)} at byte ${at}`);
      if (length < 8) throw corrupt(`corrupt JPEG: frame header ${hex(marker)} is ${length} bytes, shorter than 8`);
      const precision = bytes[at + 4];
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      const components = bytes[at + 9];
      if (precision !== 8) throw corrupt(`unsupported JPEG: ${precision}-bit samples (only 8-bit JPEG is decoded)`);
      if (width === 0 || height === 0)
        throw corrupt(`corrupt JPEG: frame header declares ${width}x${height} pixels (a height set later by DNL is not supported)`);
      if (components !== 1 && components !== 3) {
        throw corrupt(`unsupported JPEG: ${components} colour components (only greyscale and YCbCr/RGB, 1 or 3, are decoded)`);
      }
      if (length < 8 + 3 * components) throw corrupt(`corrupt JPEG: frame header too short for ${components} components`);
      info = { width, height, components, progressive: marker === 0xc2 || marker === 0xca, scans: 0 };
      if (headerOnly && !info.progressive) return info;
    }
    if (marker === 0xda) {
      // SOS: its header, then entropy-coded data up to the next real marker.
      if (!info) throw corrupt(`corrupt JPEG: scan data (SOS) at byte ${at} before any frame header (SOF)`);
      info.scans++;
      const next = nextMarkerInScan(bytes, end);
      if (next < 0) throw corrupt(`truncated JPEG: scan ${info.scans} runs to the end of the data without an EOI marker`);
      at = next;
      continue;
    }
    at = end;
  }
  if (!info) throw corrupt('corrupt JPEG: EOI reached without a frame header (SOF)');
  if (info.scans === 0) throw corrupt('corrupt JPEG: no scan data (SOS) before EOI');
  return info;
}

/** Refuses images whose decode would cost more than the limits allow. */
export function checkJpegLimits(info: JpegInfo, limits: JpegLimits): void {
  const pixels = info.width * info.height;
  const maxPixels = Math.min(limits.maxPixels, MAX_DECODABLE_PIXELS);
  if (info.width > MAX_DIMENSION || info.height > MAX_DIMENSION || pixels > maxPixels) {
    throw new JpegRejected(
      `image too large: ${info.width}x${info.height} is ${pixels} pixels, over the server's limit of ${maxPixels} (--max-frame-pixels)`,
      'too-large',
    );
  }
  if (info.scans > limits.maxScans) {
    throw new JpegRejected(`image too costly: ${info.scans} scans, over the server's limit of ${limits.maxScans} (--max-jpeg-scans)`, 'too-large');
  }
  const work = decodeWork(info);
  if (work > limits.maxWork) {
    const kind = info.progressive ? `progressive (${info.scans} scans, ${work / pixels} passes)` : 'sequential';
    throw new JpegRejected(
      `image too costly to decode: ${info.width}x${info.height} ${kind} is ${work} pixel-passes, over the server's limit of ${limits.maxWork} (--max-frame-work)`,
      'too-large',
    );
  }
}

/**
 * The main thread's screen before a frame is queued: a frame whose header
 * alone condemns it (a bomb's dimensions, a broken header) is refused here,
 * at the cost of a header walk, instead of a worker round trip. Anything the
 * header walk cannot settle cheaply goes on to the worker's full check.
 */
export function screenJpeg(bytes: Uint8Array, limits: JpegLimits): { rejected: JpegRejected } | { work: number; pixels: number } {
  try {
    const info = inspectJpegHeader(bytes);
    if (!info) return { work: 0, pixels: 0 };
    checkJpegLimits(info, limits);
    return { work: decodeWork(info), pixels: info.width * info.height };
  } catch (err) {
    if (err instanceof JpegRejected) return { rejected: err };
    throw err;
  }
}
