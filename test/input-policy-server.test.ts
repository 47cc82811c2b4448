/**
 * The input-size policy through `crowdline serve`'s own start path: the
 * site file's entry for a camera wins, then what the client asked in HELLO
 * (v1.3), then the server default. The known-answer model's map of a
 * 320x192 frame tells the three apart by its size: fixed 8x6 cells (the
 * 64x48 input), native 40x24 (the frame's own size), tiled 16 tiles of the
 * frame scaled to fit them (smaller than native, larger than fixed), and
 * the tiled map's sum is its count.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { startServer } from '../src/app/start-server.js';
import { FrameStatus, type InputPolicyName, type ResultMessage } from '../src/framing/index.js';
import { planTiles } from '../src/workers/input-size.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const FRAME = blockPatternJpeg(320, 192, 8);
const TILED = planTiles(320, 192, { width: 64, height: 48, sizeMultiple: 8, stride: 8 });

async function serve(t: ExecutionContext, inputPolicy?: 'fixed' | 'native' | 'tiled'): Promise<number> {
  const dir = tempDir();
  const sitePath = path.join(dir, 'site.yaml');
  writeFileSync(sitePath, 'cameras:\n  stand:\n    input_policy: tiled\n  gate:\n    zones: []\n');
  const running = await startServer({
    modelPath: knownAnswerModel({ width: 64, height: 48 }).onnxPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 4,
    maxBatchDelayMs: 1,
    server: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    sitePath,
    inputPolicy,
  });
  t.teardown(() => running.close());
  return running.address.port;
}

async function oneFrame(t: ExecutionContext, port: number, cameraName: string, inputPolicy?: InputPolicyName): Promise<ResultMessage> {
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName, inputPolicy });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, 1);
  conn.send(FRAME, 1);
  const [r] = await results;
  t.is(r.status, FrameStatus.Ok);
  return r;
}

const dims = (r: ResultMessage): [number, number] => [r.density?.width ?? 0, r.density?.height ?? 0];

test('site file, then client, then server default', async (t) => {
  t.true(TILED.tiles > 1 && TILED.tiles <= 16);
  const tiledDims: [number, number] = [TILED.width / 8, TILED.height / 8];
  t.notDeepEqual(tiledDims, [40, 24]);
  const port = await serve(t);
  t.deepEqual(dims(await oneFrame(t, port, 'gate')), [8, 6], 'no policy anywhere: fixed');
  t.deepEqual(dims(await oneFrame(t, port, 'gate', 'native')), [40, 24], 'the client asks native');
  t.deepEqual(dims(await oneFrame(t, port, 'stand')), tiledDims, 'the site file says tiled');
  const overridden = await oneFrame(t, port, 'stand', 'native');
  t.deepEqual(dims(overridden), tiledDims, 'the site file wins over the client');
  const sum = (overridden.density?.values ?? new Float32Array(0)).reduce((a, b) => a + b, 0);
  t.true(Math.abs(overridden.count - sum) < 1e-3, 'the stitched map sums to the count');
});

test('--input-policy sets the default for cameras without one', async (t) => {
  const port = await serve(t, 'native');
  t.deepEqual(dims(await oneFrame(t, port, 'gate')), [40, 24]);
  t.deepEqual(dims(await oneFrame(t, port, 'gate', 'fixed')), [8, 6], 'a client may still ask fixed');
});
