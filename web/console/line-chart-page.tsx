/**
 * A counting line's history (#/line/CAMERA/LINE/RANGE): people in and out
 * per step and the net over the last 10 minutes to 30 days, the range's
 * totals, and the CSV of exactly what is plotted. The ranges, their steps,
 * the refusal of a step and the refresh are the zone chart's.
 */
import { useMemo } from 'preact/hooks';
import { cameraHref, people, signedPeople } from './format.js';
import { getWindow, lineChartHref, type LinesAnswer, linesUrl, rangeFor } from './history-api.js';
import { ErrorNote, HistoryOff, RangeNav, stepText } from './history-parts.js';
import { LineChart } from './line-chart.js';
import { lineColumns, lineTotals } from './line-series.js';
import { usePolledWindow, useSite } from './use-history.js';

export function LineChartPage({ camera, line, range }: { camera: string; line: string; range?: string }) {
  const picked = rangeFor(range);
  const { site, siteError } = useSite();
  const { loaded, error } = usePolledWindow(`${camera}\u0000${line}\u0000${picked.key}`, picked.seconds, (signal, step) =>
    getWindow<LinesAnswer>(picked.seconds, (w) => linesUrl(camera, line, w), signal, step),
  );
  const chart = useMemo(() => {
    if (!loaded) return undefined;
    const series = loaded.answer.series.find((s) => s.camera === camera && s.line === line);
    return { columns: lineColumns(series, loaded.window), totals: lineTotals(series), steps: series?.time.length ?? 0 };
  }, [loaded]);

  if (site && !site.history) return <HistoryOff />;
  const cameras = site?.cameras ?? [];
  const known = cameras.some((c) => c.name === camera && (c.lines ?? []).some((l) => l.name === line));
  return (
    <div class="chart-page line-chart-page" data-camera={camera} data-line={line} data-range={picked.key}>
      <div class="chart-head">
        <a href={cameraHref(camera)} class="back" aria-label="back to the camera">
          ←
        </a>
        <h1>
          {line} <span class="camera">· {camera}</span>
        </h1>
        <select
          class="zone-picker line-picker"
          aria-label="counting line"
          value={`${camera}\u0000${line}`}
          onChange={(e) => {
            const [c, l] = e.currentTarget.value.split('\u0000');
            location.hash = lineChartHref(c, l, picked.key);
          }}
        >
          {cameras.flatMap((c) =>
            (c.lines ?? []).map((l) => (
              <option key={`${c.name}/${l.name}`} value={`${c.name}\u0000${l.name}`}>
                {c.name} · {l.name}
              </option>
            )),
          )}
          {!known && <option value={`${camera}\u0000${line}`}>{`${camera} · ${line}`}</option>}
        </select>
      </div>
      <div class="chart-bar">
        <RangeNav current={picked.key} href={(r) => lineChartHref(camera, line, r)} />
        {chart && (
          <span class="zone-now line-totals" data-in={chart.totals.in} data-out={chart.totals.out}>
            in the last {picked.label}: <strong class="in">{people(chart.totals.in)}</strong> in · <strong class="out">{people(chart.totals.out)}</strong> out ·
            net <strong class="net">{signedPeople(chart.totals.in - chart.totals.out)}</strong>
          </span>
        )}
      </div>
      {siteError && <ErrorNote text={siteError} />}
      {error && <ErrorNote text={error} />}
      {!loaded && !error && <p class="loading">Loading…</p>}
      {loaded && chart && (
        <section class="chart-card" aria-label="chart">
          <LineChart columns={chart.columns} from={loaded.window.from} to={loaded.window.to} />
          {chart.steps === 0 && <p class="no-data">No one counted crossing in this range (or the camera sent nothing, or history started later).</p>}
          <footer class="chart-foot">
            <span class="step" data-step={loaded.window.step}>
              {chart.columns[0].length} steps of {stepText(loaded.window.step)}, {chart.steps} with crossings; a step without is 0 (nothing counted, or the
              camera was off)
            </span>
            <a class="csv" href={linesUrl(camera, line, loaded.window, 'csv')} download>
              Download CSV
            </a>
          </footer>
        </section>
      )}
    </div>
  );
}
