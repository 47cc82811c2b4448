/**
 * Slows down guessing: after a few failed authentications from one address,
 * each further attempt from it waits before it is even checked, doubling per
 * failure up to a cap. Forgotten after a quiet spell; the table is bounded
 * so a scan from many addresses cannot grow memory. Addresses are counted by
 * their key (src/common/address-key.ts: IPv6 by /64), so hopping addresses
 * inside one /64 starts no one clean.
 */
import { addressKey } from '../common/address-key.js';

export interface ThrottleOptions {
  /** Failures allowed before any delay. */
  freeFailures: number;
  firstDelayMs: number;
  maxDelayMs: number;
  /** An address with no failure for this long starts clean. */
  forgetAfterMs: number;
  maxAddresses: number;
  now?: () => number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { freeFailures: 3, firstDelayMs: 250, maxDelayMs: 10_000, forgetAfterMs: 10 * 60_000, maxAddresses: 10_000 };

interface Record {
  failures: number;
  lastAt: number;
  /** The one full address every failure came from; undefined once two addresses of the key have failed. */
  only: string | undefined;
}

export class FailureThrottle {
  private readonly table = new Map<string, Record>();
  private readonly options: ThrottleOptions;
  private readonly now: () => number;

  constructor(options: Partial<ThrottleOptions> = {}) {
    this.options = { ...DEFAULT_THROTTLE, ...options };
    this.now = this.options.now ?? Date.now;
  }

  /** How long an attempt from `address` must wait before it is checked. */
  delayMs(address: string): number {
    const rec = this.live(addressKey(address));
    if (!rec) return 0;
    const over = rec.failures - this.options.freeFailures;
    return over < 0 ? 0 : Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** over);
  }

  failed(address: string): void {
    const key = addressKey(address);
    const rec = this.live(key) ?? { failures: 0, lastAt: 0, only: address };
    if (rec.only !== address) rec.only = undefined;
    rec.failures++;
    rec.lastAt = this.now();
    // Re-insert: the Map's order is then least recently failed first.
    this.table.delete(key);
    this.table.set(key, rec);
    if (this.table.size > this.options.maxAddresses) this.table.delete(this.table.keys().next().value as string);
  }

  /**
   * A success clears the record only when every failure in it came from this very address (a camera that
   * mistyped its secret): a host that authenticates must not wipe the failures of a guesser sharing its /64.
   */
  succeeded(address: string): void {
    const key = addressKey(address);
    if (this.table.get(key)?.only === address) this.table.delete(key);
  }

  private live(key: string): Record | undefined {
    const rec = this.table.get(key);
    if (rec && this.now() - rec.lastAt > this.options.forgetAfterMs) {
      this.table.delete(key);
      return undefined;
    }
    return rec;
  }
}
