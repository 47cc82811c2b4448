/**
 * The sample video's counting lines (the hand-counted ones of
 * test/fixtures/vtest-lines.json) as a site file for `crowdline serve`, so
 * tests and the docs' screenshots show the same lines.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface FixtureLine {
  name: string;
  points: Array<[number, number]>;
  in: 'left' | 'right';
}

export function vtestLinesSite(camera = 'vtest'): string {
  const file = fileURLToPath(new URL('../../../test/fixtures/vtest-lines.json', import.meta.url));
  const { lines } = JSON.parse(readFileSync(file, 'utf8')) as { lines: FixtureLine[] };
  const entries = lines.map((l) => `      - { name: ${l.name}, points: ${JSON.stringify(l.points)}, in: ${l.in} }`);
  return ['cameras:', `  ${camera}:`, '    width: 768', '    height: 576', '    lines:', ...entries, ''].join('\n');
}
