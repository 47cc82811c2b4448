/**
 * Watches the server through its metrics endpoint during one measured
 * window: a scrape at the start, one per second (memory, event-loop max,
 * queue depth) and one at the end; histograms are diffed between the first
 * and the last, so the figures cover exactly the window.
 */
import { performance } from 'node:perf_hooks';
import type { ServerHealth } from './report-types.js';
import { round } from './stats.js';
import { scrape, windowMean, windowQuantile, type Samples } from './scrape.js';

export class ServerMonitor {
  private first: Samples | undefined;
  private last: Samples | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly rss: number[] = [];
  private loopMax = 0;
  private queueMax = 0;
  private errors = 0;
  private firstAt = 0;
  private lastAt = 0;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    this.first = await this.take();
    this.firstAt = performance.now();
    this.timer = setInterval(() => void this.take(), 1_000);
  }

  async stop(): Promise<ServerHealth> {
    if (this.timer) clearInterval(this.timer);
    this.last = await this.take();
    this.lastAt = performance.now();
    return this.health();
  }

  private async take(): Promise<Samples | undefined> {
    try {
      const s = await scrape(this.url);
      const rss = s.get('process_resident_memory_bytes');
      if (rss !== undefined) this.rss.push(round(rss / 2 ** 20, 1));
      this.loopMax = Math.max(this.loopMax, (s.get('nodejs_eventloop_lag_max_seconds') ?? 0) * 1000);
      this.queueMax = Math.max(this.queueMax, s.get('crowdline_queue_depth') ?? 0);
      return s;
    } catch {
      this.errors++;
      return undefined;
    }
  }

  private health(): ServerHealth {
    const a = this.first;
    const b = this.last;
    const p50 = a && b ? windowQuantile(a, b, 'crowdline_event_loop_delay_seconds', 0.5) : null;
    const p99 = a && b ? windowQuantile(a, b, 'crowdline_event_loop_delay_seconds', 0.99) : null;
    const batchMean = a && b ? windowMean(a, b, 'crowdline_batch_size') : null;
    const cpu = (s: Samples | undefined): number | undefined => s?.get('process_cpu_seconds_total');
    const cpuA = cpu(a);
    const cpuB = cpu(b);
    const wallS = (this.lastAt - this.firstAt) / 1000;
    return {
      eventLoopDelayMs: p50 && p99 ? { p50: round(p50.value * 1000), p99: round(p99.value * 1000), samples: p99.samples } : null,
      eventLoopMaxMs: a ? round(this.loopMax) : null,
      rssMb: this.rss.length > 0 ? { start: this.rss[0], end: this.rss[this.rss.length - 1], max: Math.max(...this.rss), samples: this.rss } : null,
      batchSizeMean: batchMean === null ? null : round(batchMean, 2),
      maxQueueDepth: a ? this.queueMax : null,
      cpuPct: cpuA !== undefined && cpuB !== undefined && wallS > 0 ? round(((cpuB - cpuA) / wallS) * 100, 1) : null,
    };
  }
}
