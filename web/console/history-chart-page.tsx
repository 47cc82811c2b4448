/**
 * A zone's history (#/chart/CAMERA/ZONE/RANGE): the chart over the last
 * 10 minutes to 30 days, the zone's alert changes in that range, and the
 * CSV of exactly what is plotted. Short ranges follow the clock.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  type AlertsAnswer,
  type CamerasAnswer,
  type HistoryAnswer,
  alertsUrl,
  chartHref,
  getCameras,
  getJson,
  getWindow,
  historyUrl,
  rangeFor,
  refreshMs,
  type Window,
} from './history-api.js';
import { ZoneChart } from './history-chart.js';
import { alertPeriods, bucketPeriods, chartColumns, stateName, thresholds } from './history-series.js';
import { AlertTable, dateTime, ErrorNote, HistoryOff, RangeNav, stepText } from './history-parts.js';
import { errorText, people } from './format.js';

interface Loaded {
  /** The camera, zone and range it answers: a page switched to another shows nothing of the previous one's. */
  query: string;
  window: Window;
  history: HistoryAnswer;
  alerts: AlertsAnswer;
}

export function ChartPage({ camera, zone, range }: { camera: string; zone: string; range?: string }) {
  const picked = rangeFor(range);
  const query = `${camera}\u0000${zone}\u0000${picked.key}`;
  const [site, setSite] = useState<CamerasAnswer | undefined>();
  const [shown, setLoaded] = useState<Loaded | undefined>();
  const [error, setError] = useState<string | undefined>();
  // The site's failure is its own: a later load does not clear it.
  const [siteError, setSiteError] = useState<string | undefined>();

  useEffect(() => {
    const abort = new AbortController();
    getCameras(abort.signal).then(setSite, (err: unknown) => !abort.signal.aborted && setSiteError(errorText(err)));
    return () => abort.abort();
  }, []);

  useEffect(() => {
    const abort = new AbortController();
    setLoaded(undefined);
    setError(undefined);
    // A step a server refused is not asked again on refresh.
    let step: number | undefined;
    const every = refreshMs(picked.seconds);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The next load is scheduled when this one has ended: a slow server never has two of this page's loads at once,
    // and an answer for a query no longer shown (aborted) is dropped.
    const load = (): void => {
      getWindow<HistoryAnswer>(picked.seconds, (w) => historyUrl(camera, zone, w), abort.signal, step)
        .then(async ({ window, answer: history }) => ({
          query,
          window,
          history,
          alerts: await getJson<AlertsAnswer>(alertsUrl({ camera, zone, from: window.from, to: window.to }), abort.signal),
        }))
        .then(
          (answer) => {
            if (abort.signal.aborted) return;
            step = answer.window.step;
            setLoaded(answer);
            setError(undefined);
          },
          (err: unknown) => !abort.signal.aborted && setError(errorText(err)),
        )
        .finally(() => {
          if (every !== undefined && !abort.signal.aborted) timer = setTimeout(load, every);
        });
    };
    load();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [query]);

  const loaded = shown?.query === query ? shown : undefined;
  const info = site?.cameras.find((c) => c.name === camera)?.zones.find((z) => z.name === zone);
  const chart = useMemo(() => {
    if (!loaded) return undefined;
    const { window, history, alerts } = loaded;
    const series = history.series.find((s) => s.camera === camera && s.zone === zone);
    const end = Math.min(window.to, Date.now() / 1000);
    // More changes than one answer lists: the buckets' own states are complete, if coarser.
    const periods = alerts.truncated
      ? bucketPeriods(series, window.step)
      : alertPeriods(
          alerts.alerts.filter((a) => a.camera === camera && a.zone === zone),
          window.from,
          end,
          stateName(series?.state[0]),
        );
    return {
      columns: chartColumns(series, window.step),
      rows: series?.time.length ?? 0,
      periods,
      lines: thresholds(info?.rules, info?.capacity),
    };
  }, [loaded, info]);

  if (site && !site.history) return <HistoryOff />;
  const cameras = site?.cameras ?? [];
  return (
    <div class="chart-page" data-camera={camera} data-zone={zone} data-range={picked.key}>
      <div class="chart-head">
        <a href="#/site" class="back" aria-label="back to the site">
          ←
        </a>
        <h1>
          {zone} <span class="camera">· {camera}</span>
        </h1>
        <select
          class="zone-picker"
          aria-label="zone"
          value={`${camera}\u0000${zone}`}
          onChange={(e) => {
            const [c, z] = e.currentTarget.value.split('\u0000');
            location.hash = chartHref(c, z, picked.key);
          }}
        >
          {cameras.flatMap((c) =>
            c.zones.map((z) => (
              <option key={`${c.name}/${z.name}`} value={`${c.name}\u0000${z.name}`}>
                {c.name} · {z.name}
              </option>
            )),
          )}
          {!info && <option value={`${camera}\u0000${zone}`}>{`${camera} · ${zone}`}</option>}
        </select>
      </div>
      <div class="chart-bar">
        <RangeNav current={picked.key} href={(range) => chartHref(camera, zone, range)} />
        {info?.now && (
          <span class="zone-now">
            now <strong>{people(info.now.people)}</strong>
            {info.peak_today && (
              <>
                {' '}
                · peak today <strong>{people(info.peak_today.people)}</strong> at {dateTime(Date.parse(info.peak_today.time), false)}
              </>
            )}
          </span>
        )}
      </div>
      {siteError && <ErrorNote text={siteError} />}
      {error && <ErrorNote text={error} />}
      {!loaded && !error && <p class="loading">Loading…</p>}
      {loaded && chart && (
        <>
          <section class="chart-card" aria-label="chart">
            <ZoneChart columns={chart.columns} from={loaded.window.from} to={loaded.window.to} thresholds={chart.lines} periods={chart.periods} />
            {chart.rows === 0 && <p class="no-data">No samples in this range (the camera sent nothing, or history started later).</p>}
            <footer class="chart-foot">
              <span class="step" data-step={loaded.window.step}>
                {chart.rows} points, one per {stepText(loaded.window.step)}
                {loaded.window.step > 1 && ' (people: the mean of each step)'}
              </span>
              <span class="key">
                <span class="swatch alarm" /> alarm <span class="swatch warning" /> warning
              </span>
              <a class="csv" href={historyUrl(camera, zone, loaded.window, 'csv')} download>
                Download CSV
              </a>
            </footer>
          </section>
          <section class="chart-alerts" aria-label="alert changes in this range">
            <h2>
              Alert changes{' '}
              <span class="tally">
                {loaded.alerts.alerts.length}
                {loaded.alerts.truncated ? '+ (newest shown)' : ''} in the last {picked.label}
              </span>
            </h2>
            <AlertTable rows={loaded.alerts.alerts} showPlace={false} longDates={picked.seconds > 86_400} />
          </section>
        </>
      )}
    </div>
  );
}
