/**
 * Retry delays: exponential with jitter, capped, reset after a success.
 * Jitter keeps many cameras that failed together (a switch reboot, a server
 * restart) from all retrying in the same instant.
 */
export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Failures since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next try: first * 2^n, capped, then scaled by a random 0.5..1. */
  next(): number {
    const { firstMs, maxMs, random = Math.random } = this.options;
    const ceiling = Math.min(maxMs, firstMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling * (0.5 + 0.5 * random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
