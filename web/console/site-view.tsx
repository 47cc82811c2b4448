/**
 * The site at a glance (#/site): every zone of every camera with its
 * occupancy now and its peak today, from /api/v1/cameras every few seconds,
 * and every counting line with its net today and in the last hour
 * (site-lines.tsx). Each zone and line links to its chart.
 */
import { useEffect, useState } from 'preact/hooks';
import { type CamerasAnswer, chartHref, getCameras, type SiteZone } from './history-api.js';
import { dateTime, ErrorNote, HistoryOff } from './history-parts.js';
import { duration, errorText, people } from './format.js';
import { clockOffsetMs } from './line-intervals.js';
import { LineCards } from './site-lines.js';
import { pollAfterEach } from './poll.js';

const REFRESH_MS = 5000;
/** A reading older than this is shown as old (the camera stopped, or left). */
const OLD_MS = 10_000;

export function SiteView() {
  const [site, setSite] = useState<CamerasAnswer | undefined>();
  const [offsetMs, setOffsetMs] = useState(0);
  const [error, setError] = useState<string | undefined>();
  useEffect(
    () =>
      pollAfterEach(REFRESH_MS, (signal) =>
        getCameras(signal).then(
          (answer) => {
            if (signal.aborted) return;
            setOffsetMs(clockOffsetMs(answer, Date.now()));
            setSite(answer);
            setError(undefined);
          },
          (err: unknown) => {
            if (!signal.aborted) setError(errorText(err));
          },
        ),
      ),
    [],
  );
  if (!site) return error ? <ErrorNote text={error} /> : <p class="loading">Loading…</p>;
  if (!site.history) return <HistoryOff />;
  const now = Date.parse(site.time);
  const zones = site.cameras.flatMap((c) => c.zones.filter((z) => z.in_site));
  const alarms = zones.filter((z) => z.now?.state === 'alarm').length;
  const warnings = zones.filter((z) => z.now?.state === 'warning').length;
  const lines = site.cameras.reduce((n, c) => n + (c.lines?.length ?? 0), 0);
  return (
    <div class="site-view">
      <h1>
        Site{' '}
        <span class="tally">
          {zones.length} zones{lines > 0 ? `, ${lines} counting lines` : ''}
          {alarms + warnings > 0 ? ` · ${alarms} in alarm, ${warnings} in warning` : ' · all clear'}
        </span>
      </h1>
      {error && <ErrorNote text={error} />}
      {site.cameras.length === 0 && <p class="empty">The site file has no cameras, and there is no history yet.</p>}
      {site.cameras.map((camera) => (
        <section key={camera.name} class="site-camera" data-camera={camera.name} aria-label={camera.name}>
          <h2>
            {camera.name}
            {!camera.in_site && <span class="tally"> no longer in the site file</span>}
          </h2>
          {camera.zones.length > 0 && (
            <div class="zone-cards">
              {camera.zones.map((zone) => (
                <ZoneCard key={zone.name} camera={camera.name} zone={zone} now={now} dayStart={site.day_start} />
              ))}
            </div>
          )}
          <LineCards camera={camera.name} lines={camera.lines ?? []} server={{ dayStart: site.day_start, offsetMs }} />
        </section>
      ))}
    </div>
  );
}

function ZoneCard({ camera, zone, now, dayStart }: { camera: string; zone: SiteZone; now: number; dayStart: string }) {
  const reading = zone.now ?? null;
  const age = reading ? now - Date.parse(reading.time) : undefined;
  const old = age !== undefined && age > OLD_MS;
  // The state stays what the latest reading said (an alarm is not over because its camera went quiet); an old reading is greyed and aged.
  const state = reading ? reading.state : 'ok';
  const occupancy = reading?.occupancy ?? null;
  return (
    <a
      class={`zone-card ${state}${old ? ' old' : ''}${reading ? '' : ' none'}${zone.in_site ? '' : ' gone'}`}
      href={chartHref(camera, zone.name)}
      data-zone={zone.name}
    >
      <div class="zone-card-head">
        <span class={`dot ${state}`} aria-label={state} />
        <span class="zone-name">{zone.name}</span>
        {state !== 'ok' && <span class={`level ${state}`}>{state}</span>}
      </div>
      {zone.in_site ? (
        <>
          <div class="zone-figures">
            <span class="big people" title="people in the zone, latest frame">
              {reading ? people(reading.people) : '–'}
            </span>
            <span class="of">{zone.capacity ? `of ${zone.capacity}` : 'people'}</span>
            {occupancy !== null && <span class="occupancy">{Math.round(occupancy * 100)} %</span>}
          </div>
          {zone.capacity ? (
            <div class="bar" role="img" aria-label={`occupancy ${occupancy === null ? 'unknown' : `${Math.round(occupancy * 100)} %`}`}>
              <span class={`fill ${state}`} style={{ width: `${Math.min(100, Math.max(0, (occupancy ?? 0) * 100))}%` }} />
            </div>
          ) : null}
          <div class="zone-foot">
            <span class="peak" title={`highest one-second count since ${dayStart}`}>
              peak today {zone.peak_today ? <strong>{people(zone.peak_today.people)}</strong> : '–'}
              {zone.peak_today && ` at ${dateTime(Date.parse(zone.peak_today.time), false)}`}
            </span>
            <span class="age">{reading ? (old ? `${duration(age ?? 0)} ago` : 'live') : 'no reading yet'}</span>
          </div>
        </>
      ) : (
        <div class="zone-foot">history only (no longer in the site file)</div>
      )}
    </a>
  );
}
