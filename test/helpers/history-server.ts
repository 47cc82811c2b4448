/**
 * A child process for history tests that need a real process (SIGKILL, a
 * file-size limit): a CrowdServer over the FakeRunner (each "JPEG" is a
 * number, its density map 1x1 holding it) with a site of ZONES zones on
 * camera "cam", each covering the map, and the history store on DIR.
 * Prints `port N` once listening; JSON log lines go to stderr; a line
 * `metrics` on stdin prints the Prometheus text and `end`.
 * Settings come from the HISTORY_CHILD environment variable (JSON).
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { CrowdServer } from '../../src/accept/server.js';
import { ClientSideParser, DensityFormat, encodeFrame, encodeHello, PROTOCOL_VERSION, type ZoneReading } from '../../src/framing/index.js';
import { setUpHistory } from '../../src/app/history-setup.js';
import { parseSiteFile } from '../../src/zones/site-file.js';
import { ZoneTracker } from '../../src/zones/zone-tracker.js';
import { FakeRunner } from './fake-runner.js';

export interface HistoryChildSettings {
  dir: string;
  zones: number;
  flushIntervalMs?: number;
  retryMs?: number;
  maxMb?: number;
}

export const HISTORY_CHILD_SCRIPT = new URL(import.meta.url).pathname;

export function siteWithZones(n: number): string {
  const zones = Array.from(
    { length: n },
    (_, i) =>
      `      - { name: z${i}, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]], smoothing_s: 1, alerts: [{ level: alarm, metric: people, above: 40, for_s: 1 }] }`,
  );
  return `cameras:\n  cam:\n    zones:\n${zones.join('\n')}\n`;
}

async function main(settings: HistoryChildSettings): Promise<void> {
  const registry = new Registry();
  const log = (message: string, fields?: object): void => void process.stderr.write(JSON.stringify({ msg: message, ...fields }) + '\n');
  const tracker = new ZoneTracker(parseSiteFile(siteWithZones(settings.zones)));
  setUpHistory(
    {
      dir: settings.dir,
      flushIntervalMs: settings.flushIntervalMs,
      retryMs: settings.retryMs,
      limits: settings.maxMb ? { maxBytes: settings.maxMb * 1048576 } : undefined,
    },
    { tracker, log, registry },
  );
  const server = new CrowdServer({
    runner: new FakeRunner(1, 0),
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { host: '127.0.0.1', port: 0 },
    log: () => undefined,
    zones: tracker,
  });
  const { port } = await server.listen();
  process.stdout.write(`port ${port}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'metrics') void registry.metrics().then((text) => process.stdout.write(`${text}\nend\n`));
  });
}

if (process.argv[1] === HISTORY_CHILD_SCRIPT) {
  main(JSON.parse(process.env.HISTORY_CHILD ?? '{}') as HistoryChildSettings).catch((err: unknown) => {
    process.stderr.write(`history child failed: ${String(err)}\n`);
    process.exit(1);
  });
}

/** One answered frame: its capture time and the zone block of its RESULT. */
export interface Answered {
  captureTimeMs: number;
  zones: ZoneReading[];
}

/**
 * A camera named `camera` that asks for zones and sends numbered frames one
 * at a time (the next when the previous is answered, at most every
 * intervalMs) until stop() is called; capture time and value come from the script.
 */
export function numberCamera(
  port: number,
  script: { camera: string; intervalMs: number; count?: number; frame(i: number): { value: number; captureTimeMs: number } },
): { answered: Answered[]; sent: () => number; done: Promise<void>; stop(): Promise<void> } {
  const answered: Answered[] = [];
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  const parser = new ClientSideParser();
  const times = new Map<number, number>();
  let seq = 0;
  let stopped = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  const sendNext = (): void => {
    if (stopped || socket.destroyed || seq === script.count) return;
    const { value, captureTimeMs } = script.frame(seq);
    times.set(++seq, captureTimeMs);
    socket.write(encodeFrame({ seq, captureTimeMs, jpeg: Buffer.from(String(value), 'latin1') }));
  };
  socket.on('data', (chunk: Buffer) => {
    for (const m of parser.push(chunk)) {
      if (m.type === 'welcome') sendNext();
      if (m.type === 'result') {
        answered.push({ captureTimeMs: times.get(m.seq) ?? Number.NaN, zones: m.zones ?? [] });
        if (answered.length === script.count) finished();
        else setTimeout(sendNext, script.intervalMs);
      }
    }
  });
  socket.write(
    encodeHello({ version: PROTOCOL_VERSION, densityFormat: DensityFormat.None, countOnly: true, window: 0, cameraName: script.camera, wantsZones: true }),
  );
  return {
    answered,
    sent: () => seq,
    done,
    stop: async () => {
      stopped = true;
      socket.destroy();
      await closed;
    },
  };
}
