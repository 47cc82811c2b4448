/**
 * Counting lines (protocol v1.4) in the Python client
 * (client/python/crowdline_client.py): against `crowdline serve` with the
 * sample site's lines on the sample video, the line counts it prints are the
 * ones the server sent (its bytes, tapped on the way and parsed by
 * src/framing), and the frames it records and saves carry the lines and
 * arrows, drawn pixel for pixel as the TypeScript client draws them. An
 * older server (no LINES) keeps working; hostile LINES bodies and line
 * blocks are refused as protocol errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { crossingCount, drawLines, LINE_COLOURS, lineArrows } from '../client/display/line-overlay.js';
import { scalePolygon } from '../client/display/zone-overlay.js';
import { loadOpenCV, type Mat } from '../client/opencv.js';
import {
  ClientSideParser,
  DensityFormat,
  encodeLines,
  encodeResult,
  encodeWelcome,
  FrameStatus,
  PROTOCOL_VERSION,
  ServerSideParser,
  type LineCrossings,
  type LinesMessage,
  type ResultMessage,
  type ServerMessage,
} from '../src/framing/index.js';
import { DEFAULT_MODEL_PATH, PACKAGE_ROOT, SAMPLE_VIDEO } from '../src/app/paths.js';
import { oneWorkerServeArgs, startServeProcess } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { tempDir } from './helpers/server.js';
import { vtestLinesMessage, vtestLinesSite } from './helpers/vtest-site.js';

const PYTHON = process.env.CROWDLINE_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const SCRIPT = path.join(PACKAGE_ROOT, 'client', 'python', 'crowdline_client.py');

interface PyLine {
  id: number;
  name: string | null;
  in: number;
  out: number;
  net: number;
  intervalMs: number;
  intervalIn: number;
  intervalOut: number;
}
interface PyResult {
  frame: number;
  seq: number;
  status: string;
  lines?: PyLine[];
}

function runPython(args: string[]): Promise<{ code: number; results: PyResult[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SCRIPT, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const results = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as PyResult);
      resolve({ code, results, stderr });
    });
  });
}

/** A TCP relay to `port` on 127.0.0.1 that keeps every byte the server sends. */
async function startTap(port: number): Promise<{ port: number; fromServer: () => Buffer; close: () => void }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (c: Buffer) => chunks.push(c));
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    fromServer: () => Buffer.concat(chunks),
    close: () => {
      for (const s of sockets) s.destroy();
      relay.close();
    },
  };
}

/** How many channel values of two same-sized BGR pictures differ. */
function differingValues(a: Mat, b: Mat): number {
  return a
    .absdiff(b)
    .splitChannels()
    .reduce((n, channel) => n + channel.countNonZero(), 0);
}

function pixel(image: Mat, x: number, y: number): [number, number, number] {
  const v = image.atRaw(y, x) as unknown as number[];
  return [v[0], v[1], v[2]];
}

