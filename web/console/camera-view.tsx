/** One camera, large, with its zones' and counting lines' numbers beside it. */
import { people, signedPeople } from './format.js';
import { chartHref, lineChartHref } from './history-api.js';
import { type Crossed, lineFigures, useLineIntervals, windowAttributes } from './line-intervals.js';
import type { Live } from './live.js';
import { CameraPicture } from './picture.js';
import { CameraFigures, StateBadge, useLatestHeader } from './tile.js';
import { ZONE_STATES, type CameraInfo } from './wire.js';

export function CameraView({ live, name }: { live: Live; name: string }) {
  const info = live.cameras.find((c) => c.name === name);
  const header = useLatestHeader(live, name);
  if (!info) {
    return (
      <div class="camera-page missing">
        <p>
          No camera named <strong>{name}</strong> is connected. <a href="#/">Back to the wall</a>
        </p>
      </div>
    );
  }
  const alerts = live.active.filter((a) => a.camera === info.site);
  return (
    <div class="camera-page" data-camera={info.name}>
      <div class="camera-main">
        <div class="camera-title">
          <a href="#/" class="back" aria-label="back to the wall">
            ←
          </a>
          <h1>{info.name}</h1>
          <StateBadge info={info} />
        </div>
        <div class="picture-wrap">
          <CameraPicture live={live} info={info} large />
        </div>
      </div>
      <aside class="camera-side">
        <div class="camera-count">
          <span class="big count">{header ? people(header.count) : '–'}</span>
          <span class="label">people in view</span>
          <CameraFigures header={header} />
        </div>
        <ZoneTable info={info} live={live} />
        <LineTable info={info} live={live} />
        {info.zones.length === 0 && (info.lines ?? []).length === 0 && <p class="no-zones">No zones or counting lines for this camera in the site file.</p>}
        {alerts.length > 0 && (
          <p class="camera-alerts">
            {alerts.length} zone(s) alerting: <a href="#/alerts">see alerts</a>
          </p>
        )}
      </aside>
    </div>
  );
}

function ZoneTable({ info, live }: { info: CameraInfo; live: Live }) {
  const header = useLatestHeader(live, info.name);
  if (info.zones.length === 0) return (info.lines ?? []).length > 0 ? <p class="no-zones">No zones for this camera in the site file.</p> : null;
  return (
    <table class="zone-table">
      <thead>
        <tr>
          <th>zone</th>
          <th title="people in this frame">now</th>
          <th title="smoothed over seconds (what alerts use)">smoothed</th>
          <th title="smoothed / capacity">full</th>
        </tr>
      </thead>
      <tbody>
        {info.zones.map((zone) => {
          const r = header?.zones.find((z) => z.id === zone.id);
          const state = ZONE_STATES[r?.state ?? 0];
          return (
            <tr key={zone.id} class={state} data-zone={zone.name}>
              <th scope="row">
                <span class={`dot ${state}`} aria-label={state} />{' '}
                <a class="zone-history" href={chartHref(info.site ?? info.name, zone.name)} title="this zone's history">
                  {zone.name}
                </a>
              </th>
              <td class="people">{r ? people(r.people) : '–'}</td>
              <td class="smoothed">{r ? people(r.smoothed) : '–'}</td>
              <td class="occupancy">{r && r.occupancy !== null ? `${Math.round(r.occupancy * 100)} %` : zone.capacity === undefined ? '' : '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * The camera's counting lines: per line, the people counted in, out and the net (in - out) since the server
 * started (the numbers of the frame shown), in the last hour and today (the history API's, refreshed). A line's
 * name opens its chart.
 */
function LineTable({ info, live }: { info: CameraInfo; live: Live }) {
  const header = useLatestHeader(live, info.name);
  const lines = info.lines ?? [];
  const camera = info.site ?? info.name;
  const intervals = useLineIntervals(camera, lines.length > 0);
  if (lines.length === 0) return info.zones.length > 0 ? <p class="no-lines">No counting lines for this camera in the site file.</p> : null;
  return (
    <>
      <table class="zone-table line-table" {...windowAttributes(intervals)}>
        <thead>
          <tr>
            <th>line</th>
            <th title="people counted crossing to the line's in side">in</th>
            <th title="people counted crossing the other way">out</th>
            <th title="in - out">net</th>
          </tr>
        </thead>
        {lines.map((line) => {
          const r = header?.lines?.find((l) => l.id === line.id);
          return (
            <tbody key={line.id} data-line={line.name}>
              <tr class="line-head">
                <th scope="rowgroup" colSpan={4}>
                  <a class="line-history" href={lineChartHref(camera, line.name)} title="this line's history">
                    {line.name}
                  </a>
                </th>
              </tr>
              <FigureRow period="start" label="since start" title="since the server started: the numbers of the frame shown" figures={r} />
              <FigureRow
                period="hour"
                label="last hour"
                title="the last 60 minutes, from the history store"
                figures={lineFigures(intervals, 'hour', line.name)}
              />
              <FigureRow
                period="today"
                label="today"
                title="since the server's midnight, from the history store"
                figures={lineFigures(intervals, 'today', line.name)}
              />
            </tbody>
          );
        })}
      </table>
      {(intervals.kind === 'off' || intervals.kind === 'error') && (
        <p class={`line-note ${intervals.kind}`} role={intervals.kind === 'error' ? 'alert' : undefined}>
          {intervals.why}
        </p>
      )}
    </>
  );
}

function FigureRow({ period, label, title, figures }: { period: string; label: string; title: string; figures: Crossed | undefined }) {
  return (
    <tr data-period={period}>
      <th scope="row" title={title}>
        {label}
      </th>
      <td class="in">{figures ? people(figures.in) : '–'}</td>
      <td class="out">{figures ? people(figures.out) : '–'}</td>
      <td class="net">{figures ? signedPeople(figures.in - figures.out) : '–'}</td>
    </tr>
  );
}
