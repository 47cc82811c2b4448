import { DensityFormat, type DensityFormatCode } from './constants.js';
import { ProtocolError } from './errors.js';

/** Bytes per value on the wire for each format (§3.4.1). */
export function bytesPerValue(format: DensityFormatCode): number {
  switch (format) {
    case DensityFormat.Float32:
      return 4;
    case DensityFormat.Float16:
      return 2;
    case DensityFormat.Uint8Scaled:
      return 1;
    case DensityFormat.None:
      return 0;
  }
}

export function isDensityFormat(value: number): value is DensityFormatCode {
  return value === 0 || value === 1 || value === 2 || value === 255;
}

// Shared scratch for float32 <-> bits reinterpretation.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 from a float, round to nearest even; saturates to Inf. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) !== 0)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) !== 0)) half += 1; // may carry into exponent: correct
  return sign | half;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Encodes a density map into `format`. For Uint8Scaled, values are clipped to
 * [0, max] and `scale` is max/255 (0 for an all-zero map), max being the
 * largest finite value. f32 and f16 carry NaN and Inf as IEEE does; the
 * server never sends them (a non-finite map is answered server-error).
 */
export function encodeDensity(values: Float32Array, format: DensityFormatCode): { bytes: Buffer; scale: number } {
  const n = values.length;
  switch (format) {
    case DensityFormat.Float32: {
      const bytes = Buffer.allocUnsafe(n * 4);
      if (isLittleEndianHost) {
        bytes.set(new Uint8Array(values.buffer, values.byteOffset, n * 4));
      } else {
        for (let i = 0; i < n; i++) bytes.writeFloatLE(values[i], i * 4);
      }
      return { bytes, scale: 1 };
    }
    case DensityFormat.Float16: {
      const bytes = Buffer.allocUnsafe(n * 2);
      for (let i = 0; i < n; i++) bytes.writeUInt16LE(floatToHalf(values[i]), i * 2);
      return { bytes, scale: 1 };
    }
    case DensityFormat.Uint8Scaled: {
      // The scale comes from the largest finite value, so one Inf cannot make
      // it Inf (every cell would then decode as NaN). NaN and negatives
      // encode as 0, +Inf as 255 (§3.4.1).
      let max = 0;
      for (let i = 0; i < n; i++) if (values[i] > max && values[i] !== Infinity) max = values[i];
      const scale = max > 0 ? max / 255 : 0;
      const bytes = Buffer.allocUnsafe(n);
      const inv = scale > 0 ? 1 / scale : 0;
      for (let i = 0; i < n; i++) {
        const value = values[i];
        const v = value === Infinity ? 255 : value > 0 ? Math.round(value * inv) : 0;
        bytes[i] = v > 255 ? 255 : v;
      }
      return { bytes, scale };
    }
    case DensityFormat.None:
      return { bytes: Buffer.alloc(0), scale: 1 };
  }
}

/** Inverse of encodeDensity; `bytes` must hold exactly height*width values. */
export function decodeDensity(bytes: Uint8Array, format: DensityFormatCode, count: number, scale: number): Float32Array {
  const expected = count * bytesPerValue(format);
  if (bytes.length !== expected) {
    throw new ProtocolError('v1 §3.4.1', `density payload is ${bytes.length} bytes, expected ${expected}`);
  }
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (format) {
    case DensityFormat.Float32:
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case DensityFormat.Float16:
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case DensityFormat.Uint8Scaled:
      for (let i = 0; i < count; i++) out[i] = bytes[i] * scale;
      break;
    case DensityFormat.None:
      break;
  }
  return out;
}

const isLittleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
