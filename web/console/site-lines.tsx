/**
 * The site view's counting lines: a card per line of a camera with the net
 * (in - out) today, its in and out, and the last hour's, from the history
 * API (line-intervals.ts). Each card links to the line's chart, which also
 * reaches lines whose camera is not connected now.
 */
import { people, signedPeople } from './format.js';
import { lineChartHref, type SiteLine } from './history-api.js';
import { lineFigures, useLineIntervals, windowAttributes } from './line-intervals.js';

export function LineCards({ camera, lines, server }: { camera: string; lines: SiteLine[]; server: { dayStart: string; offsetMs: number } }) {
  const intervals = useLineIntervals(camera, lines.length > 0, server);
  if (lines.length === 0) return null;
  return (
    <>
      {intervals.kind === 'error' && <p class="line-note error">{intervals.why}</p>}
      <div class="zone-cards line-cards" {...windowAttributes(intervals)}>
        {lines.map((line) => {
          const today = lineFigures(intervals, 'today', line.name);
          const hour = lineFigures(intervals, 'hour', line.name);
          return (
            <a key={line.name} class="zone-card line-card" href={lineChartHref(camera, line.name)} data-line={line.name}>
              <div class="zone-card-head">
                <span class="line-mark" aria-hidden="true">
                  ⇄
                </span>
                <span class="zone-name">{line.name}</span>
                <span class="kind">line</span>
              </div>
              <div class="line-today" data-period="today">
                <div class="zone-figures">
                  <span class="big net" title="in - out since the server's midnight">
                    {today ? signedPeople(today.in - today.out) : '–'}
                  </span>
                  <span class="of">net today</span>
                </div>
                <div class="flows">
                  <span class="in">{today ? people(today.in) : '–'}</span> in · <span class="out">{today ? people(today.out) : '–'}</span> out today
                </div>
              </div>
              <div class="zone-foot" data-period="hour">
                <span>
                  last hour <strong class="net">{hour ? signedPeople(hour.in - hour.out) : '–'}</strong> (<span class="in">{hour ? people(hour.in) : '–'}</span>{' '}
                  in · <span class="out">{hour ? people(hour.out) : '–'}</span> out)
                </span>
              </div>
            </a>
          );
        })}
      </div>
    </>
  );
}
