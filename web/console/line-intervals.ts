/**
 * A camera's counting lines over the last hour and since the server's local
 * midnight, from the history API (/api/v1/lines), fetched again as the
 * clock moves: the people counted in and out per line in each interval.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type CamerasAnswer, getCameras, getJson, type LinesAnswer, linesUrl, refreshMs, type Window } from './history-api.js';
import { errorText } from './format.js';
import { pollAfterEach } from './poll.js';

export interface Crossed {
  in: number;
  out: number;
}

export interface Interval {
  /** What the API was asked (epoch seconds): the page shows it, a test asks the same. */
  window: Window;
  /** Per line name; a line with no crossings in the window has none. */
  lines: Map<string, Crossed>;
}

export type LineIntervals =
  | { kind: 'loading' }
  | { kind: 'off'; why: string }
  | { kind: 'error'; why: string }
  | { kind: 'ready'; hour: Interval; today: Interval };

const LOADING: LineIntervals = { kind: 'loading' };
const HISTORY_OFF: LineIntervals = { kind: 'off', why: 'History is off on this server: no figures per hour or day.' };
const HOUR_S = 3600;
const DAY_S = 86_400;
const HOUR_REFRESH_MS = refreshMs(HOUR_S) ?? 10_000;
const DAY_REFRESH_MS = refreshMs(DAY_S) ?? 60_000;

/** A line's crossings in one interval: none asked yet (undefined), or the sums (zero where nothing crossed). */
export function lineFigures(state: LineIntervals, which: 'hour' | 'today', line: string): Crossed | undefined {
  if (state.kind !== 'ready') return undefined;
  return state[which].lines.get(line) ?? { in: 0, out: 0 };
}

/** The windows the figures are for, as data attributes of what shows them (the browser tests ask the API the same). */
export function windowAttributes(state: LineIntervals): Record<`data-${string}`, number | undefined> {
  const ready = state.kind === 'ready' ? state : undefined;
  return {
    'data-hour-from': ready?.hour.window.from,
    'data-hour-to': ready?.hour.window.to,
    'data-today-from': ready?.today.window.from,
    'data-today-to': ready?.today.window.to,
  };
}

/** The window's crossings summed per line (the API's buckets are aligned to its step, so one window is one or two). */
export function sumLines(answer: LinesAnswer, window: Window): Interval {
  const lines = new Map<string, Crossed>();
  for (const s of answer.series) {
    const sum = lines.get(s.line) ?? { in: 0, out: 0 };
    for (let i = 0; i < s.time.length; i++) {
      sum.in += s.in[i];
      sum.out += s.out[i];
    }
    lines.set(s.line, sum);
  }
  return { window, lines };
}

/** How far the server's clock is ahead of the browser's (ms), from an answer of /api/v1/cameras received at `receivedMs`. */
export function clockOffsetMs(site: CamerasAnswer, receivedMs: number): number {
  return Date.parse(site.time) - receivedMs;
}

/**
 * The last hour's and today's crossings of `camera`'s lines (`enabled` false: none asked). `server` (the server's
 * midnight and clock offset, from /api/v1/cameras of a page that has it, with history on): not asked again here.
 */
export function useLineIntervals(camera: string, enabled: boolean, server?: { dayStart: string; offsetMs: number }): LineIntervals {
  const [state, setState] = useState<LineIntervals>(LOADING);
  // The offset moves with each answer of the page's own /api/v1/cameras; read at each load, it does not restart the loads.
  const pageOffset = useRef(0);
  pageOffset.current = server?.offsetMs ?? 0;
  const dayStart = server?.dayStart;
  useEffect(() => {
    // Another camera's (or a disabled hook's) figures are never shown under this one.
    setState(LOADING);
    if (!enabled) return;
    let site: CamerasAnswer | undefined;
    let ownOffsetMs = 0;
    // The server's midnight is asked again 23 h after it (a DST day's shortest), then every minute until it changes:
    // on the browser's clock, set by the server's, so a browser clock ahead never keeps yesterday's midnight.
    let askAgainAt = 0;
    /** The server's midnight (ISO), or undefined when history is off. */
    const serverMidnight = async (nowMs: number, signal: AbortSignal): Promise<string | undefined> => {
      if (dayStart !== undefined) return dayStart;
      if (!site || nowMs >= askAgainAt) {
        const before = site?.day_start;
        site = await getCameras(signal);
        ownOffsetMs = clockOffsetMs(site, Date.now());
        askAgainAt = site.day_start === before ? nowMs + 60_000 : Date.parse(site.day_start) - ownOffsetMs + 23 * HOUR_S * 1000;
      }
      return site.history ? site.day_start : undefined;
    };
    // Today's sum scans a day of rows on the server: asked again less often than the last hour's.
    let today: { interval: Interval; midnight: string; atMs: number } | undefined;
    const load = async (signal: AbortSignal): Promise<void> => {
      const nowMs = Date.now();
      const midnightIso = await serverMidnight(nowMs, signal);
      if (signal.aborted) return;
      if (midnightIso === undefined) {
        setState(HISTORY_OFF);
        return;
      }
      // The windows end at the server's now: a browser clock behind would leave out the last seconds, one ahead ask the future.
      const to = Math.ceil((nowMs + (dayStart === undefined ? ownOffsetMs : pageOffset.current)) / 1000);
      const midnight = Math.floor(Date.parse(midnightIso) / 1000);
      const hour: Window = { from: to - HOUR_S, to, step: HOUR_S };
      const day: Window = { from: midnight, to: Math.max(to, midnight + 1), step: DAY_S };
      const askDay = !today || today.midnight !== midnightIso || nowMs - today.atMs >= DAY_REFRESH_MS;
      const get = (w: Window): Promise<LinesAnswer> => getJson<LinesAnswer>(linesUrl(camera, undefined, w), signal);
      const [h, d] = await Promise.all([get(hour), askDay ? get(day) : undefined]);
      if (signal.aborted) return;
      if (d) today = { interval: sumLines(d, day), midnight: midnightIso, atMs: nowMs };
      if (today) setState({ kind: 'ready', hour: sumLines(h, hour), today: today.interval });
    };
    return pollAfterEach(HOUR_REFRESH_MS, (signal) =>
      load(signal).catch((err: unknown) => {
        if (signal.aborted) return;
        if (err instanceof ApiError && /history is off/.test(err.message)) setState(HISTORY_OFF);
        else setState({ kind: 'error', why: errorText(err) });
      }),
    );
  }, [camera, enabled, dayStart]);
  return state;
}
