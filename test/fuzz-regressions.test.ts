/** Replays every input that ever failed (test/fixtures/fuzz-regressions) through everything that reads peer bytes. */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { encodeLegacyFrame, FrameStatus, LegacyFrameParser, ProtocolError, ServerSideParser } from '../src/framing/index.js';
import { inspectJpeg, JpegRejected } from '../src/workers/jpeg-inspect.js';
import { collectResults } from './helpers/results.js';
import { startKnownAnswerServer } from './helpers/server.js';
import { blockPatternJpeg } from './helpers/images.js';

const DIR = new URL('../../test/fixtures/fuzz-regressions/', import.meta.url);
const inputs = readdirSync(DIR)
  .filter((f) => !f.endsWith('.md'))
  .map((name) => ({ name, bytes: readFileSync(new URL(name, DIR)) }));

test('there are regression inputs to replay', (t) => {
  t.true(inputs.length >= 3);
});

test('every regression input is rejected or parsed cleanly by the inspector and both parsers, whatever the split', (t) => {
  for (const { name, bytes } of inputs) {
    try {
      inspectJpeg(bytes);
    } catch (err) {
      t.true(err instanceof JpegRejected, `${name}: inspector threw ${String(err)}`);
    }
    for (const step of [1, 7, bytes.length]) {
      const v1 = new ServerSideParser({ maxFrameBytes: 1 << 20 });
      const legacy = new LegacyFrameParser(1 << 20);
      for (const parser of [v1, legacy]) {
        try {
          for (let i = 0; i < bytes.length; i += step) {
            parser.feed(bytes.subarray(i, i + step));
            while (parser.next() !== undefined);
          }
        } catch (err) {
          t.true(err instanceof ProtocolError, `${name}: parser threw ${String(err)}`);
        }
      }
    }
  }
});

test('every regression input sent as a frame (v1 and legacy) is answered without harming the server', async (t) => {
  const running = await startKnownAnswerServer(t);
  const port = running.address.port;
  const conn = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'regressions' });
  t.teardown(() => conn.destroy());
  const results = collectResults(conn, inputs.length + 1);
  for (const { bytes } of inputs) conn.send(bytes);
  conn.send(blockPatternJpeg(64, 48, 8));
  const replies = await results;
  replies.slice(0, -1).forEach((r, i) => t.true(r.status === FrameStatus.Ok || r.status === FrameStatus.FrameError, `${inputs[i].name}: status ${r.status}`));
  t.is(replies.at(-1)?.status, FrameStatus.Ok, 'the server still serves a good frame afterwards');
  // And through the legacy protocol, on fresh connections.
  for (const { bytes } of inputs) {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(encodeLegacyFrame(bytes)));
      s.on('data', () => s.destroy());
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
  }
  const after = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'after' });
  t.teardown(() => after.destroy());
  const last = collectResults(after, 1);
  after.send(blockPatternJpeg(64, 48, 8));
  t.is((await last)[0].status, FrameStatus.Ok);
});
