/**
 * What `crowdline bench` shows a person: the chart's legend clear of the
 * axis titles (and the committed charts redrawn from their reports), tables
 * with sensible precision, and no OpenCV start-up chatter on stderr.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHART_LAYOUT, renderChart } from '../bench/chart.js';
import type { BenchReport } from '../bench/report-types.js';
import { formatMs, limitsTable, pointsTable, targetsTable } from '../bench/table.js';
import { checkTargets } from '../bench/targets.js';
import { PACKAGE_ROOT, SAMPLE_VIDEO } from '../src/app/paths.js';

const PERF = path.join(PACKAGE_ROOT, 'docs', 'performance');
const REPORTS = ['bench-1x2', 'bench-2x1'];
const report = (name: string): BenchReport => JSON.parse(readFileSync(path.join(PERF, `${name}.json`), 'utf8')) as BenchReport;

interface SvgText {
  y: number;
  size: number;
  content: string;
}

function texts(svg: string): SvgText[] {
  return [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)"[^>]*font-size="(\d+)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({
    y: Number(m[1]),
    size: Number(m[2]),
    content: m[3],
  }));
}

test('the chart legend sits below the x-axis titles, inside the picture', (t) => {
  const svg = renderChart(report('bench-2x1'));
  const all = texts(svg);
  const axisTitles = all.filter((x) => x.content === 'cameras (closed loop)');
  const legend = all.filter((x) => /^(max batch \d+|latency p\d+|limit \(no network\))$/.test(x.content));
  t.is(axisTitles.length, 2);
  t.true(legend.length >= 5);
  const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)?.[1]);
  for (const entry of legend) {
    for (const title of axisTitles) {
      // A text occupies about [y - size, y + size/4]: the legend's top must clear the title's descenders.
      t.true(entry.y - entry.size >= title.y + title.size / 4, `"${entry.content}" (y ${entry.y}) overprints the axis title (y ${title.y})`);
    }
    t.true(entry.y + entry.size / 4 <= height, `"${entry.content}" is inside the ${height} px picture`);
  }
  t.is(CHART_LAYOUT.legend, legend[0].y);
});

test('the committed charts are redrawn from their reports (node dist/bench/render-chart.js)', (t) => {
  for (const name of REPORTS) {
    t.is(readFileSync(path.join(PERF, `${name}.svg`), 'utf8'), renderChart(report(name)), `${name}.svg is current`);
  }
});

test('tables print milliseconds at a sensible precision, never three decimals', (t) => {
  t.is(formatMs(30.176), '30.2');
  t.is(formatMs(0.216), '0.22');
  t.is(formatMs(1.773), '1.8');
  t.is(formatMs(123.456), '123');
  t.is(formatMs(undefined), '-');
  for (const name of REPORTS) {
    const r = report(name);
    const tables = `${pointsTable(r)}\n${limitsTable(r)}`;
    t.notRegex(tables, /\d\.\d{3}/, name);
    t.notRegex(targetsTable({ ...r, targets: checkTargets(r) }), /\d\.\d{3} ms/, `${name}: targets`);
    t.regex(tables, /\| \d+(\.\d)? \/ \d+(\.\d)? \/ \d+(\.\d)? \/ \d+(\.\d)? \|/, 'e2e percentiles, one decimal');
  }
});

(existsSync(SAMPLE_VIDEO) ? test : test.skip)('reading bench frames from a video prints nothing on stderr (OpenCV loaded silenced)', async (t) => {
  // From a folder with no package.json: where opencv-build's start-up logging used to complain in colour.
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'crowdline-bench-'));
  const script = `import { loadFrames } from ${JSON.stringify(path.join(PACKAGE_ROOT, 'dist', 'bench', 'frames.js'))}; const f = await loadFrames(${JSON.stringify(SAMPLE_VIDEO)}, 2); console.log(f.jpegs.length);`;
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd, timeout: 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve({ stdout: out, stderr: errOut }),
    );
  });
  t.is(stdout.trim(), '2');
  t.is(stderr, '');
});
