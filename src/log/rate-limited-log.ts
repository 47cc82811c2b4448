/**
 * A log that a flood of peers cannot flood: each kind of line (protocol
 * error, refused connection, timeout...) may print `burst` lines per
 * `intervalMs`; beyond that lines are counted, and one summary line per
 * interval says how many were suppressed. Lines of other kinds are never
 * held back by a noisy one. Each line carries its kind as the `event`
 * field (level warn unless the caller says otherwise).
 */
import type { LogFields, LogSink } from './logger.js';

export interface RateLimitOptions {
  /** Lines of one kind printed per interval before suppressing. */
  burst: number;
  intervalMs: number;
}

export const DEFAULT_LOG_RATE_LIMIT: RateLimitOptions = { burst: 20, intervalMs: 10_000 };

interface KindState {
  printed: number;
  suppressed: number;
}

export class RateLimitedLog {
  private readonly kinds = new Map<string, KindState>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: LogSink,
    private readonly options: RateLimitOptions = DEFAULT_LOG_RATE_LIMIT,
  ) {}

  /** Prints `line` unless lines of `kind` are over their budget for this interval. */
  write(kind: string, line: string, fields?: LogFields): void {
    let state = this.kinds.get(kind);
    if (!state) {
      state = { printed: 0, suppressed: 0 };
      this.kinds.set(kind, state);
    }
    this.startInterval();
    if (state.printed < this.options.burst) {
      state.printed++;
      this.sink(line, { level: 'warn', event: kind, ...fields });
    } else {
      state.suppressed++;
    }
  }

  /** Ends the current interval now: summaries out, budgets reset (also called on close). */
  flush(): void {
    for (const [kind, state] of this.kinds) {
      if (state.suppressed > 0) {
        this.sink(`${kind}: ${state.suppressed} similar line(s) suppressed in the last ${Math.round(this.options.intervalMs / 1000)} s`, {
          level: 'warn',
          event: 'suppressed',
          kind,
          suppressed: state.suppressed,
        });
      }
    }
    this.kinds.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private startInterval(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.options.intervalMs);
    this.timer.unref();
  }
}
