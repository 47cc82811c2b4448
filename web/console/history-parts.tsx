/** Pieces the history pages share: the alert-changes table, dates, and what they say when something is missing. */
import { chartHref, type AlertRow } from './history-api.js';
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
