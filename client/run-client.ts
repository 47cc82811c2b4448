/**
 * The camera client's main loop. OpenCV is synchronous and main-thread only,
 * so one loop does everything in small steps: each tick reads/encodes/sends
 * at most one frame per camera and refreshes the window, then yields to the
 * event loop so socket answers are handled between ticks.
 */
import path from 'node:path';
import cliProgress from 'cli-progress';
import { DensityFormat, type DensityFormatCode } from '../src/framing/index.js';
import { CameraStream, type Answer } from './camera-stream.js';
import type { ClientSecurity } from './connection.js';
import { ClientCost } from './cost.js';
import { LiveDisplay } from './display.js';
import { errorText, loadOpenCV, type Mat } from './opencv.js';
import type { Caption } from './overlay.js';
import { OverlayPainter } from './overlay.js';
import { CameraRecorder } from './recorder.js';
import { openSource, parseSource, type FrameSource } from './sources.js';
import { CameraStats, formatSummary, type CameraSummary } from './summary.js';

export interface ClientOptions {
  host: string;
  port: number;
  sources: string[];
  display: boolean;
  /** Headless recording folder (video + CSV per camera). */
  outDir?: string;
  jpegQuality?: number;
  maxWidth?: number;
  window?: number;
  fps?: number;
  maxFrames?: number;
  /** Treat files as live (real-time pacing, newest frame wins). */
  live?: boolean;
  densityFormat?: DensityFormatCode;
  /** Token and TLS settings for every camera's connection. */
  security?: ClientSecurity;
  /** Progress bars on stderr for file sources (default: headless on a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
  /** Aborting stops the client as q/Esc would. */
  signal?: AbortSignal;
}

export interface ClientReport {
  cameras: CameraSummary[];
  /** Summary table plus the cost line, as printed. */
  text: string;
  failedSources: number;
}

/** Cameras still answering after quit get this long before being cut off. */
const QUIT_GRACE_MS = 3000;

interface Camera {
  index: number;
  name: string;
  spec: string;
  stats: CameraStats;
  stream?: CameraStream;
  recorder?: CameraRecorder;
  bar?: cliProgress.SingleBar;
  failure?: string;
  answered: boolean;
  /** Disconnection notice currently on the tile. */
  shownOutage?: string;
}

