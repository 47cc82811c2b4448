/**
 * A camera's counting lines over the last hour and since the server's local
 * midnight, from the history API (/api/v1/lines), fetched again as the
 * clock moves: the people counted in and out per line in each interval.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type CamerasAnswer, getCameras, getJson, type LinesAnswer, linesUrl, refreshMs, type Window } from './history-api.js';

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

const HISTORY_OFF: LineIntervals = { kind: 'off', why: 'History is off on this server: no figures per hour or day.' };
const HOUR_S = 3600;
const DAY_S = 86_400;
const HOUR_REFRESH_MS = refreshMs(HOUR_S) ?? 10_000;
const DAY_REFRESH_MS = refreshMs(DAY_S) ?? 60_000;

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

/**
 * The last hour's and today's crossings of `camera`'s lines (`enabled` false: none asked). `dayStart` (the
 * server's midnight, from /api/v1/cameras of a page that has it, with history on): not asked again here.
 */
export function useLineIntervals(camera: string, enabled: boolean, dayStart?: string): LineIntervals {
  const [state, setState] = useState<LineIntervals>({ kind: 'loading' });
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let site: CamerasAnswer | undefined;
    // The server's midnight is asked again once a day has passed since it (or a DST day's extra hour later).
    let askAgainAt = 0;
    /** The server's midnight (ISO), or undefined when history is off. */
    const serverMidnight = async (nowMs: number): Promise<string | undefined> => {
      if (dayStart !== undefined) return dayStart;
      if (!site || nowMs >= askAgainAt) {
        const before = site?.day_start;
        site = await getCameras(abort.signal);
        askAgainAt = site.day_start === before ? nowMs + 10 * 60_000 : Date.parse(site.day_start) + DAY_S * 1000;
      }
      return site.history ? site.day_start : undefined;
    };
    // Today's sum scans a day of rows on the server: asked again less often than the last hour's.
    let today: { interval: Interval; midnight: string; atMs: number } | undefined;
    const load = async (): Promise<void> => {
      const nowMs = Date.now();
      const midnightIso = await serverMidnight(nowMs);
      if (abort.signal.aborted) return;
      if (midnightIso === undefined) {
        setState(HISTORY_OFF);
        return;
      }
      const to = Math.ceil(nowMs / 1000);
      const midnight = Math.floor(Date.parse(midnightIso) / 1000);
      const hour: Window = { from: to - HOUR_S, to, step: HOUR_S };
      const day: Window = { from: midnight, to: Math.max(to, midnight + 1), step: DAY_S };
      const askDay = !today || today.midnight !== midnightIso || nowMs - today.atMs >= DAY_REFRESH_MS;
      const get = (w: Window): Promise<LinesAnswer> => getJson<LinesAnswer>(linesUrl(camera, undefined, w), abort.signal);
      const [h, d] = await Promise.all([get(hour), askDay ? get(day) : undefined]);
      if (abort.signal.aborted) return;
      if (d) today = { interval: sumLines(d, day), midnight: midnightIso, atMs: nowMs };
      if (today) setState({ kind: 'ready', hour: sumLines(h, hour), today: today.interval });
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The next load is scheduled when this one has ended: a slow server never has two of this page's loads at once.
    const run = (): void => {
      load()
        .catch((err: unknown) => {
          if (abort.signal.aborted) return;
          if (err instanceof ApiError && /history is off/.test(err.message)) setState(HISTORY_OFF);
          else setState({ kind: 'error', why: err instanceof Error ? err.message : String(err) });
        })
        .finally(() => {
          if (!abort.signal.aborted) timer = setTimeout(run, HOUR_REFRESH_MS);
        });
    };
    run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [camera, enabled, dayStart]);
  return state;
}
