/**
 * Motion-JPEG AVI writer: each frame is a JPEG the caller already encoded
 * (cv.imencode uses libjpeg-turbo, about 3x cheaper here than VideoWriter's
 * MJPEG path, and recording runs on the busy main thread). Plain AVI 1.0 with
 * an idx1 index, which OpenCV/FFmpeg and players read; files are capped at
 * 1 GiB, the next frames go to a new segment (name-2.avi, name-3.avi, ...).
 */
import fs from 'node:fs';

const SEGMENT_LIMIT_BYTES = 1024 ** 3;
const AVIF_HASINDEX = 0x10;
const AVIIF_KEYFRAME = 0x10;
/** RIFF(12) + LIST hdrl(12) + avih(8+56) + LIST strl(12) + strh(8+56) + strf(8+40) + LIST movi head(12). */
const HEADER_BYTES = 12 + 12 + 64 + 12 + 64 + 48 + 12;
/** File offset of the 'movi' fourcc: idx1 offsets count from here. */
const MOVI_FOURCC_AT = HEADER_BYTES - 4;

export class MjpegAviWriter {
  /** Every file written so far (segments after the first included). */
  readonly paths: string[] = [];
  private fd: number | undefined;
  private offset = 0;
  private index: Buffer[] = [];
  private frames = 0;
  private largestFrame = 0;

  constructor(
    private readonly basePath: string,
    private readonly width: number,
    private readonly height: number,
    private readonly fps: number,
    private readonly segmentLimitBytes = SEGMENT_LIMIT_BYTES,
  ) {}

  write(jpeg: Uint8Array): void {
    if (this.fd !== undefined && this.offset + jpeg.length + 8 + 16 * (this.frames + 1) > this.segmentLimitBytes) this.finishSegment();
    if (this.fd === undefined) this.startSegment();
    const fd = this.fd!;
    const chunkHead = Buffer.alloc(8);
    chunkHead.write('00dc', 0, 'latin1');
    chunkHead.writeUInt32LE(jpeg.length, 4);
    const entry = Buffer.alloc(16);
    entry.write('00dc', 0, 'latin1');
    entry.writeUInt32LE(AVIIF_KEYFRAME, 4);
    entry.writeUInt32LE(this.offset - MOVI_FOURCC_AT, 8);
    entry.writeUInt32LE(jpeg.length, 12);
    this.index.push(entry);
    const padded = jpeg.length % 2 === 1;
    fs.writeSync(fd, chunkHead, 0, 8, this.offset);
    fs.writeSync(fd, jpeg, 0, jpeg.length, this.offset + 8);
    if (padded) fs.writeSync(fd, Buffer.alloc(1), 0, 1, this.offset + 8 + jpeg.length);
    this.offset += 8 + jpeg.length + (padded ? 1 : 0);
    this.frames++;
    this.largestFrame = Math.max(this.largestFrame, jpeg.length);
  }

  close(): void {
    if (this.fd !== undefined) this.finishSegment();
  }

  private startSegment(): void {
    const n = this.paths.length;
    const file = n === 0 ? this.basePath : this.basePath.replace(/(\.avi)?$/i, `-${n + 1}.avi`);
    this.paths.push(file);
    this.fd = fs.openSync(file, 'w');
    this.offset = HEADER_BYTES;
    this.index = [];
    this.frames = 0;
    this.largestFrame = 0;
    // Header now (sizes patched on close), so a crash still leaves a recognisable file.
    fs.writeSync(this.fd, this.header(0), 0, HEADER_BYTES, 0);
  }

  private finishSegment(): void {
    const fd = this.fd!;
    const idx = Buffer.concat([Buffer.from('idx1', 'latin1'), u32(this.index.length * 16), ...this.index]);
    fs.writeSync(fd, idx, 0, idx.length, this.offset);
    const fileSize = this.offset + idx.length;
    fs.writeSync(fd, this.header(fileSize), 0, HEADER_BYTES, 0);
    fs.closeSync(fd);
    this.fd = undefined;
  }

  private header(fileSize: number): Buffer {
    const h = Buffer.alloc(HEADER_BYTES);
    let at = 0;
    const fourcc = (s: string): void => {
      h.write(s, at, 'latin1');
      at += 4;
    };
    const dword = (v: number): void => {
      h.writeUInt32LE(v >>> 0, at);
      at += 4;
    };
    const word = (v: number): void => {
      h.writeUInt16LE(v, at);
      at += 2;
    };
    const rate = Math.round(this.fps * 1000);
    const moviBytes = this.offset - MOVI_FOURCC_AT;
    fourcc('RIFF');
    dword(Math.max(0, fileSize - 8));
    fourcc('AVI ');
    fourcc('LIST');
    dword(4 + 64 + 12 + 64 + 48);
    fourcc('hdrl');
    fourcc('avih');
    dword(56);
    dword(Math.round(1e6 / this.fps)); // microseconds per frame
    dword(Math.round(this.largestFrame * this.fps)); // max bytes per second
    dword(0); // padding granularity
    dword(AVIF_HASINDEX);
    dword(this.frames);
    dword(0); // initial frames
    dword(1); // streams
    dword(this.largestFrame);
    dword(this.width);
    dword(this.height);
    at += 16; // reserved
    fourcc('LIST');
    dword(4 + 64 + 48);
    fourcc('strl');
    fourcc('strh');
    dword(56);
    fourcc('vids');
    fourcc('MJPG');
    dword(0); // flags
    word(0); // priority
    word(0); // language
    dword(0); // initial frames
    dword(1000); // scale
    dword(rate); // rate: rate/scale = fps
    dword(0); // start
    dword(this.frames); // length
    dword(this.largestFrame);
    dword(0xffffffff); // quality: default
    dword(0); // sample size: varies
    word(0);
    word(0);
    word(this.width);
    word(this.height);
    fourcc('strf');
    dword(40);
    dword(40); // BITMAPINFOHEADER size
    dword(this.width);
    dword(this.height);
    word(1); // planes
    word(24); // bits per pixel
    fourcc('MJPG');
    dword(this.width * this.height * 3);
    dword(0);
    dword(0);
    dword(0);
    dword(0);
    fourcc('LIST');
    dword(moviBytes);
    fourcc('movi');
    return h;
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}
