/** Test images with known pixel values, JPEG-encoded by libjpeg-turbo. */
import jpeg from '@julusian/jpeg-turbo';

/** Grey level of block (bx, by) in the known-answer pattern. */
export function blockGrey(bx: number, by: number, salt = 0): number {
  return (bx * 37 + by * 59 + salt * 11) % 256;
}

/**
 * Image of width x height made of block x block squares of constant grey
 * (see blockGrey), as a lossless-enough JPEG: quality 100, no chroma
 * subsampling, so constant 8x8-aligned blocks decode to their exact value.
 */
export function blockPatternJpeg(width: number, height: number, block: number, options: { colour?: boolean; salt?: number } = {}): Buffer {
  const colour = options.colour ?? false;
  const channels = colour ? 3 : 1;
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = blockGrey(Math.floor(x / block), Math.floor(y / block), options.salt ?? 0);
      for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = g;
    }
  }
  return jpeg.compressSync(raw, {
    format: colour ? jpeg.FORMAT_RGB : jpeg.FORMAT_GRAY,
    width,
    height,
    quality: 100,
    subsampling: colour ? jpeg.SAMP_444 : jpeg.SAMP_GRAY,
  });
}

/** Uniform grey image. */
export function solidJpeg(width: number, height: number, grey: number): Buffer {
  const raw = Buffer.alloc(width * height * 3, grey);
  return jpeg.compressSync(raw, { format: jpeg.FORMAT_RGB, width, height, quality: 100, subsampling: jpeg.SAMP_444 });
}

/** Expected known-answer density: block means of the normalised grey level. */
export function expectedBlockDensity(outW: number, outH: number, salt = 0): Float32Array {
  const out = new Float32Array(outW * outH);
  for (let by = 0; by < outH; by++) for (let bx = 0; bx < outW; bx++) out[by * outW + bx] = blockGrey(bx, by, salt) / 255;
  return out;
}

/** A valid JPEG carrying `text` in a comment (COM) segment: passes every header check, then reaches a worker. */
export function jpegWithComment(text: string): Buffer {
  const jpeg = blockPatternJpeg(64, 48, 8);
  const body = Buffer.from(text, 'latin1');
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), com, body, jpeg.subarray(2)]);
}
