/**
 * Frame-rate and pixel-rate caps per sender: token buckets with a burst,
 * one per sender and shared by all of its connections (an authenticated
 * identity's camera, or an unauthenticated client address), so opening more
 * connections buys no more rate. The session asks before it admits a frame;
 * what it does over the cap (pause reading, or answer "dropped") is its
 * overload policy's business, not this module's.
 */
import { performance } from 'node:perf_hooks';

/** A sender's caps; 0 means no cap. */
export interface RateCap {
  /** Frames per second. */
  fps: number;
  /** Decoded pixels (width x height from the JPEG header) per second. */
  pixelsPerSecond: number;
}

export interface RateCapsOptions {
  /** Bucket depth: how many seconds' worth of its rate a sender may send at once after a pause. */
  burstMs: number;
  /** Clock in ms (tests move it). */
  now?: () => number;
}

/** Which cap a frame was over. */
export type CapExceeded = 'frame-rate-cap' | 'pixel-rate-cap';

/** One connection's hold on its sender's bucket. */
export interface RateLease {
  /** The first cap a frame taken now would be over, or undefined when there is room. */
  over(): CapExceeded | undefined;
  /** Milliseconds until over() may say there is room (0: now). */
  waitMs(): number;
  /**
   * Charges a frame of `pixels` decoded pixels, or refuses it (nothing is
   * charged): the cap it was over. A frame is taken while the pixel bucket
   * is not in debt, and may take it into debt, so one frame larger than the
   * whole burst still goes through and the long-run rate is exact.
   */
  take(pixels: number): CapExceeded | undefined;
  /** The connection closed. */
  release(): void;
}

interface Bucket {
  cap: RateCap;
  frames: number;
  pixels: number;
  at: number;
  /** Connections holding it. */
  holders: number;
}

/** Senders remembered (those with a connection, and buckets still refilling after their last connection closed). */
const MAX_IDLE_BUCKETS = 4096;

export class RateCaps {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly burstS: number;
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: RateCapsOptions) {
    this.burstS = options.burstMs / 1000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Senders with a bucket (held, or refilling after their last connection left). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * A connection of sender `key` starts sending under `cap`. A bucket kept
   * from the sender's earlier connections is reused: reconnecting does not
   * refill it. The newest connection's cap applies (a reload may change it).
   */
  acquire(key: string, cap: RateCap): RateLease {
    let bucket = this.buckets.get(key);
    const now = this.now();
    if (bucket) {
      this.refill(bucket, now);
      bucket.cap = cap;
      this.clamp(bucket);
      // Re-insert: Map order is then least recently used first.
      this.buckets.delete(key);
    } else {
      bucket = { cap, frames: this.frameDepth(cap), pixels: this.pixelDepth(cap), at: now, holders: 0 };
    }
    bucket.holders++;
    this.buckets.set(key, bucket);
    this.sweep(now);
    const held = bucket;
    let released = false;
    return {
      over: () => this.over(held),
      waitMs: () => this.waitMs(held),
      take: (pixels) => {
        const over = this.over(held);
        if (over) return over;
        if (held.cap.fps > 0) held.frames -= 1;
        if (held.cap.pixelsPerSecond > 0) held.pixels -= pixels;
        return undefined;
      },
      release: () => {
        if (released) return;
        released = true;
        held.holders--;
      },
    };
  }

  private over(bucket: Bucket): CapExceeded | undefined {
    this.refill(bucket, this.now());
    if (bucket.cap.fps > 0 && bucket.frames < 1) return 'frame-rate-cap';
    if (bucket.cap.pixelsPerSecond > 0 && bucket.pixels < 0) return 'pixel-rate-cap';
    return undefined;
  }

  private waitMs(bucket: Bucket): number {
    this.refill(bucket, this.now());
    const { fps, pixelsPerSecond } = bucket.cap;
    const forFrame = fps > 0 && bucket.frames < 1 ? ((1 - bucket.frames) / fps) * 1000 : 0;
    const forPixels = pixelsPerSecond > 0 && bucket.pixels < 0 ? (-bucket.pixels / pixelsPerSecond) * 1000 : 0;
    return Math.max(forFrame, forPixels);
  }

  private refill(bucket: Bucket, now: number): void {
    const seconds = Math.max(0, now - bucket.at) / 1000;
    bucket.at = now;
    bucket.frames = Math.min(this.frameDepth(bucket.cap), bucket.frames + seconds * bucket.cap.fps);
    bucket.pixels = Math.min(this.pixelDepth(bucket.cap), bucket.pixels + seconds * bucket.cap.pixelsPerSecond);
  }

  /** A lowered cap (reload) does not leave a fuller bucket than its depth. */
  private clamp(bucket: Bucket): void {
    bucket.frames = Math.min(bucket.frames, this.frameDepth(bucket.cap));
    bucket.pixels = Math.min(bucket.pixels, this.pixelDepth(bucket.cap));
  }

  /** At least one frame, so a cap below 1 / burst still lets frames through at its rate. */
  private frameDepth(cap: RateCap): number {
    return Math.max(1, cap.fps * this.burstS);
  }

  private pixelDepth(cap: RateCap): number {
    return cap.pixelsPerSecond * this.burstS;
  }

  /**
   * Forgets senders no connection holds whose bucket has refilled (it would
   * start full anyway), at most once a second; and beyond MAX_IDLE_BUCKETS
   * the least recently used idle ones at once, so churning addresses cannot
   * grow the table without bound (such a sender starts full again: it gets
   * one more burst, never more than its rate over time).
   */
  private sweep(now: number): void {
    if (now - this.sweptAt >= 1000) {
      this.sweptAt = now;
      for (const [key, bucket] of this.buckets) {
        if (bucket.holders > 0) continue;
        this.refill(bucket, now);
        if (bucket.frames >= this.frameDepth(bucket.cap) && bucket.pixels >= this.pixelDepth(bucket.cap)) this.buckets.delete(key);
      }
    }
    if (this.buckets.size <= MAX_IDLE_BUCKETS) return;
    // Map order is least recently acquired first: idle buckets gather at the front.
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size <= MAX_IDLE_BUCKETS) break;
      if (bucket.holders === 0) this.buckets.delete(key);
    }
  }
}
