/**
 * One captured frame. In-process sources (files, folders) produce decoded
 * images; capture processes (live cameras) produce JPEGs. Each form is made
 * from the other only when something needs it, and at most once: a live
 * frame that is sent but never drawn or recorded is never decoded.
 */
import type { Mat, OpenCV } from '../opencv.js';

/** What a source hands over: a decoded image or a JPEG, and when it was captured. */
export type RawFrame = { image: Mat; jpeg?: undefined; capturedAtMs?: number } | { jpeg: Buffer; image?: undefined; capturedAtMs?: number };

export class Frame {
  private decoded: Mat | undefined;
  private encoded: Buffer | undefined;

  constructor(
    private readonly cv: OpenCV,
    readonly index: number,
    /** Wall clock (ms since the epoch) when the frame was captured. */
    readonly captureTimeMs: number,
    raw: RawFrame,
  ) {
    this.decoded = raw.image;
    this.encoded = raw.jpeg;
  }

  /** The decoded image (BGR). */
  get image(): Mat {
    this.decoded ??= this.cv.imdecode(this.encoded!, this.cv.IMREAD_COLOR);
    return this.decoded;
  }

  /** The JPEG sent to the server: as captured, or encoded once at this quality. */
  jpeg(quality: number): Buffer {
    this.encoded ??= this.cv.imencode('.jpg', this.decoded!, [this.cv.IMWRITE_JPEG_QUALITY, quality]);
    return this.encoded;
  }

  /** Whether encoding still has to happen (for cost accounting). */
  get needsEncoding(): boolean {
    return this.encoded === undefined;
  }
}
