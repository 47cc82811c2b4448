/**
 * What a zone's chart draws, worked out from the API's answers: the plotted
 * columns (a gap where the camera sent nothing, not a line across it), the
 * alert rules' raise lines in people, and the periods the zone spent in
 * warning or alarm.
 */
import type { AlertRow, Series, ZoneRule } from './history-api.js';

/** uPlot's aligned columns: time, people (mean per bucket), smoothed, people (max per bucket). */
export type ChartColumns = [number[], Array<number | null>, Array<number | null>, Array<number | null>];

/**
 * The series as uPlot columns. Buckets with no samples are absent from the
 * API's answer; a null after each missing stretch makes uPlot break the line
 * there instead of joining the two sides.
 */
export function chartColumns(s: Series | undefined, step: number): ChartColumns {
  const cols: ChartColumns = [[], [], [], []];
  if (!s) return cols;
  for (let i = 0; i < s.time.length; i++) {
    if (i > 0 && s.time[i] - s.time[i - 1] > step) {
      cols[0].push(s.time[i - 1] + step);
      cols[1].push(null);
      cols[2].push(null);
      cols[3].push(null);
    }
    cols[0].push(s.time[i]);
    cols[1].push(s.people_mean[i]);
    cols[2].push(s.smoothed[i]);
    cols[3].push(s.people_max[i]);
  }
  return cols;
}

export interface Threshold {
  level: 'warning' | 'alarm';
  /** In people: a rule on occupancy is drawn at its fraction of the capacity. */
  value: number;
  label: string;
}

/** Each rule's raise line ("alarm: smoothed >= 40"), in the chart's unit (people). */
export function thresholds(rules: readonly ZoneRule[] | undefined, capacity: number | null | undefined): Threshold[] {
  const out: Threshold[] = [];
  for (const r of rules ?? []) {
    if (r.metric === 'occupancy') {
      if (!capacity) continue;
      out.push({ level: r.level, value: r.above * capacity, label: `${r.level}: occupancy >= ${Math.round(r.above * 100)} %` });
    } else out.push({ level: r.level, value: r.above, label: `${r.level}: ${r.metric} >= ${r.above}` });
  }
  return out;
}

export interface Period {
  /** Epoch seconds. */
  from: number;
  to: number;
  level: 'warning' | 'alarm';
}

/**
 * Warning and alarm periods within [from, to) from the zone's alert
 * transitions (any order). The state at `from` is the `previous` of the
 * first transition in the range; with none in the range, `stateAtFrom`
 * (read from the buckets) holds throughout. A period still open ends at
 * `end` (the range's end, or now if sooner).
 */
export function alertPeriods(transitions: readonly AlertRow[], from: number, end: number, stateAtFrom: 'ok' | 'warning' | 'alarm'): Period[] {
  const sorted = transitions
    .map((a) => ({ t: Date.parse(a.time) / 1000, state: a.state, previous: a.previous }))
    .filter((a) => a.t >= from && a.t < end)
    .sort((a, b) => a.t - b.t);
  let state = sorted.length > 0 ? sorted[0].previous : stateAtFrom;
  let since = from;
  const out: Period[] = [];
  const close = (at: number): void => {
    if (state !== 'ok' && at > since) out.push({ from: since, to: Math.min(at, end), level: state });
  };
  for (const tr of sorted) {
    close(tr.t);
    state = tr.state;
    since = tr.t;
  }
  close(end);
  return out;
}

/** Periods from the buckets' highest state (used when the range holds more transitions than one answer lists). */
export function bucketPeriods(s: Series | undefined, step: number): Period[] {
  const out: Period[] = [];
  if (!s) return out;
  for (let i = 0; i < s.time.length; i++) {
    const level = s.state[i] === 2 ? 'alarm' : s.state[i] === 1 ? 'warning' : undefined;
    if (!level) continue;
    const last = out[out.length - 1];
    if (last && last.level === level && last.to === s.time[i]) last.to = s.time[i] + step;
    else out.push({ from: s.time[i], to: s.time[i] + step, level });
  }
  return out;
}

const STATE_NAMES = ['ok', 'warning', 'alarm'] as const;

export function stateName(code: number | undefined): 'ok' | 'warning' | 'alarm' {
  return STATE_NAMES[code ?? 0] ?? 'ok';
}
