/**
 * Hears the line tracker (in the frame path, so it only adds to a map) and
 * gathers what the store writes at its next flush: per camera, line and
 * second, the people counted crossing in and out. A counting window closes
 * about once a second and only when someone crossed, so the rows are sparse:
 * no row means nothing was counted. Everything it holds is bounded.
 */
import type { LineListener, LineReading } from '../lines/line-tracker.js';
import type { RecorderLimits } from './recorder.js';
import type { Clock, HistoryCounters } from './types.js';

export interface LineSecond {
  camera: string;
  line: string;
  /** Epoch seconds. */
  t: number;
  in: number;
  out: number;
}

export class LineRecorder implements LineListener {
  private seconds = new Map<string, LineSecond>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: Pick<RecorderLimits, 'maxSkewMs' | 'maxPendingSamples'>,
    private readonly counters?: HistoryCounters,
  ) {}

  reading(r: LineReading): void {
    if (!(Number.isFinite(r.stepIn) && Number.isFinite(r.stepOut) && r.stepIn >= 0 && r.stepOut >= 0)) {
      this.counters?.dropped('line', 'not-finite');
      return;
    }
    if (r.stepIn === 0 && r.stepOut === 0) return;
    const t = Math.floor(this.stamp(r.timeMs) / 1000);
    const k = `${r.camera}\u0000${r.line}\u0000${t}`;
    const s = this.seconds.get(k);
    if (s) {
      s.in += r.stepIn;
      s.out += r.stepOut;
      return;
    }
    if (this.seconds.size >= this.limits.maxPendingSamples) {
      this.counters?.dropped('line', 'pending-full');
      return;
    }
    this.seconds.set(k, { camera: r.camera, line: r.line, t, in: r.stepIn, out: r.stepOut });
  }

  /** Everything gathered since the last call. */
  take(): LineSecond[] {
    const out = [...this.seconds.values()];
    this.seconds = new Map();
    return out;
  }

  get pending(): number {
    return this.seconds.size;
  }

  /** Capture time, unless it is too far from the server's clock (as for zones). */
  private stamp(timeMs: number): number {
    const now = this.clock.now();
    if (Number.isFinite(timeMs) && Math.abs(timeMs - now) <= this.limits.maxSkewMs) return timeMs;
    this.counters?.skewed();
    return now;
  }
}
