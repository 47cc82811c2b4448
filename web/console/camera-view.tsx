/** One camera, large, with its zones' numbers beside it. */
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
  if (info.zones.length === 0) return <p class="no-zones">No zones for this camera in the site file.</p>;
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
