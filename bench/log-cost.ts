/**
 * What a log line costs the server's main thread: a connection-closed line
 * (the most detailed per-connection line) written N times, as JSON and in the
 * readable form, through the server's own stderr destination (synchronous
 * writes to fd 2). Send stderr to /dev/null so the figure is the logger's, not a terminal's:
 *   node dist/bench/log-cost.js [lines=100000] 2>/dev/null
 */
import { performance } from 'node:perf_hooks';
import { createLogger, type LogFormat } from '../src/log/logger.js';

const lines = Number(process.argv[2] ?? 100_000);
const fields = {
  level: 'info' as const,
  event: 'connection-closed',
  address: '10.0.0.5:50312',
  camera: 'entrance-north',
  protocol: 'v1',
  frames: 7212,
  frames_ok: 7200,
  duration_ms: 1_442_113,
  reason: 'peer closed',
};

async function measure(format: Exclude<LogFormat, 'auto'>): Promise<number> {
  const { log } = createLogger({ format });
  for (let i = 0; i < 1000; i++) log('warm-up', fields); // JIT
  const t0 = performance.now();
  for (let i = 0; i < lines; i++) log('10.0.0.5:50312 camera="entrance-north": connection closed (peer closed) after 7212 frame(s)', fields);
  return ((performance.now() - t0) * 1000) / lines;
}

for (const format of ['json', 'pretty'] as const) {
  const us = await measure(format);
  console.log(`${format.padEnd(6)} ${us.toFixed(2)} us per connection-closed line (${lines} lines)`);
}
