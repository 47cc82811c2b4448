/**
 * What leaves the server about zones (MQTT, JSON lines): a zone's count,
 * rate-limited per zone, and every alert transition. Payloads are plain JSON
 * (docs/zones.md lists their fields); NaN occupancy (no capacity) is null.
 */
import { zoneAlertStateName } from '../framing/index.js';
import type { ZoneAlertEvent, ZoneListener, ZoneReport } from '../zones/zone-tracker.js';

export interface CountPayload {
  camera: string;
  zone: string;
  people: number;
  smoothed: number;
  occupancy: number | null;
  state: 'ok' | 'warning' | 'alarm';
  /** Capture time of the frame, ISO 8601. */
  time: string;
}

export interface AlertPayload {
  camera: string;
  zone: string;
  state: 'ok' | 'warning' | 'alarm';
  previous: 'ok' | 'warning' | 'alarm';
  rule: string;
  metric: string;
  value: number | null;
  time: string;
  /** `capture`: time is the frame's capture time; `server`: the server's wall clock (a site reload, which no frame caused). */
  clock: 'capture' | 'server';
}

/** A counting line's totals (src/lines/line-events.ts): people in and out since the server started, and since the line's previous event. */
export interface CrossingsPayload {
  camera: string;
  line: string;
  in: number;
  out: number;
  /** in - out. */
  net: number;
  since_in: number;
  since_out: number;
  /** Capture time of the frame that closed the counting window, ISO 8601. */
  time: string;
}

/** A destination for zone and line events. It must never block or throw into the frame path. */
export interface EventSink {
  readonly name: string;
  count(payload: CountPayload): void;
  alert(payload: AlertPayload): void;
  /** Absent: the sink carries zone events only. */
  crossings?(payload: CrossingsPayload): void;
  close(): Promise<void>;
}

/** Counts events per sink (metrics implement it). */
export interface EventCounters {
  published(sink: string, kind: EventKind): void;
  dropped(sink: string, kind: EventKind, reason: string): void;
}

export type EventKind = 'count' | 'alert' | 'crossings';

const round = (v: number): number => Math.round(v * 1000) / 1000;
const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? round(v) : null);
/** Capture times come from clients: one outside what a Date can hold (+-8.64e15 ms) is replaced by now rather than throwing. */
const iso = (ms: number): string => new Date(Math.abs(ms) <= 8.64e15 ? ms : Date.now()).toISOString();

export function countPayload(r: ZoneReport): CountPayload {
  return {
    camera: r.camera,
    zone: r.zone,
    people: round(r.people),
    smoothed: round(r.smoothed),
    occupancy: finiteOrNull(r.occupancy),
    state: zoneAlertStateName(r.state),
    time: iso(r.timeMs),
  };
}

export function alertPayload(e: ZoneAlertEvent): AlertPayload {
  return {
    camera: e.camera,
    zone: e.zone,
    state: zoneAlertStateName(e.state),
    previous: zoneAlertStateName(e.previous),
    rule: e.rule,
    metric: e.metric,
    value: finiteOrNull(e.value),
    time: iso(e.timeMs),
    clock: e.clock,
  };
}

/**
 * Hears the zone tracker and feeds the sinks: every alert transition, and a
 * zone's count at most once per interval (by the server's clock, so a burst
 * of frames or a fast camera cannot flood the broker). The map of last times
 * holds site-file zones only, so it is bounded by the site file.
 */
export class ZoneEventFanout implements ZoneListener {
  private readonly lastCount = new Map<string, number>();

  constructor(
    private readonly sinks: readonly EventSink[],
    private readonly countIntervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  reading(report: ZoneReport): void {
    const key = `${report.camera}\u0000${report.zone}`;
    const t = this.now();
    const last = this.lastCount.get(key);
    if (last !== undefined && t - last < this.countIntervalMs) return;
    this.lastCount.set(key, t);
    const payload = countPayload(report);
    for (const sink of this.sinks) sink.count(payload);
  }

  alert(event: ZoneAlertEvent): void {
    const payload = alertPayload(event);
    for (const sink of this.sinks) sink.alert(payload);
  }

  zoneRemoved(camera: string, zone: string): void {
    this.lastCount.delete(`${camera}\u0000${zone}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
