/**
 * The camera client's main loop. Live cameras are read by a capture process
 * each (live-capture.ts), which pushes JPEGs; files and folders are read here
 * in small steps: each tick reads at most one frame per in-process source,
 * then the window is refreshed and the loop yields, so socket answers and
 * captured frames are handled between ticks. The main thread only sends,
 * receives, draws and records.
 */
import path from 'node:path';
import cliProgress from 'cli-progress';
import { DensityFormat } from '../../src/framing/index.js';
import { assertFfmpegAvailable } from '../capture/ffmpeg-capture.js';
import type { Frame } from '../capture/frame.js';
import { LiveCapture } from '../capture/live-capture.js';
import { isLiveCamera, openSource, parseSource } from '../capture/sources.js';
import type { StreamInput } from '../capture/stream-input.js';
import { redactUrl, type CameraSpec } from '../config/cameras.js';
import { CameraStream } from '../connection/camera-stream.js';
import type { Answer } from '../connection/stream-types.js';
import { answerCaption, wrap } from '../display/caption-text.js';
import { LiveDisplay } from '../display/display.js';
import { OverlayPainter, type Caption } from '../display/overlay.js';
import { drawLines, type LineView } from '../display/line-overlay.js';
import { drawZones, type ZoneView } from '../display/zone-overlay.js';
import { errorText, loadOpenCV } from '../opencv.js';
import { CameraRecorder } from '../record/recorder.js';
import { ClientCost } from './cost.js';
import { stampLine } from './log-line.js';
import type { ClientOptions, ClientReport } from './options.js';
import { onStopSignals, signalExitCode } from './stop-signals.js';
import { CameraStats, formatSummary } from './summary.js';

/** Cameras still answering after a stop get this long before being cut off. */
const QUIT_GRACE_MS = 3000;
const DEFAULT_STALL_TIMEOUT_MS = 10_000;

interface Camera {
  index: number;
  spec: CameraSpec;
  stats: CameraStats;
  stream?: CameraStream;
  capture?: LiveCapture;
  recorder?: CameraRecorder;
  bar?: cliProgress.SingleBar;
  failure?: string;
  answered: boolean;
  /** Disconnection notice currently on the tile. */
  shownOutage?: string;
}

