/**
 * The sample video's counting lines (the hand-counted ones of
 * test/fixtures/vtest-lines.json) as a site file for `crowdline serve`, so
 * tests and the docs' screenshots show the same lines.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LinesMessage } from '../../src/framing/index.js';

interface FixtureLine {
  name: string;
  points: Array<[number, number]>;
  in: 'left' | 'right';
}

function fixtureLines(): FixtureLine[] {
  const file = fileURLToPath(new URL('../../../test/fixtures/vtest-lines.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { lines: FixtureLine[] }).lines;
}

/** The same lines as the server's LINES message for `camera` (ids in the fixture's order). */
export function vtestLinesMessage(camera = 'cam'): LinesMessage {
  const lines = fixtureLines().map((l, id) => ({ id, name: l.name, points: l.points, in: l.in }));
  return { type: 'lines', camera, width: 768, height: 576, lines };
}

export function vtestLinesSite(camera = 'vtest'): string {
  const lines = fixtureLines();
  const entries = lines.map((l) => `      - { name: ${l.name}, points: ${JSON.stringify(l.points)}, in: ${l.in} }`);
  return ['cameras:', `  ${camera}:`, '    width: 768', '    height: 576', '    lines:', ...entries, ''].join('\n');
}
