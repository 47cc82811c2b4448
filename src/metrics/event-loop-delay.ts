/**
 * Samples how late a short repeating timer fires: the time the event loop
 * was busy with something else. Unlike prom-client's nodejs_eventloop_lag_*
 * gauges (whose histogram resets at every scrape), this feeds a cumulative
 * histogram, so any two scrapes give the delay percentiles between them.
 */
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'prom-client';

export class EventLoopDelaySampler {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(
    private readonly histogram: Histogram,
    private readonly intervalMs = 5,
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const lateMs = Math.max(0, now - this.last - this.intervalMs);
      this.last = now;
      this.histogram.observe(lateMs / 1000);
    }, this.intervalMs);
    // Metrics must never keep a process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