test("against crowdline serve with the sample lines: the counts printed are the server's RESULT line blocks; the saved and recorded frames carry the TypeScript client's drawing", async (t) => {
  const cv = await loadOpenCV();
  const dir = tempDir('crowdline-py-lines-');
  const site = path.join(dir, 'site.yaml');
  writeFileSync(site, vtestLinesSite());
  const { child, port } = await startServeProcess([...oneWorkerServeArgs(DEFAULT_MODEL_PATH), '--site', site, '--no-console']);
  t.teardown(() => child.kill('SIGKILL'));
  const tap = await startTap(port);
  t.teardown(() => tap.close());
  const FRAMES = 60; // the first 60 frames cross "east" three times and "centre" once (test/fixtures/vtest-lines.json)
  const record = path.join(dir, 'vtest.avi');
  const snapshot = path.join(dir, 'last.png');
  const run = await runPython([
    '--server',
    `127.0.0.1:${tap.port}`,
    '--camera',
    'vtest',
    '--video',
    SAMPLE_VIDEO,
    '--frames',
    String(FRAMES),
    '--density',
    'none',
    '--record',
    record,
    '--snapshot',
    snapshot,
  ]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /vtest: 3 counting line\(s\) from the server: west, centre, east/);

  // What the server sent, parsed by the reference parser.
  const parser = new ClientSideParser();
  const messages: ServerMessage[] = parser.push(tap.fromServer());
  const linesMessage = messages.find((m): m is LinesMessage => m.type === 'lines');
  t.truthy(linesMessage, 'the server sent LINES');
  const results = messages.filter((m): m is ResultMessage => m.type === 'result');
  t.is(results.length, FRAMES);
  t.is(run.results.length, FRAMES);
  const names = linesMessage!.lines.map((l) => l.name);
  for (const [i, result] of results.entries()) {
    const printed = run.results[i];
    t.is(printed.seq, result.seq);
    t.truthy(result.lines, `RESULT ${result.seq} has a line block`);
    t.deepEqual(
      printed.lines,
      result.lines!.map((c) => ({
        id: c.id,
        name: names[c.id],
        in: c.in,
        out: c.out,
        net: c.in - c.out,
        intervalMs: c.intervalMs,
        intervalIn: c.intervalIn,
        intervalOut: c.intervalOut,
      })),
      `frame ${i}: the printed line block is the server's, to the last bit`,
    );
  }
  const last = results[results.length - 1].lines!;
  t.true(
    last.some((c) => c.in + c.out > 0.5),
    `people were counted, so the comparison is of numbers that moved: ${JSON.stringify(last)}`,
  );

  // The saved last frame is the TypeScript client's drawing of the same lines and counts on the same frame.
  const capture = new cv.VideoCapture(SAMPLE_VIDEO);
  let frame = capture.read();
  for (let i = 1; i < FRAMES; i++) frame = capture.read();
  capture.release();
  drawLines(cv, frame, { lines: linesMessage!, crossings: last }, { width: frame.cols, height: frame.rows });
  const saved = cv.imread(snapshot);
  t.deepEqual([saved.cols, saved.rows], [768, 576]);
  t.is(differingValues(saved, frame), 0, 'the Python drawing equals the TypeScript one, pixel for pixel');

  // The recording: one frame per answer, each with the white lines and the arrows in their colours (Motion-JPEG blurs them a little).
  const video = new cv.VideoCapture(record);
  const recorded: Mat[] = [];
  for (let f = video.read(); !f.empty; f = video.read()) recorded.push(f);
  video.release();
  t.is(recorded.length, FRAMES);
  const east = linesMessage!.lines.find((l) => l.name === 'east')!;
  const points = scalePolygon(linesMessage!, { width: 768, height: 576 }, east.points, 768, 576);
  const arrows = lineArrows(points, east.in, 1)!;
  for (const f of [0, FRAMES - 1]) {
    const [b, g, r] = pixel(recorded[f], 576, 200);
    t.true(b > 200 && g > 200 && r > 200, `frame ${f}: the east line is white: ${[b, g, r].join(',')}`);
    // Each arrow's shaft, a third of the way from its tail.
    for (const dir of ['in', 'out'] as const) {
      const { from, to } = arrows[dir];
      const x = Math.round(from[0] + (to[0] - from[0]) / 3);
      const y = Math.round(from[1] + (to[1] - from[1]) / 3);
      const [pb, pg, pr] = pixel(recorded[f], x, y);
      const want = LINE_COLOURS[dir];
      const near = [pb, pg, pr].every((v, k) => Math.abs(v - want[k]) < 90);
      t.true(near, `frame ${f}: the ${dir} arrow at ${x},${y} is ${want.join(',')}: ${[pb, pg, pr].join(',')}`);
    }
  }
});

