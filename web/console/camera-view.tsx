/** One camera, large, with its zones' and counting lines' numbers beside it. */
import { people } from './format.js';
import { chartHref } from './history-api.js';
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

/** The camera's counting lines: people counted in, out and the net (in - out) since the server started, from the latest frame. */
function LineTable({ info, live }: { info: CameraInfo; live: Live }) {
  const header = useLatestHeader(live, info.name);
  if ((info.lines ?? []).length === 0) return info.zones.length > 0 ? <p class="no-lines">No counting lines for this camera in the site file.</p> : null;
  return (
    <table class="zone-table line-table">
      <thead>
        <tr>
          <th>line</th>
          <th title="people counted crossing to the line's in side since the server started">in</th>
          <th title="people counted crossing the other way since the server started">out</th>
          <th title="in - out">net</th>
        </tr>
      </thead>
      <tbody>
        {(info.lines ?? []).map((line) => {
          const r = header?.lines?.find((l) => l.id === line.id);
          return (
            <tr key={line.id} data-line={line.name}>
              <th scope="row">{line.name}</th>
              <td class="in">{r ? people(r.in) : '–'}</td>
              <td class="out">{r ? people(r.out) : '–'}</td>
              <td class="net">{r ? signed(r.in - r.out) : '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A net flow with its sign (+2.0, -1.5), so which way it went reads at a glance. */
function signed(n: number): string {
  const text = people(Math.abs(n));
  return text === people(0) ? text : `${n > 0 ? '+' : '-'}${text}`;
}
