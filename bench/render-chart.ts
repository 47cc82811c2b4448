/**
 * Redraws a bench chart from its JSON report, without re-running the bench:
 *   node dist/bench/render-chart.js docs/performance/bench-2x1.json   (writes bench-2x1.svg beside it)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderChart } from './chart.js';
import type { BenchReport } from './report-types.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node dist/bench/render-chart.js REPORT.json...\n');
  process.exit(2);
}
for (const file of files) {
  const svg = file.replace(/\.json$/, '') + '.svg';
  writeFileSync(svg, renderChart(JSON.parse(readFileSync(file, 'utf8')) as BenchReport));
  process.stdout.write(`${svg}\n`);
}
