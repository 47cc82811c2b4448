/** Pieces the history pages share: the range picks, the alert-changes table, dates and steps, and what they say when something is missing. */
import { chartHref, RANGES, type AlertRow } from './history-api.js';
import { people } from './format.js';

/** "14:03:07", or "Dec 6, 14:03:07" where the page spans days. */
export function dateTime(epochMs: number, withDate: boolean): string {
  const d = new Date(epochMs);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return withDate ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })}, ${time}` : time;
}

/** The rule's value as the rule reads it: occupancy in percent of capacity, counts in people. */
function ruleValue(a: AlertRow): string {
  if (a.value === null) return '';
  return a.metric === 'occupancy' ? `${Math.round(a.value * 100)} %` : people(a.value);
}

/** Alert transitions, newest first, as the API lists them. */
export function AlertTable({ rows, showPlace, longDates }: { rows: AlertRow[]; showPlace: boolean; longDates: boolean }) {
  if (rows.length === 0) return <p class="empty">No alert changes.</p>;
  return (
    <div class="table-scroll">
      <table class="alert-table">
        <thead>
          <tr>
            <th>time</th>
            {showPlace && <th>zone</th>}
            <th>change</th>
            <th class="num" title="the rule's value at the change">
              value
            </th>
            <th class="rule">rule</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a, i) => (
            <tr key={i} class={`change ${a.state}`} data-camera={a.camera} data-zone={a.zone} data-state={a.state} data-time={a.time}>
              <td class="when" title={a.time}>
                {dateTime(Date.parse(a.time), longDates)}
              </td>
              {showPlace && (
                <td class="where">
                  <a href={chartHref(a.camera, a.zone)}>
                    {a.zone} <span class="camera">· {a.camera}</span>
                  </a>
                </td>
              )}
              <td class="transition">
                <span class={`state ${a.previous}`}>{a.previous}</span> → <span class={`state ${a.state}`}>{a.state}</span>
              </td>
              <td class="num value">{ruleValue(a)}</td>
              <td class="rule">{a.rule}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ErrorNote({ text }: { text: string }) {
  return (
    <p class="error-note" role="alert">
      {text}
    </p>
  );
}

export function HistoryOff() {
  return (
    <div class="history-off">
      <h2>History is off on this server</h2>
      <p>
        Charts, the site view and alert history read the server's history store. It needs a site file (<code>--site</code>) and is on unless the server runs
        with <code>--history off</code> (docs/history.md).
      </p>
    </div>
  );
}

/** The chart's ranges as links (10 min ... 30 d); `href` makes each one's address. */
export function RangeNav({ current, href }: { current: string; href: (range: string) => string }) {
  return (
    <nav class="ranges" aria-label="range">
      {RANGES.map((r) => (
        <a key={r.key} href={href(r.key)} class={r.key === current ? 'current' : ''} data-range={r.key}>
          {r.label}
        </a>
      ))}
    </nav>
  );
}

/** A step as it reads under a chart: "5 s", "2 min", "1 h". */
export function stepText(step: number): string {
  if (step < 60) return `${step} s`;
  if (step < 3600) return `${step / 60} min`;
  if (step < 86_400) return `${step / 3600} h`;
  return `${step / 86_400} d`;
}
