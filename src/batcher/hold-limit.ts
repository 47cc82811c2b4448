/**
 * How many workers one sender's long frames may hold at once.
 *
 * Scheduling is not preemptive: once a sender's frames of ~0.5 s of a
 * worker each (the costliest JPEGs the limits allow) hold every worker,
 * another camera's next frame waits for one of them to finish, whatever its
 * share of worker time (the fair queue orders frames, it cannot free a
 * worker). So a frame estimated to cost more than `longFrameUs` (a **long**
 * frame) starts only while its sender holds fewer long frames than its
 * share of the workers, if any other sender of its class or above is
 * **active**: has frames waiting, has a frame running, or streams at a rate
 * that predicts its next frame before this one would finish (last arrival +
 * its mean interval, unless it has been silent for three intervals).
 *
 * A sender's share, in workers, is max-min fair (as Linux CFS bandwidth or
 * Triton's rate limiter reserve capacity only for those who use it): the
 * larger of its weighted part of the workers (at least one) and what the
 * other active senders leave, each of them needing at most its own part: as
 * many workers as it has frames running (at least one) unless it has frames
 * waiting. So two workers, a greedy sender of long frames and a camera at 5
 * fps: the greedy one holds one worker and the camera always finds the other
 * free; once the camera stops (silent for three of its intervals), the
 * greedy one gets both again.
 *
 * The same holds one tier down, among the connections of one sender (a
 * camera and a peer of costly frames behind one address): the batcher keeps
 * one limit for senders and one for connections, and a long frame starts
 * only where both allow it.
 *
 * Frames under the bound start whenever a worker is free (work-conserving):
 * a sender of ordinary frames may hold every worker, as another sender's
 * frame waits at most one of them. With no other active sender, long frames
 * too get every worker.
 *
 * Pure: no timers; the caller passes the time (ms).
 */

/**
 * What the limit reads of the units it shares workers among: senders
 * (fair-queue groups) or, one tier down, the connections of one sender.
 */
export interface HoldView<S> {
  /** Share relative to the others (> 0). */
  weight(unit: S): number;
  /** Has frames waiting. */
  waiting(unit: S): boolean;
  /** Is `other` reserved for when `unit` decides (senders: of its class or above, as the fair queue serves a higher class first; connections: of the same sender). */
  competes(other: S, unit: S): boolean;
}

/** A sender silent for this many of its mean intervals is no longer expected. */
export const STALE_INTERVALS = 3;
/** Moving-average weight of a new inter-arrival gap. */
const ALPHA = 0.2;

/** Default bound above which a frame is long: ~5 ordinary 768x576 frames of a CPU worker; the costliest legal frame is ~500 ms. */
export const DEFAULT_LONG_FRAME_MS = 250;

class SenderHold {
  /** Frames of the sender inside a worker. */
  running = 0;
  /** Of them, long ones. */
  long = 0;
  /** When its last frame arrived (ms); NaN before the first. */
  lastMs = Number.NaN;
  /** Mean gap between its frames (ms); NaN before the second. */
  intervalMs = Number.NaN;
  /** Its connections are all closed: dropped once nothing of it runs. */
  gone = false;
}

/** A share and the frame costs it holds for: those at which the same senders are expected (ms of the frame, [fromMs, toMs)). */
interface ShareFound {
  share: number;
  nowMs: number;
  fromMs: number;
  toMs: number;
}

export class HoldLimit<S> {
  private readonly senders = new Map<S, SenderHold>();
  /**
   * Shares found since the last change: each share() walks every sender it
   * tracks, and one pick asks it again for each connection of a held sender
   * (bench/hold-limit-cost.ts: 0.4-0.67 ms of main thread per arriving frame beside
   * 1,024 senders), for the same answer. Cleared by every change here and
   * by newPick() (the queues the view reads changed).
   */
  private readonly found = new Map<S, ShareFound>();

  /**
   * `workers`: frames that run at once (the batcher's batches in flight);
   * `longFrameUs`: estimated worker time above which a frame is long.
   */
  constructor(
    readonly workers: number,
    readonly longFrameUs: number,
    private readonly view: HoldView<S>,
  ) {
    if (!(Number.isInteger(workers) && workers >= 1)) throw new RangeError(`workers must be an integer >= 1, got ${workers}`);
    if (!(longFrameUs >= 0)) throw new RangeError(`longFrameUs must be >= 0, got ${longFrameUs}`);
  }

  /** Is a frame of this estimated cost long? */
  isLong(costUs: number): boolean {
    return costUs > this.longFrameUs;
  }

  /** The queues the view reads may have changed: shares are found afresh. */
  newPick(): void {
    this.found.clear();
  }

  /** A frame of `sender` arrived (is queued) at `nowMs`. */
  arrived(sender: S, nowMs: number): void {
    this.found.clear();
    const h = this.entry(sender);
    h.gone = false;
    if (!Number.isNaN(h.lastMs)) {
      const gap = Math.max(0, nowMs - h.lastMs);
      h.intervalMs = Number.isNaN(h.intervalMs) ? gap : h.intervalMs + ALPHA * (gap - h.intervalMs);
    }
    h.lastMs = nowMs;
  }

