/** Current alarms and warnings across the site, newest first; the latest changes below. */
import { cameraHref, clock, duration, people } from './format.js';
import type { AlertInfo } from './wire.js';

function AlertRow({ alert, now }: { alert: AlertInfo; now: number }) {
  return (
    <li class={`alert ${alert.state}`} data-zone={alert.zone} data-camera={alert.camera}>
      <div class="alert-head">
        <span class="level">{alert.state}</span>
        <a class="where" href={cameraHref(alert.camera)}>
          <span class="zone-name">{alert.zone}</span> <span class="camera">· {alert.camera}</span>
        </a>
        <span class="value" title="the rule's value when it changed">
          {alert.value === null ? '' : people(alert.value)}
        </span>
      </div>
      <div class="alert-body">
        <span class="rule">{alert.rule}</span>
        <span class="since" title={new Date(alert.since).toISOString()}>
          since {clock(alert.since)} ({duration(now - alert.since)})
        </span>
      </div>
    </li>
  );
}

export function AlertsPanel({ active, recent, full = false }: { active: AlertInfo[]; recent: AlertInfo[]; full?: boolean }) {
  const now = Date.now();
  return (
    <section class={`alerts-panel${full ? ' full' : ''}`} aria-label="alerts">
      <h2>
        Alerts <span class="tally">{active.length === 0 ? 'all clear' : `${active.length} active`}</span>
      </h2>
      {active.length === 0 ? (
        <p class="empty">No zone is in warning or alarm.</p>
      ) : (
        <ul class="active">
          {active.map((a) => (
            <AlertRow key={`${a.camera}/${a.zone}`} alert={a} now={now} />
          ))}
        </ul>
      )}
      {recent.length > 0 && (
        <details class="recent" open={full}>
          <summary>Latest changes ({recent.length})</summary>
          <ul>
            {recent.map((a, i) => (
              <li key={i} class={`change ${a.state}`}>
                <span class="when">{clock(a.since)}</span> <span class="zone-name">{a.zone}</span> <span class="camera">· {a.camera}</span>{' '}
                <span class="transition">
                  {a.previous} → {a.state}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {full && (
        <p class="more">
          Older changes, with filters and CSV: <a href="#/history">alert history</a>
        </p>
      )}
    </section>
  );
}
