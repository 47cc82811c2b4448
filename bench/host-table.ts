/** Markdown tables of the host-path figures (served vs pure inference, per-frame split, preprocessing, simulated device). */
import type { BenchReport } from './report-types.js';

function markdown(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Per max batch: the pool's limit, pure inference, and the 8-camera
 * closed-loop point against both, with the per-frame split (decode,
 * preprocessing and inference from the limit run; reply = framing and
 * in-order waiting, and network, from the 8-camera point's p50s).
 */
export function servedVsPureTable(report: BenchReport): string {
  const head = [
    'max batch',
    'pure inference fps',
    'limit fps',
    'served fps, 8 cameras',
    'served / pure',
    'served / limit',
    'CPU ms per frame pure / served',
    'by CPU: pure / served',
    'decode ms',
    'preprocess ms',
    'inference ms/frame',
    'reply (framing) p50 ms',
    'network p50 ms',
  ];
  const rows = report.limits.map((l) => {
    const p = report.points.find((q) => q.mode === 'closed' && !q.tls && q.cameras === 8 && q.window > 1 && q.maxBatch === l.maxBatch);
    return [
      l.maxBatch,
      l.pureInference?.throughputFps ?? '-',
      l.throughputFps,
      p?.throughputFps ?? '-',
      p?.pureInferenceRatio?.toFixed(2) ?? '-',
      p?.limitRatio.toFixed(2) ?? '-',
      `${l.pureInference?.cpuMsPerFrame ?? '-'} / ${p?.server.cpuPct && p.throughputFps > 0 ? ((p.server.cpuPct * 10) / p.throughputFps).toFixed(2) : '-'}`,
      p?.pureInferenceCpuRatio?.toFixed(2) ?? '-',
      l.split?.decodeMs ?? '-',
      l.split?.preprocessMs ?? '-',
      l.split?.inferenceMs ?? '-',
      p?.latencyMs.reply.p50 ?? '-',
      p?.latencyMs.network.p50 ?? '-',
    ].map(String);
  });
  return markdown(head, rows);
}

export function preprocessingTable(report: BenchReport): string {
  const pre = report.preprocessing;
  if (!pre) return '(not measured)';
  const head = ['frames', 'decode ms', 'uint8 fast path ms', 'same, JavaScript loop ms', 'float path ms', 'decode + fast path ms'];
  const rows = pre.cases.map((c) =>
    [
      `${c.name}, ${c.from} -> ${c.to}`,
      `${c.cpuMs.decode} (wall ${c.decodeMs})`,
      `${c.cpuMs.fastPreprocess} (wall ${c.fastPreprocessMs})`,
      `${c.cpuMs.jsLoopPreprocess ?? '-'} (wall ${c.jsLoopPreprocessMs ?? '-'})`,
      `${c.cpuMs.floatPreprocess} (wall ${c.floatPreprocessMs})`,
      `${c.cpuMs.fastTotal} (wall ${c.fastTotalMs})`,
    ].map(String),
  );
  const loop = pre.cases[0]?.resizeLoop;
  // The fused decode + resize against what it replaced, alternated frame by frame (bench/host-path.ts measureFused).
  const fused = pre.cases
    .filter((c) => c.fused)
    .map(
      (c) =>
        `\n\n${c.name}, ${c.from} -> ${c.to}, served as one decode + resize call (native/decode-resize.c), alternated frame by frame over ${c.fused?.frames} frames: CPU ms per frame decode alone ${c.fused?.cpuMs.decode}, decode then resize ${c.fused?.cpuMs.twoStep}, fused ${c.fused?.cpuMs.fused} (= ${c.fused ? (c.fused.cpuMs.fused / c.fused.cpuMs.decode).toFixed(2) : '-'} x decode); medians per frame, CPU ${c.fused?.medianCpuMs.decode} / ${c.fused?.medianCpuMs.twoStep} / ${c.fused?.medianCpuMs.fused}, wall ${c.fused?.wallMs.decode} / ${c.fused?.wallMs.twoStep} / ${c.fused?.wallMs.fused}. "decode + fast path" above is the fused call.`,
    )
    .join('');
  return `${markdown(head, rows)}\n\nCPU ms per frame, wall-clock medians in brackets. (${pre.model} takes ${pre.inputElementType}: the server uses the ${pre.inputElementType === 'uint8' ? 'uint8 fast' : 'float'} path; fast path resize: ${loop ?? 'not recorded'})${fused}`;
}

export function simulatedDeviceTable(report: BenchReport): string {
  const sim = report.simulatedDevice;
  if (!sim || sim.length === 0) return '(not measured)';
  const head = ['batch', 'device model', 'device capacity fps', 'decode threads', 'host fps', 'device busy', 'frames per CPU second', 'fps per core (wall)'];
  const rows = sim.map((r) =>
    [
      r.batch,
      `${r.device.aMs} + ${r.device.bMs} x N ms`,
      r.deviceCapacityFps,
      r.decodeThreads,
      r.throughputFps,
      `${Math.round(r.deviceBusy * 100)}%`,
      r.framesPerCpuSecond,
      r.framesPerSecondPerCore,
    ].map(String),
  );
  return markdown(head, rows);
}