export async function runClient(options: ClientOptions): Promise<ClientReport> {
  const cv = await loadOpenCV();
  if (options.cameras.some((c) => isLiveCamera(parseSource(c.source))) || (options.outDir && options.record?.format === 'mp4')) assertFfmpegAvailable();
  const startedAt = Date.now();
  const cost = new ClientCost();
  const painter = new OverlayPainter(cv);
  const cameras: Camera[] = options.cameras.map((spec, index) => ({ index, spec, stats: new CameraStats(), answered: false }));
  const names = cameras.map((c) => c.spec.name);

  const progress =
    (options.progress ?? (!options.display && process.stderr.isTTY === true))
      ? new cliProgress.MultiBar(
          { format: '{camera} [{bar}] {value}/{total} frames | {fps} fps', hideCursor: true, clearOnComplete: false, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  // Every line says when, as the server's log does (ISO 8601, UTC).
  const log = (message: string): void => {
    const line = stampLine(message);
    if (progress) progress.log(line + '\n');
    else (options.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
  };

  const display = options.display ? new LiveDisplay(cv, names, cost) : undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let tickQueued = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));

  const showAlert = (camera: Camera, lines: string[]): void => {
    display?.setCaption(camera.index, { title: camera.spec.name, lines: lines.flatMap((l) => wrap(l, 40)).slice(0, 6), alert: true });
  };

  const captionFor = (camera: Camera, answer: Answer, zones: ZoneView | undefined): Caption =>
    answerCaption(camera.spec.name, camera.stats.liveFps(Date.now()), answer, zones);

  const onAnswer = (camera: Camera, answer: Answer): void => {
    const now = Date.now();
    camera.answered = true;
    const count = answer.status === 'ok' && answer.result ? answer.result.count : NaN;
    if (answer.status === 'ok') camera.stats.recordOk(count, answer.latencyMs, now);
    else camera.stats.recordNotOk(answer.status === 'dropped' || answer.status === 'lost' ? answer.status : 'error', now);
    const density = answer.status === 'ok' ? answer.result?.density : undefined;
    const readings = answer.status === 'ok' ? answer.result?.zones : undefined;
    const zones: ZoneView | undefined = answer.zones && answer.zones.zones.length > 0 ? { zones: answer.zones, readings } : undefined;
    const crossings = answer.status === 'ok' ? answer.result?.lines : undefined;
    const lines: LineView | undefined = answer.lines && answer.lines.lines.length > 0 ? { lines: answer.lines, crossings } : undefined;
    const caption = captionFor(camera, answer, zones);
    if (camera.recorder) {
      const picture = cost.time('overlay', () => {
        const image = answer.frame.image;
        const p = painter.blend(image, density);
        if (zones) drawZones(cv, p, zones, { width: image.cols, height: image.rows });
        if (lines) drawLines(cv, p, lines, { width: image.cols, height: image.rows });
        painter.caption(p, caption);
        return p;
      });
      const zoneRows = zones?.readings
        ? { frame: answer.frame.index, captureTimeMs: answer.frame.captureTimeMs, zones: zones.zones, readings: zones.readings }
        : undefined;
      cost.time('record', () =>
        camera.recorder!.write(
          picture,
          { frame: answer.frame.index, captureTimeMs: answer.frame.captureTimeMs, count, latencyMs: answer.latencyMs, status: answer.status },
          zoneRows,
        ),
      );
    }
    // A camera that is down keeps its "reconnecting" notice over the last picture.
    if (camera.capture?.state !== 'reconnecting') display?.setImage(camera.index, answer.frame, density, caption, zones, lines);
    camera.bar?.update(camera.stats.answered, { fps: camera.stats.liveFps(now).toFixed(1) });
  };

  const onCaptured = (camera: Camera, frame: Frame): void => {
    // Until the first answer, and while the server is away, the tile shows the raw feed.
    const stream = camera.stream;
    if (!display || !stream || (camera.answered && stream.connected)) return;
    const reason = stream.connected ? 'waiting for the server' : (stream.disconnectReason ?? 'connecting...');
    display.setImage(camera.index, frame, undefined, { title: camera.spec.name, lines: wrap(reason, 40), alert: !stream.connected });
  };

  const onCaptureChange = (camera: Camera): void => {
    const capture = camera.capture!;
    if (capture.state === 'reconnecting') showAlert(camera, ['reconnecting camera...', capture.reason ?? '']);
  };

  const wake = (): void => {
    if (tickQueued) return;
    tickQueued = true;
    clearTimeout(wakeTimer);
    wakeTimer = undefined;
    setImmediate(tick);
  };

  const recorderFor = (camera: Camera, fps: number): CameraRecorder | undefined => {
    if (!options.outDir) return undefined;
    const record = options.record ?? { format: 'avi', segmentSeconds: 600, keepSegments: 0 };
    return new CameraRecorder(cv, options.outDir, camera.spec.name, { ...record, fps, log });
  };

  const streamOptions = (camera: Camera) => ({
    name: camera.spec.name,
    host: options.host,
    port: options.port,
    densityFormat: options.densityFormat ?? DensityFormat.Float16,
    window: options.window ?? 0,
    jpegQuality: options.jpegQuality ?? 80,
    maxWidth: camera.spec.maxWidth ?? options.maxWidth ?? 0,
    fps: camera.spec.fps ?? options.fps ?? 0,
    maxFrames: options.maxFrames ?? 0,
    security: options.security,
    wantsZones: (options.zones ?? true) && camera.spec.zones !== false,
    wantsLines: (options.lines ?? true) && camera.spec.lines !== false,
    inputPolicy: camera.spec.inputPolicy,
  });

  const streamEvents = (camera: Camera) => ({
    answer: (stream: CameraStream, answer: Answer) => {
      try {
        onAnswer(camera, answer);
      } catch (err) {
        // e.g. the disk is full: this camera stops, the others go on.
        stream.fail(`cannot record or show its results: ${errorText(err)}`);
      }
    },
    captured: (_s: CameraStream, frame: Frame) => onCaptured(camera, frame),
    log,
    wake,
  });

  // Live cameras get a capture process each; files and folders are opened here.
  // A file or folder that cannot be opened is reported and left out; the others go on.
  for (const camera of cameras) {
    const opts = streamOptions(camera);
    let input: StreamInput;
    if (isLiveCamera(parseSource(camera.spec.source))) {
      const capture = new LiveCapture(
        camera.spec.name,
        { source: camera.spec.source, fps: opts.fps, maxWidth: opts.maxWidth, jpegQuality: opts.jpegQuality, inputOptions: camera.spec.inputOptions ?? {} },
        { stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS },
      );
      camera.capture = capture;
      input = { text: redactUrl(camera.spec.source), live: true, fps: opts.fps, close: () => capture.stop() };
      capture.on('log', log);
      capture.on('change', () => onCaptureChange(camera));
      camera.recorder = recorderFor(camera, opts.fps || 25);
    } else {
      let source;
      try {
        source = openSource(cv, parseSource(camera.spec.source), { forceLive: options.live });
      } catch (err) {
        camera.failure = errorText(err);
        log(`${camera.spec.name}: ${camera.failure}; the other cameras go on`);
        showAlert(camera, [camera.failure]);
        continue;
      }
      input = source;
      camera.recorder = recorderFor(camera, opts.fps || source.fps || 25);
      const total = options.maxFrames && source.totalFrames ? Math.min(options.maxFrames, source.totalFrames) : (source.totalFrames ?? options.maxFrames);
      if (progress && !source.live && total) camera.bar = progress.create(total, 0, { camera: camera.spec.name, fps: '0.0' });
    }
    camera.stream = new CameraStream(cv, input, opts, streamEvents(camera), cost);
    camera.capture?.on('frame', (raw) => camera.stream!.offer(raw));
  }
  const streams = cameras.flatMap((c) => (c.stream ? [c.stream] : []));
  const captures = cameras.flatMap((c) => (c.capture ? [c.capture] : []));

  let stoppedBy: ClientReport['stoppedBy'];
  let displayBroken = false;
  const quit = (why: NonNullable<ClientReport['stoppedBy']>, text: string): void => {
    if (stoppedBy) return;
    stoppedBy = why;
    log(`${text}: stopping capture, finishing frames in flight (at most ${QUIT_GRACE_MS / 1000} s)`);
    for (const s of streams) s.stop();
    setTimeout(() => streams.forEach((s) => s.abort()), QUIT_GRACE_MS).unref();
    wake();
  };
  const removeSignalHandlers = onStopSignals(
    (signal) => quit(signal, `received ${signal}`),
    (signal) => {
      // Second signal: out now. Capture processes are killed; MP4 encoders see their input end and finish their file.
      for (const c of captures) c.stop();
      log(`received ${signal} again: exiting at once`);
      process.exit(signalExitCode(signal));
    },
  );
  options.signal?.addEventListener('abort', () => quit('aborted', 'stopped'), { once: true });
  log(
    `crowdline client: ${names.length} camera${names.length === 1 ? '' : 's'} (${names.join(', ')}) to ${options.host}:${options.port}; SIGINT or SIGTERM stops`,
  );

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
        if (outage) showAlert(camera, [`${outage}; retrying`]);
      }
      if (camera.stream?.failure && !camera.failure) {
        camera.failure = camera.stream.failure;
        showAlert(camera, [camera.failure]);
      }
    }
    if (display && !displayBroken) {
      try {
        if (display.refresh(performance.now()) === 'quit') quit('quit', 'quit from the window');
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
    // Nothing to do until an answer or a frame arrives (wake()), a paced frame is due, or the window needs a redraw.
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
    camera.capture?.start();
  }
  wake();
  await finished;

  for (const c of captures) c.stop();
  clearTimeout(wakeTimer);
  progress?.stop();
  display?.close();
  await Promise.all(cameras.map((c) => c.recorder?.close() ?? Promise.resolve()));
  removeSignalHandlers();
  for (const c of cameras) {
    if (c.capture && c.capture.framesCaptured === 0 && !c.failure) c.failure = `the camera never gave a frame (${c.capture.reason ?? 'still opening'})`;
  }
  const summaries = cameras.map((c) => {
    const summary = c.stats.summary(c.spec.name, redactUrl(c.spec.source), c.recorder ? c.recorder.outputs.map((p) => path.resolve(p)) : [], c.failure);
    summary.captured = c.stream?.framesRead ?? 0;
    summary.framesSent = c.stream?.framesSent ?? 0;
    summary.skipped = c.stream?.skipped ?? 0;
    summary.reconnects = c.stream?.reconnects ?? 0;
    if (c.capture) summary.capture = { state: c.capture.state, ...c.capture.health };
    summary.videoFramesDropped = c.recorder?.videoFramesDropped;
    return summary;
  });
  const framesRead = streams.reduce((acc, s) => acc + s.framesRead, 0);
  const text = `${formatSummary(summaries, Date.now() - startedAt)}\n${cost.describe(framesRead)}`;
  return {
    cameras: summaries,
    text,
    failedSources: cameras.filter((c) => c.failure).length,
    answered: summaries.reduce((acc, s) => acc + s.ok + s.dropped + s.errors, 0),
    stoppedBy,
  };
}
