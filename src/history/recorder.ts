/**
 * Hears the zone tracker (in the frame path, so it only adds to maps) and
 * gathers what the store writes at its next flush: per camera, zone and
 * second, the frames counted, the sum and max of people, the latest smoothed
 * value and the highest alert state; every alert transition; and the latest
 * reading of each zone (the API's "now"). Everything it holds is bounded.
 */
import type { ZoneAlertEvent, ZoneListener, ZoneReport } from '../zones/zone-tracker.js';
import type { Clock, HistoryCounters } from './types.js';

export interface SecondSample {
  camera: string;
  zone: string;
  /** Epoch seconds. */
  t: number;
  frames: number;
  peopleSum: number;
  peopleMax: number;
  /** Latest finite smoothed value in the second (null: none). */
  smoothed: number | null;
  state: number;
}

export interface AlertRecord {
  camera: string;
  zone: string;
  timeMs: number;
  state: number;
  previous: number;
  rule: string;
  metric: string;
  value: number | null;
}

export interface LatestReading {
  timeMs: number;
  people: number;
  smoothed: number;
  occupancy: number;
  state: number;
}

export interface RecorderLimits {
  /** A capture time further than this from the server clock is recorded at the server clock. */
  maxSkewMs: number;
  /** Buckets (camera x zone x second) held between flushes; beyond it readings are dropped and counted. */
  maxPendingSamples: number;
  /** Alert transitions held between flushes; beyond it the oldest is dropped and counted. */
  maxPendingAlerts: number;
}

export const DEFAULT_RECORDER_LIMITS: RecorderLimits = { maxSkewMs: 300_000, maxPendingSamples: 100_000, maxPendingAlerts: 10_000 };

const key = (camera: string, zone: string): string => `${camera}\u0000${zone}`;

export class HistoryRecorder implements ZoneListener {
  private samples = new Map<string, SecondSample>();
  private alerts: AlertRecord[] = [];
  private readonly latest = new Map<string, LatestReading>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: RecorderLimits = DEFAULT_RECORDER_LIMITS,
    private readonly counters?: HistoryCounters,
  ) {}

  reading(r: ZoneReport): void {
    // A zone with a broken map (NaN, infinite) has nothing to record; it is counted, not stored as a number.
    if (!Number.isFinite(r.people)) {
      this.counters?.dropped('sample', 'not-finite');
      return;
    }
    const timeMs = this.stamp(r.timeMs);
    this.latest.set(key(r.camera, r.zone), { timeMs, people: r.people, smoothed: r.smoothed, occupancy: r.occupancy, state: r.state });
    const t = Math.floor(timeMs / 1000);
    const k = `${key(r.camera, r.zone)}\u0000${t}`;
    const smoothed = Number.isFinite(r.smoothed) ? r.smoothed : null;
    const s = this.samples.get(k);
    if (s) {
      s.frames++;
      s.peopleSum += r.people;
      if (r.people > s.peopleMax) s.peopleMax = r.people;
      if (smoothed !== null) s.smoothed = smoothed;
      if (r.state > s.state) s.state = r.state;
      return;
    }
    if (this.samples.size >= this.limits.maxPendingSamples) {
      this.counters?.dropped('sample', 'pending-full');
      return;
    }
    this.samples.set(k, { camera: r.camera, zone: r.zone, t, frames: 1, peopleSum: r.people, peopleMax: r.people, smoothed, state: r.state });
  }

  alert(e: ZoneAlertEvent): void {
    if (this.alerts.length >= this.limits.maxPendingAlerts) {
      this.alerts.shift();
      this.counters?.dropped('alert', 'pending-full');
    }
    this.alerts.push({
      camera: e.camera,
      zone: e.zone,
      timeMs: this.stamp(e.timeMs),
      state: e.state,
      previous: e.previous,
      rule: e.rule,
      metric: e.metric,
      value: Number.isFinite(e.value) ? e.value : null,
    });
  }

  zoneRemoved(camera: string, zone: string): void {
    this.latest.delete(key(camera, zone));
  }

  /** Everything gathered since the last call. */
  take(): { samples: SecondSample[]; alerts: AlertRecord[] } {
    const samples = [...this.samples.values()];
    const alerts = this.alerts;
    this.samples = new Map();
    this.alerts = [];
    return { samples, alerts };
  }

  get pending(): number {
    return this.samples.size + this.alerts.length;
  }

  latestReading(camera: string, zone: string): LatestReading | undefined {
    return this.latest.get(key(camera, zone));
  }

  /** Capture time, unless it is too far from the server's clock (a camera with a wrong clock, a hostile stamp). */
  private stamp(timeMs: number): number {
    const now = this.clock.now();
    if (Number.isFinite(timeMs) && Math.abs(timeMs - now) <= this.limits.maxSkewMs) return timeMs;
    this.counters?.skewed();
    return now;
  }
}