test('on a small picture the labels that would cover each other slide apart, exactly as the TypeScript client moves them', async (t) => {
  const cv = await loadOpenCV();
  const dir = tempDir('crowdline-py-lines-');
  // Frame 120 of the sample video at half size: the three sample lines' labels collide there unless moved.
  const capture = new cv.VideoCapture(SAMPLE_VIDEO);
  let frame = capture.read();
  for (let i = 1; i <= 120; i++) frame = capture.read();
  capture.release();
  const small = path.join(dir, 'small.jpg');
  cv.imwrite(small, frame.resize(288, 384));
  const linesMessage = vtestLinesMessage();
  const crossings: LineCrossings[] = [2.1, 13.7, 15.2].map((people, id) => ({
    id,
    in: people,
    out: people + 3.25,
    intervalMs: 1000,
    intervalIn: 0,
    intervalOut: 0,
  }));
  const snapshot = path.join(dir, 'small.png');
  const run = await pythonAgainst(t, { afterWelcome: encodeLines(linesMessage), result: message(0x04, plainResult(crossings)) }, [
    '--image',
    small,
    '--snapshot',
    snapshot,
  ]);
  t.is(run.code, 0, run.stderr);
  const expected = cv.imread(small);
  drawLines(cv, expected, { lines: linesMessage, crossings }, { width: expected.cols, height: expected.rows });
  t.is(differingValues(cv.imread(snapshot), expected), 0);
});

test('a LINES message between RESULTs (a site reload) applies to the RESULTs after it', async (t) => {
  const linesOf = (name: string): Buffer => lines(`{"camera": "cam", "lines": [${goodLine.replace('"door"', `"${name}"`)}]}`);
  const crossing = (seq: number): LineCrossings[] => [{ id: 0, in: seq, out: 0, intervalMs: 0, intervalIn: 0, intervalOut: 0 }];
  // Frame 0 under "door", then the reload's LINES renames it "gate" before the RESULT of frame 1.
  const run = await pythonAgainst(
    t,
    {
      afterWelcome: linesOf('door'),
      result: (seq) => Buffer.concat([seq === 1 ? linesOf('gate') : Buffer.alloc(0), message(0x04, plainResult(crossing(seq), seq))]),
    },
    ['--frames', '3', '--window', '1'],
  );
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    run.results.map((r) => r.lines?.map((l) => `${l.name} ${l.in}`)),
    [['door 0'], ['gate 1'], ['gate 2']],
  );
  t.regex(run.stderr, /1 counting line\(s\) from the server: door[\s\S]*1 counting line\(s\) from the server: gate/);
});

test('an older server (v1.3: no LINES, no line blocks) serves a client that asks; --no-lines does not ask', async (t) => {
  const dir = tempDir('crowdline-py-lines-');
  const snapshot = path.join(dir, 'plain.png');
  const older = await pythonAgainst(t, { result: message(0x04, plainResult()) }, ['--snapshot', snapshot]);
  t.is(older.code, 0, older.stderr);
  t.deepEqual(
    older.results.map((r) => [r.status, r.lines]),
    [['ok', undefined]],
  );
  t.true(older.hellos[0].wantsLines, 'it asked');
  // Nothing drawn on a frame without lines: the snapshot is the picture sent.
  const cv = await loadOpenCV();
  t.is(differingValues(cv.imread(snapshot), cv.imread(older.jpegFile)), 0);
  const off = await pythonAgainst(t, { result: message(0x04, plainResult()) }, ['--no-lines']);
  t.is(off.code, 0, off.stderr);
  t.false(off.hellos[0].wantsLines);
});

/** An ok RESULT, count only: a v1.3 server's, or with a line block when `lines` are given. */
function plainResult(lines?: LineCrossings[], seq = 0): Buffer {
  const whole = encodeResult({
    seq,
    status: FrameStatus.Ok,
    captureTimeMs: 1,
    count: 1,
    densityFormat: DensityFormat.None,
    timings: { queueUs: 0, decodeUs: 0, inferUs: 0, serverUs: 0 },
    ...(lines ? { lines } : {}),
  });
  return Buffer.from(whole.subarray(8));
}

