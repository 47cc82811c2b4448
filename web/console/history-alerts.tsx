/**
 * Alert history (#/history): every alert change the store kept, filtered by
 * camera, zone, state entered and time range, newest first, with the CSV of
 * exactly the rows shown (the same query with format=csv).
 */
import { useEffect, useState } from 'preact/hooks';
import { type AlertFilter, type AlertsAnswer, alertsUrl, getJson } from './history-api.js';
import { AlertTable, ErrorNote, HistoryOff } from './history-parts.js';
import type { AlertState } from './wire.js';
import { errorText } from './format.js';
import { useSite } from './use-history.js';

const PERIODS = [
  { key: '1h', label: 'last hour', seconds: 3600 },
  { key: '6h', label: 'last 6 h', seconds: 6 * 3600 },
  { key: '24h', label: 'last 24 h', seconds: 86_400 },
  { key: '7d', label: 'last 7 days', seconds: 7 * 86_400 },
  { key: '30d', label: 'last 30 days', seconds: 30 * 86_400 },
  { key: 'custom', label: 'from … to …', seconds: 0 },
] as const;
type PeriodKey = (typeof PERIODS)[number]['key'];

const STATES: AlertState[] = ['alarm', 'warning', 'ok'];

interface Filters {
  camera: string;
  zone: string;
  states: AlertState[];
  period: PeriodKey;
  /** datetime-local values (the browser's zone) for a custom period. */
  from: string;
  to: string;
}

const FILTERS_KEY = 'crowdline.alert-history.filters';

function defaultFilters(): Filters {
  const now = Date.now();
  return { camera: '', zone: '', states: ['alarm', 'warning', 'ok'], period: '24h', from: localInput(now - 86_400_000), to: localInput(now) };
}

/** The filters this tab used last (checked field by field: storage is the page's, but a stale shape must not break it). */
function savedFilters(): Filters {
  const fallback = defaultFilters();
  try {
    const saved = JSON.parse(sessionStorage.getItem(FILTERS_KEY) ?? 'null') as Partial<Filters> | null;
    if (!saved || typeof saved !== 'object') return fallback;
    const text = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
    return {
      camera: text(saved.camera, ''),
      zone: text(saved.zone, ''),
      states: Array.isArray(saved.states) ? STATES.filter((s) => saved.states?.includes(s)) : fallback.states,
      period: PERIODS.some((p) => p.key === saved.period) ? (saved.period as PeriodKey) : fallback.period,
      from: text(saved.from, fallback.from),
      to: text(saved.to, fallback.to),
    };
  } catch {
    return fallback;
  }
}

/** A datetime-local value for an epoch ms, in the browser's zone. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** The query for the filters now, or why it cannot be asked. */
function toQuery(f: Filters, nowMs: number): AlertFilter | string {
  let from: number;
  let to: number;
  if (f.period === 'custom') {
    from = new Date(f.from).getTime() / 1000;
    to = new Date(f.to).getTime() / 1000;
    if (!Number.isFinite(from) || !Number.isFinite(to)) return 'Give both ends of the range.';
    if (!(from < to)) return 'The range must start before it ends.';
  } else {
    to = Math.ceil(nowMs / 1000);
    from = to - PERIODS.find((p) => p.key === f.period)!.seconds;
  }
  return { camera: f.camera || undefined, zone: f.zone || undefined, states: f.states, from, to };
}

export function AlertHistory() {
  const { site, siteError } = useSite();
  const [filters, setFilters] = useState<Filters>(savedFilters);
  // Kept for the tab's life, so following a row to its chart and coming back keeps the filters.
  useEffect(() => sessionStorage.setItem(FILTERS_KEY, JSON.stringify(filters)), [filters]);
  // Bumped by "Refresh": a relative period is asked again up to the new now.
  const [asked, setAsked] = useState(0);
  const [answer, setAnswer] = useState<{ query: AlertFilter; alerts: AlertsAnswer } | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const query = toQuery(filters, Date.now());
    if (typeof query === 'string') {
      setAnswer(undefined);
      setError(query);
      return;
    }
    if (query.states?.length === 0) {
      setAnswer(undefined);
      setError('Pick at least one state.');
      return;
    }
    const abort = new AbortController();
    getJson<AlertsAnswer>(alertsUrl(query), abort.signal).then(
      (alerts) => {
        setAnswer({ query, alerts });
        setError(undefined);
      },
      (err: unknown) => !abort.signal.aborted && setError(errorText(err)),
    );
    return () => abort.abort();
  }, [filters, asked]);

  if (site && !site.history) return <HistoryOff />;
  const set = (change: Partial<Filters>): void => setFilters({ ...filters, ...change });
  const zones = site?.cameras.find((c) => c.name === filters.camera)?.zones ?? [];
  const rows = answer?.alerts.alerts ?? [];
  return (
    <div class="alert-history">
      <h1>Alert history</h1>
      <form class="filters" aria-label="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          camera
          <select name="camera" value={filters.camera} onChange={(e) => set({ camera: e.currentTarget.value, zone: '' })}>
            <option value="">all</option>
            {site?.cameras.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          zone
          <select name="zone" value={filters.zone} disabled={!filters.camera} onChange={(e) => set({ zone: e.currentTarget.value })}>
            <option value="">all</option>
            {zones.map((z) => (
              <option key={z.name} value={z.name}>
                {z.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="states">
          <legend>entered</legend>
          {STATES.map((s) => (
            <label key={s} class={`state-pick ${s}`}>
              <input
                type="checkbox"
                name="state"
                value={s}
                checked={filters.states.includes(s)}
                onChange={(e) => set({ states: e.currentTarget.checked ? [...filters.states, s] : filters.states.filter((x) => x !== s) })}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          when
          <select name="period" value={filters.period} onChange={(e) => set({ period: e.currentTarget.value as PeriodKey })}>
            {PERIODS.map((p) => (
              <option key={p.key} value={p.key}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        {filters.period === 'custom' && (
          <>
            <label>
              from
              <input type="datetime-local" name="from" value={filters.from} onChange={(e) => set({ from: e.currentTarget.value })} />
            </label>
            <label>
              to
              <input type="datetime-local" name="to" value={filters.to} onChange={(e) => set({ to: e.currentTarget.value })} />
            </label>
          </>
        )}
        <button type="button" class="refresh" onClick={() => setAsked((n) => n + 1)}>
          Refresh
        </button>
      </form>
      {siteError && <ErrorNote text={siteError} />}
      {error && <ErrorNote text={error} />}
      {answer && (
        <section class="alert-results" aria-label="alert changes" data-url={alertsUrl(answer.query)}>
          <div class="results-head">
            <span class="tally">
              {rows.length} change{rows.length === 1 ? '' : 's'}
              {answer.alerts.truncated && ` (the newest ${answer.alerts.limit}; narrow the filters to see older ones)`}
            </span>
            <a class="csv" href={alertsUrl(answer.query, 'csv')} download>
              Download CSV
            </a>
          </div>
          <AlertTable rows={rows} showPlace longDates={answer.query.to - answer.query.from > 86_400 || filters.period === 'custom'} />
        </section>
      )}
    </div>
  );
}
