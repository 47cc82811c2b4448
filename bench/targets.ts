/** Issue 5's and issue 15's targets, checked against figures from the same run. */
import type { BenchReport, LimitMeasurement, TargetCheck } from './report-types.js';
import { round } from './stats.js';
import { formatMs } from './table.js';

type Draft = Omit<BenchReport, 'targets'>;

export function checkTargets(report: Draft): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const closed = report.points.filter((p) => p.mode === 'closed' && !p.tls);
  const limitFor = (batch: number): LimitMeasurement | undefined => report.limits.find((l) => l.maxBatch === batch);

  for (const p of closed.filter((p) => p.cameras === 8 && p.window > 1)) {
    checks.push({
      name: `throughput, 8 closed-loop cameras, max batch ${p.maxBatch}`,
      target: '>= 0.90 x limit',
      measured: `${p.throughputFps} fps = ${p.limitRatio} x limit (${p.limitFps} fps)`,
      met: p.limitRatio >= 0.9,
    });
  }

  for (const p of closed.filter((p) => p.cameras === 1 && p.window === 1)) {
    const floor = limitFor(p.maxBatch)?.singleFrame.decodeInferMs.p50;
    if (floor === undefined || floor <= 0) continue;
    const ratio = round(p.latencyMs.endToEnd.p50 / floor, 2);
    checks.push({
      name: `latency, 1 camera, 1 frame in flight, max batch ${p.maxBatch}`,
      target: 'p50 end-to-end <= 1.3 x single-frame decode+inference p50',
      measured: `${formatMs(p.latencyMs.endToEnd.p50)} ms = ${ratio} x ${formatMs(floor)} ms`,
      met: ratio <= 1.3,
    });
  }

  for (const p of report.points.filter((p) => p.mode === 'open')) {
    if (p.overload === 'drop-oldest') {
      const unloaded = closed.find((u) => u.cameras === 1 && u.window === 1 && u.maxBatch === p.maxBatch);
      if (unloaded && unloaded.latencyMs.endToEnd.p99 > 0) {
        const ratio = round(p.latencyMs.endToEnd.p99 / unloaded.latencyMs.endToEnd.p99, 2);
        checks.push({
          name: `open loop ${p.cameras} cameras at ${p.offeredFps} fps offered, drop-oldest: p99`,
          target: 'p99 end-to-end <= 3 x unloaded p99',
          measured: `${formatMs(p.latencyMs.endToEnd.p99)} ms = ${ratio} x ${formatMs(unloaded.latencyMs.endToEnd.p99)} ms`,
          met: ratio <= 3,
        });
      }
      const rss = p.server.rssMb;
      if (rss) {
        checks.push({
          name: `open loop drop-oldest: server memory`,
          target: 'flat (second-half median <= first-half median x 1.05 + 4 MB)',
          measured: `RSS ${rss.start} -> ${rss.end} MB (max ${rss.max})`,
          met: memoryFlat(rss.samples),
        });
      }
      checks.push({
        name: 'open loop drop-oldest: one reply per frame',
        target: 'every frame answered exactly once (ok or dropped)',
        measured: `${p.sent} sent, ${p.answered} answered (${p.ok} ok, ${p.dropped} dropped, ${p.failed} failed), ${p.unanswered} unanswered, ${p.duplicates} duplicates`,
        met: p.unanswered === 0 && p.duplicates === 0 && p.failed === 0 && p.answered === p.sent,
      });
    } else {
      checks.push({
        name: `open loop ${p.cameras} cameras at ${p.offeredFps} fps offered, queue: nothing dropped`,
        target: '0 dropped, 0 failed, every frame answered',
        measured: `${p.dropped} dropped, ${p.failed} failed, ${p.unanswered} unanswered (${p.skippedAtCamera} not sent: camera backlog full)`,
        met: p.dropped === 0 && p.failed === 0 && p.unanswered === 0,
      });
    }
  }

  // Issue 15: the host pipeline against pure inference and the physical limits.
  for (const p of closed.filter((p) => p.cameras === 8 && p.window > 1 && p.pureInferenceRatio !== undefined)) {
    const pure = limitFor(p.maxBatch)?.pureInference?.throughputFps;
    checks.push({
      name: `served / pure inference, 8 closed-loop cameras, max batch ${p.maxBatch}`,
      target: '>= 0.85',
      measured: `${p.throughputFps} fps = ${p.pureInferenceRatio} x pure inference (${pure} fps); by CPU per frame ${p.pureInferenceCpuRatio ?? '-'}`,
      met: (p.pureInferenceRatio ?? 0) >= 0.85,
    });
  }
  const [identity, hd] = report.preprocessing?.cases ?? [];
  if (identity && identity.from === identity.to && report.preprocessing?.inputElementType === 'uint8') {
    checks.push({
      name: `preprocessing, ${identity.to} frame at identity size`,
      target: '<= 0.5 ms',
      measured: `${identity.cpuMs.fastPreprocess} ms CPU (decode ${identity.cpuMs.decode} ms; the float path would add ${identity.cpuMs.floatPreprocess} ms)`,
      met: identity.cpuMs.fastPreprocess <= 0.5,
    });
  }
  if (hd && report.preprocessing?.inputElementType === 'uint8') {
    checks.push({
      name: `decode + preprocessing, ${hd.from} -> ${hd.to}`,
      // The issue set 6.5 ms where decode alone measured 5.0 ms: 1.3 x the decode. Machines (and
      // a shared one from hour to hour) differ in the decode itself, so the check is that ratio,
      // with the milliseconds printed beside it.
      target: '<= 1.3 x decode alone, same run (6.5 ms where decode takes 5.0 ms)',
      // With the fused decode + resize, the ratio is taken from its frame-by-frame alternation with decode alone.
      measured: hd.fused
        ? `${hd.fused.cpuMs.fused} ms CPU = ${round(hd.fused.cpuMs.fused / hd.fused.cpuMs.decode)} x decode (fused decode + resize, alternated with decode alone ${hd.fused.cpuMs.decode} and decode-then-resize ${hd.fused.cpuMs.twoStep}; wall medians ${hd.fused.wallMs.fused} / ${hd.fused.wallMs.decode} / ${hd.fused.wallMs.twoStep})`
        : `${hd.cpuMs.fastTotal} ms CPU = ${round(hd.cpuMs.fastTotal / hd.cpuMs.decode)} x decode (decode ${hd.cpuMs.decode} + resize ${hd.cpuMs.fastPreprocess}, ${hd.resizeLoop}; wall medians ${hd.decodeMs} + ${hd.fastPreprocessMs})`,
      met: hd.fused ? hd.fused.cpuMs.fused <= 1.3 * hd.fused.cpuMs.decode : hd.cpuMs.fastTotal <= 1.3 * hd.cpuMs.decode,
    });
  }
  for (const r of report.simulatedDevice ?? []) {
    checks.push({
      name: `host frames/s per core, simulated device, batch ${r.batch}`,
      target: '>= 300 frames per CPU second',
      measured: `${r.framesPerCpuSecond} (${r.throughputFps} fps on ${r.decodeThreads} decode thread(s), device busy ${Math.round(r.deviceBusy * 100)}%)`,
      met: r.framesPerCpuSecond >= 300,
    });
  }

  const fullLoad = closed.filter((p) => p.cameras >= 8 && p.server.eventLoopDelayMs);
  if (fullLoad.length > 0) {
    const worst = fullLoad.reduce((a, b) => ((a.server.eventLoopDelayMs?.p99 ?? 0) >= (b.server.eventLoopDelayMs?.p99 ?? 0) ? a : b));
    const p99 = worst.server.eventLoopDelayMs?.p99 ?? 0;
    checks.push({
      name: 'server event-loop delay at full load (worst closed-loop point with >= 8 cameras)',
      target: 'p99 <= 10 ms',
      measured: `${formatMs(p99)} ms (${worst.name})`,
      met: p99 <= 10,
    });
  }
  return checks;
}

/** Memory is flat if the second half of the samples sits where the first half did. */
export function memoryFlat(samples: readonly number[]): boolean {
  if (samples.length < 4) return true;
  const half = Math.floor(samples.length / 2);
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return median(samples.slice(half)) <= median(samples.slice(0, half)) * 1.05 + 4;
}