/**
 * A server that answers HELLO with WELCOME, then `attack` (bytes after the WELCOME, and the RESULT for the
 * client's first frame when `result` is given); resolves with the Python client's exit and stderr.
 */
async function pythonAgainst(
  t: import('ava').ExecutionContext,
  attack: { afterWelcome?: Buffer; result?: Buffer | ((seq: number) => Buffer) },
  args: string[] = [],
): Promise<{ code: number; stderr: string; results: PyResult[]; hellos: Array<{ wantsLines: boolean }>; jpegFile: string }> {
  const hellos: Array<{ wantsLines: boolean }> = [];
  const dir = tempDir('crowdline-py-hostile-');
  const jpegFile = path.join(dir, 'frame.jpg');
  writeFileSync(jpegFile, blockPatternJpeg(64, 48, 8));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    const parser = new ServerSideParser({ maxFrameBytes: 1 << 20 });
    socket.on('data', (chunk: Buffer) => {
      for (const m of parser.push(chunk)) {
        if (m.type === 'hello') {
          hellos.push({ wantsLines: m.wantsLines === true });
          socket.write(
            encodeWelcome({
              version: PROTOCOL_VERSION,
              densityFormat: DensityFormat.None,
              countOnly: true,
              window: 1,
              maxFrameBytes: 1 << 20,
              inputWidth: 64,
              inputHeight: 48,
              outputStride: 8,
              modelName: 'hostile',
              provider: 'cpu',
            }),
          );
          if (attack.afterWelcome) socket.write(attack.afterWelcome);
        } else if (m.type === 'frame' && attack.result) {
          socket.write(typeof attack.result === 'function' ? attack.result(m.seq) : attack.result);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const run = await runPython(['--server', `127.0.0.1:${port}`, '--camera', 'cam', '--image', jpegFile, '--frames', '1', '--density', 'none', ...args]);
  return { ...run, hellos, jpegFile };
}

function message(type: number, body: Buffer, length = body.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt8(type, 0);
  head.writeUInt32LE(length, 4);
  return Buffer.concat([head, body]);
}
const LINES_TYPE = 0x08;
const lines = (json: string): Buffer => message(LINES_TYPE, Buffer.from(json, 'utf8'));
const goodLine = '{"id": 0, "name": "door", "points": [[0, 10], [64, 10]], "in": "left"}';

test('hostile LINES bodies are protocol errors (exit 4, the rule named), never a crash or a hang', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['not JSON', lines('{"camera": "cam", "lines": ['), /LINES body is not JSON/],
    ['not UTF-8', lines('\u0000\u0000').fill(0xff, 8), /LINES body is not JSON \(UnicodeDecodeError\)/],
    ['NaN', lines(`{"camera": "cam", "lines": [{"id": 0, "name": "d", "points": [[NaN, 1], [2, 3]], "in": "left"}]}`), /not a JSON number/],
    ['1e999', lines(`{"camera": "cam", "lines": [{"id": 0, "name": "d", "points": [[1e999, 1], [2, 3]], "in": "left"}]}`), /not \[x, y\] of finite numbers/],
    ['a boolean for a number', lines(`{"camera": "cam", "lines": [{"id": 0, "name": "d", "points": [[true, 1], [2, 3]], "in": "left"}]}`), /not \[x, y\]/],
    ['nested 60000 deep', lines('['.repeat(60_000)), /LINES body is not JSON \(RecursionError\)/],
    [
      '257 lines',
      lines(`{"camera": "cam", "lines": [${Array.from({ length: 257 }, (_, i) => goodLine.replace('"id": 0', `"id": ${i}`)).join(',')}]}`),
      /at most 256/,
    ],
    [
      '257 points',
      lines(`{"camera": "cam", "lines": [{"id": 0, "name": "d", "points": ${JSON.stringify(Array.from({ length: 257 }, (_, i) => [i, i]))}, "in": "left"}]}`),
      /2-256 points/,
    ],
    ['a wrong id', lines(`{"camera": "cam", "lines": [${goodLine.replace('"id": 0', '"id": 1')}]}`), /must have "id" 0/],
    ['a side that is not left or right', lines(`{"camera": "cam", "lines": [${goodLine.replace('"left"', '"up"')}]}`), /"in" must be "left" or "right"/],
    ['a negative band', lines(`{"camera": "cam", "lines": [${goodLine.replace('}', ', "band_px": -4}')}]}`), /band_px/],
    ['a width without a height', lines(`{"camera": "cam", "width": 768, "lines": []}`), /"width" and "height"/],
    ['a body over 65536 bytes, announced', message(LINES_TYPE, Buffer.alloc(0), 65_537), /outside 2-65536/],
  ];
  for (const [name, bytes, reason] of cases) {
    const run = await pythonAgainst(t, { afterWelcome: bytes });
    t.is(run.code, 4, `${name}: ${run.stderr}`);
    t.regex(run.stderr, reason, name);
    t.notRegex(run.stderr, /Traceback/, name);
  }
  // A client that did not ask: LINES is unexpected.
  const unasked = await pythonAgainst(t, { afterWelcome: lines(`{"camera": "cam", "lines": [${goodLine}]}`) }, ['--no-lines']);
  t.is(unasked.code, 4);
  t.regex(unasked.stderr, /LINES sent to a client that did not ask/);
});

test('hostile line blocks in a RESULT are protocol errors: cut short, running past the end, counts NaN, infinite or negative', async (t) => {
  const crossing = { id: 0, in: 3, out: 1, intervalMs: 1000, intervalIn: 1, intervalOut: 0 };
  const result = (patch: (body: Buffer) => Buffer): Buffer => message(0x04, patch(plainResult([crossing])));
  const at = 44; // the line block follows the fixed part (no zone block)
  const cases: Array<[string, Buffer, RegExp]> = [
    ['cut short', result((b) => b.subarray(0, at + 2)), /line block is cut short/],
    ['runs past the end', result((b) => (b.writeUInt16LE(2, at), b)), /line block of 2 lines runs past the end/],
    ['NaN in', result((b) => (b.writeDoubleLE(NaN, at + 4 + 16), b)), /not a finite number >= 0/],
    ['infinite out', result((b) => (b.writeDoubleLE(Infinity, at + 4 + 24), b)), /not a finite number >= 0/],
    ['negative interval in', result((b) => (b.writeFloatLE(-1, at + 4 + 8), b)), /not a finite number >= 0/],
  ];
  for (const [name, bytes, reason] of cases) {
    const run = await pythonAgainst(t, { result: bytes });
    t.is(run.code, 4, `${name}: ${run.stderr}`);
    t.regex(run.stderr, reason, name);
  }
  // The same RESULT untouched is read.
  const fine = await pythonAgainst(t, { afterWelcome: lines(`{"camera": "cam", "lines": [${goodLine}]}`), result: result((b) => b) });
  t.is(fine.code, 0, fine.stderr);
  t.deepEqual(fine.results[0].lines, [{ id: 0, name: 'door', in: 3, out: 1, net: 2, intervalMs: 1000, intervalIn: 1, intervalOut: 0 }]);
});

test('the drawing module rounds as JavaScript does: Math.round halves up, toFixed on the exact value', async (t) => {
  const positions = [2.5, -2.5, 0.49999999999999994, -1.5, 7.5000001];
  const counts = [0.25, 0.35, 0.05, 12.345, 99.96, 1234.5];
  const printed = await new Promise<string>((resolve, reject) =>
    execFile(
      PYTHON,
      [
        '-c',
        `import json, line_overlay as o; print(json.dumps([[o.js_round(v) for v in ${JSON.stringify(positions)}], [o.crossing_count(v) for v in ${JSON.stringify(counts)}]]))`,
      ],
      { cwd: path.dirname(SCRIPT) },
      (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
    ),
  );
  t.deepEqual(JSON.parse(printed), [positions.map((v) => Math.round(v)), counts.map(crossingCount)]);
});
