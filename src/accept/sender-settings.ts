/**
 * A connection's share of the workers and its rate caps, from the three
 * places that may set them, field by field (docs/reliability.md,
 * "Weights, caps and classes per camera"):
 *
 *   the site file's camera entry  >  the credentials file's identity entry  >  the server's defaults
 *
 * The site file describes one camera, the credentials file an identity that
 * may send for several, so the more specific one wins. An authenticated
 * camera's caps are one bucket (identity/camera).
 *
 * Who holds the share of an authenticated camera is its identity: all its
 * cameras together get the identity's weight (credentials entry, else 1),
 * split among them by their site file weights (else 1), so naming more
 * cameras buys an identity no more of the workers. A camera has a share of
 * its own (its site file weight, beside its identity's) only where the
 * operator said both: the identity's `cameras:` list names it, and the site
 * file's entry sets its weight. An identity allowed any camera name cannot
 * turn names into shares. A peer with no identity
 * (no --auth, legacy) is its address: weight 1, class 0 and the --unauth-*
 * caps by default; the site file's entry for the camera it names still
 * applies (without --auth anyone may claim any camera name, so that is all
 * a name is worth), its caps in a bucket of their own per address and
 * camera, on top of the address's.
 */
import type { FlowShare } from '../batcher/fair-queue.js';
import type { ServerOptions } from './options.js';
import type { CapExceeded, RateCap, RateCaps, RateLease } from './rate-caps.js';
import { addressSender, identitySender } from './sender-key.js';
import type { SenderSettings } from '../common/sender-share.js';

export { MAX_FPS, MAX_PRIORITY, MAX_WEIGHT, MIN_PRIORITY, MIN_WEIGHT, type SenderSettings } from '../common/sender-share.js';

/** Who the connection is, as the server knows it once its HELLO is accepted (or at once for legacy). */
export interface SenderInput {
  /** The peer's address (the server's per-address key). */
  host: string;
  /**
   * The authenticated identity: its name, its label (identity/camera), its
   * credentials entry's settings, and whether that entry's `cameras:` list
   * names this camera; absent: unauthenticated.
   */
  identity?: { name: string; label: string; settings: SenderSettings; namedCamera: boolean };
  /** The camera the connection names (HELLO), and the site file's entry for it, if any. */
  camera?: string;
  site?: SenderSettings;
}

/** One bucket a connection sends under, and how replies name it. */
export interface CapBucket {
  key: string;
  cap: RateCap;
  /** "this camera", "this address (...)". */
  whose: string;
  /** The settings that set the caps, named in replies and logs. */
  flags: { fps: string; pixels: string };
}

export interface ResolvedSender {
  /** Fair-queue group: the sender (the share holder). */
  group: string;
  /** The connection's weight inside its group, and its class. */
  share: FlowShare;
  /** The group's weight, as this connection claims it (fair-queue.ts: the group takes the largest claim). */
  groupWeight: number;
  /** Buckets that must all have room for a frame (none: no caps). */
  buckets: CapBucket[];
}

const SITE = 'its site file entry';
const CREDENTIALS = 'its credentials entry';