  /** A frame of `sender`, of estimated cost `costUs`, went to a worker; returns whether it is long (pass it to finished()). */
  started(sender: S, costUs: number): boolean {
    this.found.clear();
    const h = this.entry(sender);
    const long = this.isLong(costUs);
    h.running++;
    if (long) h.long++;
    return long;
  }

  finished(sender: S, long: boolean): void {
    this.found.clear();
    const h = this.senders.get(sender);
    if (!h) return;
    h.running--;
    if (long) h.long--;
    if (h.gone && h.running <= 0) this.senders.delete(sender);
  }

  /** The sender has no connection left: it is expected no more, and forgotten once nothing of it runs. */
  forget(sender: S): void {
    this.found.clear();
    const h = this.senders.get(sender);
    if (!h) return;
    h.gone = true;
    h.lastMs = Number.NaN;
    h.intervalMs = Number.NaN;
    if (h.running <= 0) this.senders.delete(sender);
  }

  /** Long frames of the sender running now. */
  longRunning(sender: S): number {
    return this.senders.get(sender)?.long ?? 0;
  }

  /**
   * May a frame of `sender` of estimated cost `costUs` start now? Always if
   * it is not long; else if no other sender of its class or above is active,
   * or its sender holds fewer long frames than its share of the workers.
   */
  mayStart(sender: S, costUs: number, nowMs: number): boolean {
    if (!this.isLong(costUs)) return true;
    return this.longRunning(sender) < this.share(sender, costUs, nowMs);
  }

  /**
   * Workers the sender's long frames may hold now, deciding on a frame of
   * `costUs`: every worker with no other active sender, else its max-min
   * share (see the module comment). Remembered until a change here or
   * newPick(): call newPick() once the view's answers (waiting, weights)
   * may have changed.
   */
  share(sender: S, costUs: number, nowMs: number): number {
    const frameMs = costUs / 1000;
    const known = this.found.get(sender);
    if (known && known.nowMs === nowMs && frameMs >= known.fromMs && frameMs < known.toMs) return known.share;
    const v = this.view;
    // The senders expected, and the frame lengths for which the same ones are: one expected only because its next
    // frame is due within this frame is expected for longer frames too; one due later, for frames up to then.
    const expected: Array<[S, SenderHold]> = [];
    let fromMs = Number.NEGATIVE_INFINITY;
    let toMs = Number.POSITIVE_INFINITY;
    let weights = v.weight(sender);
    for (const [s, h] of this.senders) {
      if (s === sender || !v.competes(s, sender)) continue;
      const due = this.dueMs(s, h, nowMs);
      if (due > frameMs) {
        toMs = Math.min(toMs, due);
        continue;
      }
      fromMs = Math.max(fromMs, due);
      expected.push([s, h]);
      weights += v.weight(s);
    }
    let share = this.workers;
    if (expected.length > 0) {
      const part = (weight: number): number => Math.max(1, Math.floor((this.workers * weight) / weights));
      let needed = 0;
      for (const [s, h] of expected) needed += Math.min(part(v.weight(s)), v.waiting(s) ? this.workers : Math.max(1, h.running));
      share = Math.max(part(v.weight(sender)), this.workers - needed);
    }
    this.found.set(sender, { share, nowMs, fromMs, toMs });
    return share;
  }

  /**
   * The earliest time after `nowMs` at which a sender now expected stops
   * being expected (silent for STALE_INTERVALS of its intervals), so a
   * frame held back for it may start: Infinity if none.
   */
  nextExpiryMs(nowMs: number): number {
    let at = Number.POSITIVE_INFINITY;
    for (const h of this.senders.values()) {
      if (Number.isNaN(h.intervalMs)) continue;
      const expires = h.lastMs + STALE_INTERVALS * h.intervalMs;
      if (expires > nowMs && expires < at) at = expires;
    }
    return at;
  }

  /** Senders the limit keeps state for (bounded by open senders plus those with frames still running). */
  get size(): number {
    return this.senders.size;
  }

  /**
   * In how many ms the sender's next frame is due: it is active for a frame
   * at least that long. -Infinity while it has frames waiting or running
   * (active for every frame), Infinity when it is not expected at all (no
   * rate yet, or silent for STALE_INTERVALS of its intervals).
   */
  private dueMs(sender: S, h: SenderHold, nowMs: number): number {
    if (this.view.waiting(sender) || h.running > 0) return Number.NEGATIVE_INFINITY;
    if (Number.isNaN(h.intervalMs)) return Number.POSITIVE_INFINITY;
    const silent = nowMs - h.lastMs;
    if (silent >= STALE_INTERVALS * h.intervalMs) return Number.POSITIVE_INFINITY;
    // Its next frame is due before the frame deciding would finish.
    return h.lastMs + h.intervalMs - nowMs;
  }

  private entry(sender: S): SenderHold {
    let h = this.senders.get(sender);
    if (!h) {
      h = new SenderHold();
      this.senders.set(sender, h);
    }
    return h;
  }
}