export async function runClient(options: ClientOptions): Promise<ClientReport> {
  const cv = await loadOpenCV();
  const startedAt = Date.now();
  const cost = new ClientCost();
  const painter = new OverlayPainter(cv);
  const names = uniqueCameraNames(options.sources);
  const cameras: Camera[] = options.sources.map((spec, index) => ({ index, name: names[index], spec, stats: new CameraStats(), answered: false }));

  const progress =
    (options.progress ?? (!options.display && process.stderr.isTTY === true))
      ? new cliProgress.MultiBar(
          { format: '{camera} [{bar}] {value}/{total} frames | {fps} fps', hideCursor: true, clearOnComplete: false, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const log = (line: string): void => {
    if (progress) progress.log(line + '\n');
    else (options.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
  };

  const display = options.display ? new LiveDisplay(cv, names, cost) : undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let tickQueued = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));

  const captionFor = (camera: Camera, answer: Answer): Caption => {
    const fps = camera.stats.liveFps(Date.now());
    const lines = [
      answer.result && answer.status === 'ok' ? `count ${answer.result.count.toFixed(1)}` : `frame ${answer.status}`,
      `${fps.toFixed(1)} fps  latency ${Number.isFinite(answer.latencyMs) ? answer.latencyMs.toFixed(0) : '-'} ms`,
    ];
    return { title: camera.name, lines, alert: answer.status !== 'ok' };
  };

  const onAnswer = (camera: Camera, answer: Answer): void => {
    const now = Date.now();
    camera.answered = true;
    const count = answer.status === 'ok' && answer.result ? answer.result.count : NaN;
    if (answer.status === 'ok') camera.stats.recordOk(count, answer.latencyMs, now);
    else camera.stats.recordNotOk(answer.status === 'dropped' || answer.status === 'lost' ? answer.status : 'error', now);
    const density = answer.status === 'ok' ? answer.result?.density : undefined;
    const caption = captionFor(camera, answer);
    if (camera.recorder) {
      const picture = cost.time('overlay', () => {
        const p = painter.blend(answer.frame.image, density);
        painter.caption(p, caption);
        return p;
      });
      cost.time('record', () =>
        camera.recorder!.write(picture, { frame: answer.frame.index, captureTimeMs: answer.frame.captureTimeMs, count, latencyMs: answer.latencyMs, status: answer.status }),
      );
    }
    display?.setImage(camera.index, answer.frame.image, density, caption);
    camera.bar?.update(camera.stats.answered, { fps: camera.stats.liveFps(now).toFixed(1) });
  };

  const onCaptured = (camera: Camera, image: Mat): void => {
    // Until the first answer, and while the server is away, the tile shows the raw feed.
    const stream = camera.stream;
    if (!display || !stream || (camera.answered && stream.connected)) return;
    const reason = stream.connected ? 'waiting for the server' : (stream.disconnectReason ?? 'connecting...');
    display.setImage(camera.index, image, undefined, { title: camera.name, lines: wrap(reason, 40), alert: !stream.connected });
  };

  const wake = (): void => {
    if (tickQueued) return;
    tickQueued = true;
    clearTimeout(wakeTimer);
    wakeTimer = undefined;
    setImmediate(tick);
  };

  // Open every source; one that fails is reported and left out, the others go on.
  for (const camera of cameras) {
    let source: FrameSource;
    try {
      source = openSource(cv, parseSource(camera.spec), { forceLive: options.live });
    } catch (err) {
      camera.failure = errorText(err);
      log(`${camera.name}: ${camera.failure}; the other cameras go on`);
      display?.setCaption(camera.index, { title: camera.name, lines: wrap(camera.failure, 40), alert: true });
      continue;
    }
    if (options.outDir) {
      camera.recorder = new CameraRecorder(cv, options.outDir, camera.name, options.fps || source.fps || 25);
    }
    const total = options.maxFrames && source.totalFrames ? Math.min(options.maxFrames, source.totalFrames) : (source.totalFrames ?? options.maxFrames);
    if (progress && !source.live && total) camera.bar = progress.create(total, 0, { camera: camera.name, fps: '0.0' });
    camera.stream = new CameraStream(
      cv,
      source,
      {
        name: camera.name,
        host: options.host,
        port: options.port,
        densityFormat: options.densityFormat ?? DensityFormat.Float16,
        window: options.window ?? 0,
        jpegQuality: options.jpegQuality ?? 80,
        maxWidth: options.maxWidth ?? 0,
        fps: options.fps ?? 0,
        maxFrames: options.maxFrames ?? 0,
        security: options.security,
      },
      {
        answer: (stream, answer) => {
          try {
            onAnswer(camera, answer);
          } catch (err) {
            // e.g. the disk is full: this camera stops, the others go on.
            stream.fail(`cannot record or show its results: ${errorText(err)}`);
          }
        },
        captured: (_s, image) => onCaptured(camera, image),
        log,
        wake,
      },
      cost,
    );
  }
  const streams = cameras.flatMap((c) => (c.stream ? [c.stream] : []));

  let quitting = false;
  let displayBroken = false;
  const quit = (why: string): void => {
    if (quitting) return;
    quitting = true;
    log(`${why}: finishing frames in flight`);
    for (const s of streams) s.stop();
    setTimeout(() => streams.forEach((s) => s.abort()), QUIT_GRACE_MS).unref();
    wake();
  };
  const onSigint = (): void => (quitting ? process.exit(130) : quit('interrupted'));
  process.on('SIGINT', onSigint);
  options.signal?.addEventListener('abort', () => quit('stopped'), { once: true });

  function tick(): void {
    tickQueued = false;
    const now = performance.now();
    let worked = false;
    for (const s of streams) {
      if (s.pump(now)) worked = true;
    }
    for (const camera of cameras) {
      const stream = camera.stream;
      const outage = stream && !stream.connected && !stream.finished ? stream.disconnectReason : undefined;
      if (display && outage !== camera.shownOutage) {
        camera.shownOutage = outage;
        if (outage) display.setCaption(camera.index, { title: camera.name, lines: wrap(`${outage}; retrying`, 40), alert: true });
      }
      if (camera.stream?.failure && !camera.failure) {
        camera.failure = camera.stream.failure;
        display?.setCaption(camera.index, { title: camera.name, lines: wrap(camera.failure, 40), alert: true });
      }
    }
    if (display && !displayBroken) {
      try {
        if (display.refresh(performance.now()) === 'quit') quit('quit from the window');
      } catch (err) {
        displayBroken = true;
        log(`the window failed (${errorText(err)}); going on without it`);
      }
    }
    if (streams.every((s) => s.finished)) {
      done();
      return;
    }
    if (worked) {
      wake();
      return;
    }
    // Nothing to do until an answer arrives (wake()), a paced frame is due, or the window needs a redraw.
    const dueTimes = [display?.dueAt ?? Infinity, ...streams.map((s) => (s.wakeAt > now ? s.wakeAt : Infinity))];
    const delay = Math.max(1, Math.min(20, Math.min(...dueTimes) - performance.now()));
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      wake();
    }, delay);
  }

  for (const camera of cameras) {
    camera.stats.started(Date.now());
    camera.stream?.start();
  }
  wake();
  await finished;

  process.off('SIGINT', onSigint);
  clearTimeout(wakeTimer);
  progress?.stop();
  display?.close();
  for (const c of cameras) c.recorder?.close();
  const summaries = cameras.map((c) =>
    c.stats.summary(c.name, c.spec, c.recorder ? c.recorder.outputs.map((p) => path.resolve(p)) : [], c.failure),
  );
  for (const [i, c] of cameras.entries()) {
    summaries[i].captured = c.stream?.framesRead ?? 0;
    summaries[i].framesSent = c.stream?.framesSent ?? 0;
    summaries[i].skipped = c.stream?.skipped ?? 0;
    summaries[i].reconnects = c.stream?.reconnects ?? 0;
  }
  const framesRead = streams.reduce((acc, s) => acc + s.framesRead, 0);
  const text = `${formatSummary(summaries, Date.now() - startedAt)}\n${cost.describe(framesRead)}`;
  return { cameras: summaries, text, failedSources: cameras.filter((c) => c.failure).length };
}

/** cam0-vtest, cam1-frames, ...: short, unique, safe as file names. */
export function uniqueCameraNames(sources: readonly string[]): string[] {
  return sources.map((text, i) => {
    const spec = parseSource(text);
    let base: string;
    if (spec.kind === 'camera') base = `dev${text}`;
    else if (spec.kind === 'stream') base = text.replace(/^[a-z0-9+.-]+:\/\/(?:[^@/]*@)?/i, '').split(/[/:?]/)[0];
    else base = path.basename(path.resolve(text)).replace(/\.[^.]*$/, '');
    const slug = base.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 24) || 'source';
    return `cam${i}-${slug}`;
  });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.slice(0, 6);
}
