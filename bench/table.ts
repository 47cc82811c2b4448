/** Markdown tables of a report (printed by the CLI, pasted into docs/performance.md). */
import type { BenchReport } from './report-types.js';

/**
 * Milliseconds at the precision a latency deserves: 2 decimals under 1 ms,
 * 1 under 100 ms, none above (the measurements are not better than that).
 */
export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(1);
  return value.toFixed(2);
}

export function pointsTable(report: BenchReport): string {
  const head = [
    'point',
    'max batch',
    'cameras x window',
    'offered fps',
    'served fps',
    'limit fps',
    'ratio',
    'e2e p50 / p90 / p99 / max ms',
    'queue p50',
    'decode p50',
    'infer p50',
    'reply p50',
    'network p50',
    'dropped',
    'failed',
    'loop p99 ms',
    'RSS MB',
    'mean batch',
    'CPU % server / bench',
  ];
  const rows = report.points.map((p) => {
    const l = p.latencyMs;
    const rss = p.server.rssMb;
    return [
      p.name,
      p.maxBatch,
      `${p.cameras} x ${p.window}`,
      p.offeredFps ?? 'closed',
      p.throughputFps,
      p.limitFps,
      p.limitRatio.toFixed(2),
      [l.endToEnd.p50, l.endToEnd.p90, l.endToEnd.p99, l.endToEnd.max].map(formatMs).join(' / '),
      formatMs(l.queue.p50),
      formatMs(l.decode.p50),
      formatMs(l.inference.p50),
      formatMs(l.reply.p50),
      formatMs(l.network.p50),
      p.dropped,
      p.failed,
      formatMs(p.server.eventLoopDelayMs?.p99),
      rss ? `${rss.start} -> ${rss.end}` : '-',
      p.server.batchSizeMean ?? '-',
      `${p.server.cpuPct ?? '-'} / ${p.loadGeneratorCpuPct}`,
    ].map(String);
  });
  return markdown(head, rows);
}

/** bench --tls: each closed-loop point over plain TCP and over TLS, side by side. */
export function tlsTable(report: BenchReport): string {
  const tls = report.points.filter((p) => p.tls);
  const rows = tls.flatMap((t) => {
    const plain = report.points.find((p) => !p.tls && p.mode === t.mode && p.maxBatch === t.maxBatch && p.cameras === t.cameras && p.window === t.window);
    if (!plain) return [];
    const pct = (a: number, b: number): string => (b > 0 ? `${(((a - b) / b) * 100).toFixed(1)}%` : '-');
    return [
      [
        `${t.cameras} x ${t.window}, b${t.maxBatch}`,
        `${plain.throughputFps} / ${t.throughputFps} (${pct(t.throughputFps, plain.throughputFps)})`,
        `${formatMs(plain.latencyMs.endToEnd.p50)} / ${formatMs(t.latencyMs.endToEnd.p50)} (${pct(t.latencyMs.endToEnd.p50, plain.latencyMs.endToEnd.p50)})`,
        `${plain.server.cpuPct ?? '-'} / ${t.server.cpuPct ?? '-'}`,
      ].map(String),
    ];
  });
  return markdown(['cameras x window, max batch', 'served fps plain / TLS', 'e2e p50 ms plain / TLS', 'server CPU % plain / TLS'], rows);
}

export function limitsTable(report: BenchReport): string {
  const head = ['max batch', 'workers x threads', 'limit fps (full batches, no network)', 'single frame decode+infer p50 / p99 ms', 'runBatch wall p50 ms'];
  const rows = report.limits.map((l) =>
    [
      l.maxBatch,
      `${l.workers} x ${l.intraOpThreads}`,
      l.throughputFps,
      `${formatMs(l.singleFrame.decodeInferMs.p50)} / ${formatMs(l.singleFrame.decodeInferMs.p99)}`,
      formatMs(l.singleFrame.runBatchWallMs.p50),
    ].map(String),
  );
  return markdown(head, rows);
}

export function targetsTable(report: BenchReport): string {
  return markdown(
    ['target', 'wanted', 'measured', 'met'],
    report.targets.map((t) => [t.name, t.target, t.measured, t.met ? 'yes' : '**no**']),
  );
}

function markdown(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
