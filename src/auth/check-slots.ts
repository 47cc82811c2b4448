/**
 * Token checks (scrypt: ~16 MiB and tens of ms of libuv's thread pool each)
 * run a few at a time, taken in turn from each address that has one
 * waiting, so a flood of HELLOs from one address delays another address's
 * camera by one check, not by the whole flood. One address may have only a
 * few checks pending; a check whose connection went away while it waited is
 * dropped before it starts. Addresses are counted by their key
 * (src/common/address-key.ts: IPv6 by /64), as every per-address limit.
 */
import { addressKey } from '../common/address-key.js';

export interface CheckSlotLimits {
  /** Token checks running at once, all addresses together. */
  maxRunning: number;
  /** Checks one address may have pending (waiting or running); beyond it a HELLO is refused "busy". */
  maxPerAddress: number;
}

/** Two at once: half of libuv's default pool of 4, and 32 MiB of scrypt memory at most. */
export const DEFAULT_CHECK_SLOT_LIMITS: CheckSlotLimits = { maxRunning: 2, maxPerAddress: 8 };

/** What the slots have done, for metrics and tests. */
export interface CheckSlotStats {
  running: number;
  waiting: number;
  /** Checks that got a slot and ran. */
  started: number;
  /** Checks dropped before they started: their connection closed while they waited. */
  abandoned: number;
  /** HELLOs refused because their address had maxPerAddress checks pending. */
  refused: number;
  /** The most checks one address has had pending at once. */
  peakPerAddress: number;
}

interface Waiter {
  start: () => void;
  skip: () => void;
  gone?: AbortSignal;
  alive?: () => boolean;
  onAbort?: () => void;
}

/** A held slot: call it once the check is over. */
export type ReleaseSlot = () => void;

export class CheckSlots {
  private running = 0;
  /** Address -> its waiting checks, oldest first. Map order is the round-robin turn: an address goes to the back after its turn. */
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly pending = new Map<string, number>();
  private readonly counts = { started: 0, abandoned: 0, refused: 0, peakPerAddress: 0 };

  constructor(private readonly limits: CheckSlotLimits = DEFAULT_CHECK_SLOT_LIMITS) {}

  get stats(): CheckSlotStats {
    let waiting = 0;
    for (const queue of this.waiting.values()) waiting += queue.length;
    return { running: this.running, waiting, ...this.counts };
  }

  /**
   * Waits for a slot for a check from `address` (undefined: no per-address
   * limit, e.g. a console sign-in, which has its own throttle). Resolves to
   * a release function; to 'gone' when `gone` fired first, or `alive` says
   * no when the slot comes (the check must not run); or to 'busy' at once
   * when the address already has maxPerAddress checks pending. A slot is
   * never handed over in the same turn of the event loop as the request, so
   * a reset read together with the HELLO is seen first.
   */
  acquire(address: string | undefined, o: { gone?: AbortSignal; alive?: () => boolean } = {}): Promise<ReleaseSlot | 'gone' | 'busy'> {
    const { gone, alive } = o;
    if (gone?.aborted) return Promise.resolve('gone');
    // '' (no address) is no address key: addressKey never returns it.
    const key = address === undefined ? '' : addressKey(address);
    const pending = this.pending.get(key) ?? 0;
    if (address !== undefined && pending >= this.limits.maxPerAddress) {
      this.counts.refused++;
      return Promise.resolve('busy');
    }
    this.pending.set(key, pending + 1);
    this.counts.peakPerAddress = Math.max(this.counts.peakPerAddress, address === undefined ? 0 : pending + 1);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        gone,
        alive,
        start: () => resolve(this.release(key)),
        skip: () => {
          this.counts.abandoned++;
          this.done(key);
          resolve('gone');
        },
      };
      if (gone) {
        waiter.onAbort = () => {
          if (this.dequeue(key, waiter)) waiter.skip();
        };
        gone.addEventListener('abort', waiter.onAbort, { once: true });
      }
      const queue = this.waiting.get(key);
      if (queue) queue.push(waiter);
      else this.waiting.set(key, [waiter]);
      this.scheduleNext();
    });
  }

  private scheduled = false;

  private scheduleNext(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  /** Starts waiting checks while slots are free, one per address in turn. */
  private next(): void {
    while (this.running < this.limits.maxRunning && this.waiting.size > 0) {
      const [key, queue] = this.waiting.entries().next().value as [string, Waiter[]];
      const waiter = queue.shift() as Waiter;
      // Its turn is taken: the address goes to the back of the round.
      this.waiting.delete(key);
      if (queue.length > 0) this.waiting.set(key, queue);
      if (waiter.onAbort) waiter.gone?.removeEventListener('abort', waiter.onAbort);
      if (waiter.gone?.aborted || (waiter.alive && !waiter.alive())) {
        waiter.skip();
        continue;
      }
      this.running++;
      this.counts.started++;
      waiter.start();
    }
  }

  private release(key: string): ReleaseSlot {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.running--;
      this.done(key);
      this.next();
    };
  }

  private done(key: string): void {
    const left = (this.pending.get(key) ?? 1) - 1;
    if (left > 0) this.pending.set(key, left);
    else this.pending.delete(key);
  }

  private dequeue(key: string, waiter: Waiter): boolean {
    const queue = this.waiting.get(key);
    const at = queue?.indexOf(waiter) ?? -1;
    if (!queue || at < 0) return false;
    queue.splice(at, 1);
    if (queue.length === 0) this.waiting.delete(key);
    return true;
  }
}
