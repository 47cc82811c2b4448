/**
 * A zone's history (#/chart/CAMERA/ZONE/RANGE): the chart over the last
 * 10 minutes to 30 days, the zone's alert changes in that range, and the
 * CSV of exactly what is plotted. Short ranges follow the clock.
 */
import { useMemo } from 'preact/hooks';
import { type AlertsAnswer, type HistoryAnswer, alertsUrl, chartHref, getJson, getWindow, historyUrl, rangeFor, type Window } from './history-api.js';
import { ZoneChart } from './history-chart.js';
import { alertPeriods, bucketPeriods, chartColumns, stateName, thresholds } from './history-series.js';
import { AlertTable, dateTime, ErrorNote, HistoryOff, RangeNav, stepText } from './history-parts.js';
import { people } from './format.js';
import { usePolledWindow, useSite } from './use-history.js';

interface Loaded {
  window: Window;
  history: HistoryAnswer;
  alerts: AlertsAnswer;
}

export function ChartPage({ camera, zone, range }: { camera: string; zone: string; range?: string }) {
  const picked = rangeFor(range);
  const { site, siteError } = useSite();
  const { loaded, error } = usePolledWindow(`${camera}\u0000${zone}\u0000${picked.key}`, picked.seconds, async (signal, step): Promise<Loaded> => {
    const { window, answer: history } = await getWindow<HistoryAnswer>(picked.seconds, (w) => historyUrl(camera, zone, w), signal, step);
    return { window, history, alerts: await getJson<AlertsAnswer>(alertsUrl({ camera, zone, from: window.from, to: window.to }), signal) };
  });
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
