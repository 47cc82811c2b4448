/** The text on a camera's tile: count, rate and latency of its latest answer, zones in alert, notices wrapped to the tile. */
import type { Answer } from '../connection/stream-types.js';
import type { Caption } from './overlay.js';
import { zoneAlertSummary, type ZoneView } from './zone-overlay.js';

/** The caption of a tile showing `answer`; `fps` is the camera's live answer rate. */
export function answerCaption(name: string, fps: number, answer: Answer, zones: ZoneView | undefined): Caption {
  const lines = [
    answer.result && answer.status === 'ok' ? `count ${answer.result.count.toFixed(1)}` : `frame ${answer.status}`,
    `${fps.toFixed(1)} fps  latency ${Number.isFinite(answer.latencyMs) ? answer.latencyMs.toFixed(0) : '-'} ms`,
  ];
  // Zones in warning or alarm are named in the caption too: on a small tile their labels are hard to read.
  const alerting = zones && zoneAlertSummary(zones);
  if (alerting) lines.push(...wrap(alerting, 40).slice(0, 2));
  return { title: name, lines, alert: answer.status !== 'ok' || alerting?.startsWith('ALARM') === true };
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own), at most 6 lines. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.slice(0, 6);
}
