/**
 * Issue 27, "connections that fill the queue with large frames": before, the
 * queue was bounded by frames only, and peers sending 8 MB frames grew the
 * server by 2.6 GB that stayed after they left. Here the worker is held, so
 * nothing leaves the queue but what the limits and departures take out: what
 * the metrics endpoint reports (crowdline_queue_bytes, the figure an operator
 * watches) must stop at the byte bound long before the frame bound, and fall
 * to 0 once the peers are gone, with at most one frame of each run (a peer
 * that closes cleanly after reading looks like a half-close until the
 * server's next bytes are refused; one that resets runs none: fair-share).
 * (The server's RSS during and after the same attack is measured by
 * bench/fair-attacks.ts: RSS is too noisy for an assertion.)
 */
import test from 'ava';
import { ServerMetrics } from '../src/metrics/server-metrics.js';
import { parsePrometheus } from '../bench/scrape.js';
import { ClockRunner, greedyPeer } from './helpers/clock-runner.js';
import { startServerWithRunner } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

const KB = 1024;
const MB = 1024 * KB;
const PEERS = 6;
const WINDOW = 32;
const FRAME_BYTES = 512 * KB;
const MAX_QUEUE_BYTES = 4 * MB;
const MAX_CONNECTION_QUEUE_BYTES = 2 * MB;
const MAX_QUEUE_FRAMES = 256;

test('queue memory is bounded by bytes, not frames, and what peers that left queued is released: at most one frame of each runs', async (t) => {
  const runner = new ClockRunner(1);
  const metrics = new ServerMetrics({ defaultMetrics: false });
  t.teardown(() => metrics.stop());
  const { server, port } = await startServerWithRunner(t, runner, {
    server: { maxWindow: WINDOW, maxQueue: MAX_QUEUE_FRAMES, maxQueueBytes: MAX_QUEUE_BYTES, maxConnectionQueueBytes: MAX_CONNECTION_QUEUE_BYTES },
    observer: metrics,
  });
  metrics.bind({
    queueDepth: () => server.batcher.queueDepth,
    queueBytes: () => server.batcher.queueBytes,
    runningBatches: () => server.batcher.runningBatches,
    readyWorkers: () => 1,
    poolSize: () => 1,
    connections: () => server.connectionCount,
  });
  const exposed = async (): Promise<{ bytes: number; frames: number }> => {
    const m = parsePrometheus(await metrics.registry.metrics());
    return { bytes: m.get('crowdline_queue_bytes') ?? Number.NaN, frames: m.get('crowdline_queue_depth') ?? Number.NaN };
  };

  runner.hold(); // the worker takes one frame and keeps it: from here on only limits and departures empty the queue
  // 6 x 32 frames of 512 KB offered (96 MB): within the frame bound (256), 24x the byte bound.
  const peers = await Promise.all(
    Array.from({ length: PEERS }, (_, i) => greedyPeer(port, { name: `fill${i}`, window: WINDOW, cost: 1, padBytes: FRAME_BYTES, localAddress: '127.0.0.3' })),
  );
  await until(() => server.batcher.queueBytes >= MAX_QUEUE_BYTES);
  // Let every peer push what it still can; with the worker held the queue only grows, so this is its peak.
  let settled = server.batcher.queueBytes;
  for (;;) {
    await sleep(300);
    if (server.batcher.queueBytes === settled) break;
    settled = server.batcher.queueBytes;
  }
  const full = await exposed();
  t.is(full.bytes, server.batcher.queueBytes, 'the metric is the batcher’s own count');
  // Below the bound anyone may queue (the last frame may cross it); over it, a connection only while under its fair part
  // (bound / senders, and of that its part of its sender's; one frame whenever it has none queued). So the worst case is the bound + a frame, + (fair part + a frame) per connection: about twice
  // the bound plus a frame per connection, the figure docs/reliability.md gives. Frames carry a ~16-byte clock tag.
  const frame = FRAME_BYTES + 64;
  const worst = MAX_QUEUE_BYTES + frame + PEERS * (MAX_QUEUE_BYTES / PEERS + frame);
  t.true(full.bytes <= worst, `queue held ${(full.bytes / MB).toFixed(2)} MB, worst case ${(worst / MB).toFixed(2)} MB`);
  t.true(full.bytes >= MAX_QUEUE_BYTES, 'the peers did fill it to the bound');
  t.true(
    full.frames < PEERS * WINDOW && full.frames < MAX_QUEUE_FRAMES / 4,
    `${full.frames} frames queued: the byte bound stopped the peers, not the frame bound`,
  );

  const queuedFrames = server.batcher.queueDepth;
  for (const p of peers) p.stop();
  runner.resume();
  await until(() => server.connectionCount === 0);
  const left = await exposed();
  t.is(left.bytes, 0, 'every byte the peers queued is released once they are gone');
  t.is(left.frames, 0);
  // A peer that sent more than the server reads ahead (64 KiB) leaves with its FIN behind bytes the paused socket has not
  // read. A reset the kernel reports at once (src/accept/peer-state.ts); a clean close (these peers read their replies)
  // shows only when the server's next bytes are refused: at most one frame of each runs, never their whole queue.
  t.true(runner.served.length <= 1 + PEERS, `${runner.served.length} of the ${queuedFrames + 1} queued or running frames ran`);
});