export function resolveSender(input: SenderInput, options: ServerOptions): ResolvedSender {
  const site = input.site ?? {};
  if (input.identity) {
    const own = input.identity.settings;
    // Field by field: the site file's camera entry, else the identity's credentials entry, else the default.
    const pick = (key: keyof SenderSettings, fallback: number, flag: string): { value: number; from: string } => {
      const fromSite = site[key];
      const fromCredentials = own[key];
      if (fromSite !== undefined) return { value: fromSite, from: SITE };
      if (fromCredentials !== undefined) return { value: fromCredentials, from: CREDENTIALS };
      return { value: fallback, from: flag };
    };
    const fps = pick('maxFps', options.maxFps, '--max-fps');
    const pixels = pick('maxPixelRate', options.maxPixelRate, '--max-pixel-rate');
    const bucket: CapBucket = {
      key: identitySender(input.identity.label),
      cap: { fps: fps.value, pixelsPerSecond: pixels.value },
      whose: 'this camera',
      flags: { fps: fps.from, pixels: pixels.from },
    };
    const priority = pick('priority', 0, 'default').value;
    const buckets = hasCap(bucket.cap) ? [bucket] : [];
    // A share of its own only where the credentials entry names the camera and the site file weighs it.
    if (input.identity.namedCamera && site.weight !== undefined) {
      return { group: identitySender(input.identity.label), share: { weight: site.weight, priority }, groupWeight: site.weight, buckets };
    }
    // Else the identity's share (credentials entry, else 1), split among its cameras by their site file weights.
    return { group: identitySender(input.identity.name), share: { weight: site.weight ?? 1, priority }, groupWeight: own.weight ?? 1, buckets };
  }
  const address = addressSender(input.host);
  const buckets: CapBucket[] = [];
  const own: CapBucket = {
    key: address,
    cap: { fps: options.unauthMaxFps, pixelsPerSecond: options.unauthMaxPixelRate },
    whose: 'this address (unauthenticated peers share one cap per address)',
    flags: { fps: '--unauth-max-fps', pixels: '--unauth-max-pixel-rate' },
  };
  if (hasCap(own.cap)) buckets.push(own);
  // The camera's own caps, per address (a peer elsewhere claiming its name cannot use up this one's).
  const camera: RateCap = { fps: site.maxFps ?? 0, pixelsPerSecond: site.maxPixelRate ?? 0 };
  if (hasCap(camera) && input.camera !== undefined)
    buckets.push({ key: `${address}/camera:${input.camera}`, cap: camera, whose: 'this camera (from this address)', flags: { fps: SITE, pixels: SITE } });
  const weight = site.weight ?? 1;
  return { group: address, share: { weight, priority: site.priority ?? 0 }, groupWeight: weight, buckets };
}

function hasCap(cap: RateCap): boolean {
  return cap.fps > 0 || cap.pixelsPerSecond > 0;
}

/**
 * The buckets a connection holds: a frame needs room in all of them, and is
 * charged to all of them. Says which cap a frame was over, and why, in the
 * words replies and logs use.
 */
export class SenderCaps {
  private readonly held: Array<{ bucket: CapBucket; lease: RateLease }>;
  /** Which bucket the last refusal came from. */
  private last = 0;

  constructor(caps: RateCaps, buckets: readonly CapBucket[]) {
    this.held = buckets.map((bucket) => ({ bucket, lease: caps.acquire(bucket.key, bucket.cap) }));
  }

  /** The first cap a frame taken now would be over, or undefined. */
  over(): CapExceeded | undefined {
    for (let i = 0; i < this.held.length; i++) {
      const over = this.held[i].lease.over();
      if (over) {
        this.last = i;
        return over;
      }
    }
    return undefined;
  }

  /** Milliseconds until every bucket may have room. */
  waitMs(): number {
    return Math.max(0, ...this.held.map((h) => h.lease.waitMs()));
  }

  /** Charges a frame of `pixels` to every bucket, or refuses it (nothing charged): the cap it was over. */
  take(pixels: number): CapExceeded | undefined {
    const over = this.over();
    if (over) return over;
    for (const h of this.held) h.lease.take(pixels);
    return undefined;
  }

  /** "this camera is over its frame-rate cap (5 frames/s, its site file entry)". */
  reason(cap: CapExceeded): string {
    const { bucket } = this.held[this.last] ?? this.held[0];
    const what =
      cap === 'frame-rate-cap'
        ? `frame-rate cap (${bucket.cap.fps} frames/s, ${bucket.flags.fps})`
        : `pixel-rate cap (${bucket.cap.pixelsPerSecond} pixels/s, ${bucket.flags.pixels})`;
    return `${bucket.whose} is over its ${what}`;
  }

  release(): void {
    for (const h of this.held) h.lease.release();
  }
}
