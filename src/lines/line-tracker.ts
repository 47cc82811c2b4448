/**
 * Server-wide line state: for every camera in the site file with lines, the
 * people counted across each line, in and out, since the server started.
 * Fed in reply order (per connection) with each ok frame's density map and
 * grey copy; measures the motion between consecutive frames of the same
 * connection on a worker (MotionRunner) and applies the results in capture
 * order, whatever order the workers finish in.
 *
 * No phantom bursts: the motion state starts afresh (nothing is counted for
 * the step) when a camera reconnects (a different connection), when capture
 * time does not move forward, after a gap longer than `maxGapMs` (a dropped
 * run of frames, a stalled camera), when the frame or map size changes, and
 * when too many steps wait for a worker (`maxPending`: overload sheds motion,
 * never frames). Totals are kept across all of these.
 */
import { bandSamples, flowWindow, type BandSamples } from './band.js';
import { addStepFlux, type DensityGrid } from './crossing-flux.js';
import { cropGrey, DEFAULT_FLOW_OPTIONS, type FlowField, type Window } from './flow.js';
import type { GreyImage } from './grey.js';
import type { LineCrossings, LineDescription, LinesMessage } from '../framing/index.js';

export interface LineConfig {
  id: number;
  name: string;
  points: Array<[number, number]>;
  /** Which side, walking from the first point to the last on the image, is "in". */
  in: 'left' | 'right';
  /** Band width in the camera's coordinates; absent: DEFAULT_BAND_FRACTION of the frame height. */
  bandPx?: number;
}

export interface CameraLines {
  name: string;
  /** Image size the points refer to; absent: pixels of the frame as sent. */
  reference?: { width: number; height: number };
  lines: LineConfig[];
}

/** Without a band width, the band is this fraction of the frame height (40 px of a 576-line frame: about a walking person's width there). */
export const DEFAULT_BAND_FRACTION = 0.07;

export const LINE_DEFAULTS = {
  /** Frames further apart than this are not paired: a person can cross and leave unseen. */
  maxGapMs: 2000,
  /** Motion steps of one camera waiting for a worker beyond this are skipped (and the state restarts). */
  maxPending: 8,
  /**
   * Motion is netted per stretch of the line (half a band) over this long
   * before it is split into in and out: a person swaying on the line moves
   * both ways and nets to nothing, one walking through moves one way.
   */
  windowMs: 1000,
  /** A stretch whose people moved across it slower than this many band widths per second, on average over the window, was standing still: nothing counts. */
  minSpeedBandsPerS: 0.25,
} as const;

/** Flow for each window of two grey images (on a worker); resolves in any order. */
export type MotionRunner = (job: MotionJob) => Promise<FlowField[]>;

export interface MotionJob {
  /** Crops of the earlier and the later grey image, one pair per window, each window.width x window.height bytes. */
  before: Uint8Array[];
  after: Uint8Array[];
  windows: Window[];
  greyWidth: number;
  greyHeight: number;
}

export interface LineReading {
  camera: string;
  line: string;
  lineId: number;
  /** Capture time of the frame that closed the window (epoch ms). */
  timeMs: number;
  /** People counted in and out since the server started (or the line was defined). */
  in: number;
  out: number;
  /** This window's share. */
  stepIn: number;
  stepOut: number;
}

export interface LineListener {
  reading?(reading: LineReading): void;
  /** A motion step was not measured: `reason` is reconnect, gap, time, size, overload or failed. */
  skipped?(camera: string, reason: SkipReason): void;
  lineRemoved?(camera: string, line: string): void;
}

export type SkipReason = 'reconnect' | 'gap' | 'time' | 'size' | 'overload' | 'failed';

interface LineState {
  config: LineConfig;
  in: number;
  out: number;
  geometry?: { key: string; samples: BandSamples; band: number; window: Window | undefined };
  /** The open window: per stretch, people carried across (signed) and people x seconds in the band. */
  net?: Float64Array;
  massTime?: Float64Array;
  windowStartMs?: number;
  /** The latest closed window (also when nothing crossed in it): its length and what crossed. */
  lastWindow?: { ms: number; in: number; out: number };
}

interface Previous {
  connection: number;
  timeMs: number;
  grey: GreyImage;
  map: DensityGrid;
}

interface CameraState {
  config: CameraLines;
  lines: LineState[];
  previous?: Previous;
  chain: Promise<void>;
  pending: number;
}

export interface LineTrackerOptions {
  maxGapMs?: number;
  maxPending?: number;
  windowMs?: number;
  minSpeedBandsPerS?: number;
}

export class LineTracker {
  private cameras = new Map<string, CameraState>();
  private readonly listeners: LineListener[] = [];
  private readonly maxGapMs: number;
  private readonly maxPending: number;
  private readonly minSpeed: number;
  private readonly windowMs: number;
  private listenerErrors = 0;

  constructor(
    site: Iterable<CameraLines>,
    private readonly runner: MotionRunner,
    options: LineTrackerOptions = {},
  ) {
    this.maxGapMs = options.maxGapMs ?? LINE_DEFAULTS.maxGapMs;
    this.maxPending = options.maxPending ?? LINE_DEFAULTS.maxPending;
    this.minSpeed = options.minSpeedBandsPerS ?? LINE_DEFAULTS.minSpeedBandsPerS;
    this.windowMs = options.windowMs ?? LINE_DEFAULTS.windowMs;
    for (const cam of site) if (cam.lines.length > 0) this.cameras.set(cam.name, newCamera(cam));
  }

  addListener(listener: LineListener): void {
    this.listeners.push(listener);
  }

  /** Whether frames of this camera need a grey copy (it has lines). */
  wantsMotion(camera: string): boolean {
    return this.cameras.has(camera);
  }

  /** Cumulative counts per line of a camera (id order), or undefined without lines. */
  totals(camera: string): Array<{ id: number; name: string; in: number; out: number }> | undefined {
    const cam = this.cameras.get(camera);
    return cam?.lines.map((l) => ({ id: l.config.id, name: l.config.name, in: l.in, out: l.out }));
  }

  /** The LINES message (docs/protocol.md §3.8) for a camera; a camera without lines has an empty list. */
  describe(camera: string): Omit<LinesMessage, 'type'> {
    const cam = this.cameras.get(camera);
    return cam ? linesMessage(cam.config) : { camera, lines: [] };
  }

  /**
   * Each line's crossings as they stand now, for a RESULT's line block
   * (§3.4.3); undefined when the camera has no lines. Motion is applied
   * after a worker measured it, so a crossing shows a frame or two after
   * the frame that saw it.
   */
  crossings(camera: string): LineCrossings[] | undefined {
    const cam = this.cameras.get(camera);
    return cam?.lines.map((l) => ({
      id: l.config.id,
      in: l.in,
      out: l.out,
      intervalMs: l.lastWindow?.ms ?? 0,
      intervalIn: l.lastWindow?.in ?? 0,
      intervalOut: l.lastWindow?.out ?? 0,
    }));
  }

  /**
   * A new site file: a line whose definition (and the camera's reference
   * size) did not change keeps its counts; motion restarts for every camera.
   */
  replaceSite(site: Iterable<CameraLines>): void {
    const next = new Map<string, CameraState>();
    for (const cam of site) {
      if (cam.lines.length === 0) continue;
      const old = this.cameras.get(cam.name);
      const state = newCamera(cam);
      state.chain = old?.chain ?? state.chain;
      state.lines = cam.lines.map((l) => {
        const kept = old?.lines.find((s) => s.config.name === l.name);
        if (kept && JSON.stringify(kept.config) === JSON.stringify(l) && JSON.stringify(old?.config.reference) === JSON.stringify(cam.reference)) return kept;
        return { config: l, in: 0, out: 0 };
      });
      next.set(cam.name, state);
    }
    for (const [name, old] of this.cameras) {
      for (const l of old.lines) {
        if (!next.get(name)?.lines.some((s) => s.config.name === l.config.name)) this.notify((x) => x.lineRemoved?.(name, l.config.name));
      }
    }
    this.cameras = next;
  }

  /**
   * One ok frame of `camera` from connection `connection`, in reply order.
   * `grey` absent (the worker made none): the motion state restarts.
   */
  observe(
    camera: string,
    connection: number,
    timeMs: number,
    map: DensityGrid,
    grey: GreyImage | undefined,
    frame: { width: number; height: number } | undefined,
  ): void {
    const cam = this.cameras.get(camera);
    if (!cam) return;
    if (!grey) {
      cam.previous = undefined;
      return;
    }
    // The map may be a view of a buffer the caller reuses: keep a copy.
    const current: Previous = { connection, timeMs, grey, map: { width: map.width, height: map.height, values: Float32Array.from(map.values) } };
    const prev = cam.previous;
    cam.previous = current;
    if (!prev) return;
    const reason = this.stepProblem(prev, current);
    if (reason) {
      this.notify((l) => l.skipped?.(camera, reason));
      return;
    }
    if (cam.pending >= this.maxPending) {
      this.notify((l) => l.skipped?.(camera, 'overload'));
      return;
    }
    const source = cam.config.reference ?? frame ?? { width: grey.width, height: grey.height };
    const lines = cam.lines.map((l) => ({ state: l, geometry: geometryFor(l, source, grey) }));
    const measured = lines.filter((l) => l.geometry.window !== undefined);
    if (measured.length === 0) return;
    const windows = measured.map((l) => l.geometry.window as Window);
    const job = this.runner({
      before: windows.map((w) => cropGrey(prev.grey.data, prev.grey.width, w)),
      after: windows.map((w) => cropGrey(grey.data, grey.width, w)),
      windows,
      greyWidth: grey.width,
      greyHeight: grey.height,
    });
    job.catch(() => undefined); // handled in the chain below; never an unhandled rejection
    cam.pending++;
    const dtS = (current.timeMs - prev.timeMs) / 1000;
    cam.chain = cam.chain
      .then(async () => {
        let flows: FlowField[];
        try {
          flows = await job;
        } catch {
          this.notify((l) => l.skipped?.(camera, 'failed'));
          return;
        }
        measured.forEach((l, i) => {
          const g = l.geometry;
          const state = l.state;
          if (!state.net || state.net.length !== g.samples.bins || !state.massTime) {
            state.net = new Float64Array(g.samples.bins);
            state.massTime = new Float64Array(g.samples.bins);
            state.windowStartMs = prev.timeMs;
          }
          addStepFlux(g.samples, { source, band: g.band }, flows[i], prev.map, current.map, dtS, state.net, state.massTime);
          const start = state.windowStartMs ?? prev.timeMs;
          if (current.timeMs - start >= this.windowMs || current.timeMs < start) this.closeWindow(camera, state, g.band, current.timeMs);
        });
      })
      .finally(() => {
        cam.pending--;
      });
  }

  /** Resolves once every motion step handed to workers so far has been applied (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.cameras.values()].map((c) => c.chain));
  }

  /** Splits the window's net motion per stretch into in and out (standing stretches count nothing) and tells the listeners. */
  private closeWindow(camera: string, state: LineState, band: number, timeMs: number): void {
    const { net, massTime } = state;
    if (!net || !massTime) return;
    let stepIn = 0;
    let stepOut = 0;
    for (let b = 0; b < net.length; b++) {
      const n = net[b];
      // Mean speed across the line of the people in this stretch and its neighbours over the window,
      // px/s: a person's edge that spills into the next stretch moves as the person does. A neighbour
      // that moved the other way is someone else (two people passing each other on the line): its
      // motion would cancel this stretch's, so only its people count (leaving them out too made a
      // person standing on the line for a minute count, docs/zones.md).
      let localNet = n;
      let localMass = massTime[b];
      for (const k of [b - 1, b + 1]) {
        if (k < 0 || k >= net.length) continue;
        if (net[k] * n > 0) localNet += net[k];
        localMass += massTime[k];
      }
      if (localMass > 0 && Math.abs((localNet * band) / localMass) >= this.minSpeed * band) {
        if (n > 0) stepIn += n;
        else stepOut -= n;
      }
    }
    net.fill(0);
    massTime.fill(0);
    state.lastWindow = { ms: Math.max(0, timeMs - (state.windowStartMs ?? timeMs)), in: stepIn, out: stepOut };
    state.windowStartMs = timeMs;
    if (stepIn === 0 && stepOut === 0) return;
    state.in += stepIn;
    state.out += stepOut;
    const reading: LineReading = { camera, line: state.config.name, lineId: state.config.id, timeMs, in: state.in, out: state.out, stepIn, stepOut };
    this.notify((x) => x.reading?.(reading));
  }

  /** Closes every open window now (shutdown, tests): what was measured so far is counted. */
  flush(timeMs: number): void {
    for (const [name, cam] of this.cameras) for (const l of cam.lines) if (l.geometry) this.closeWindow(name, l, l.geometry.band, timeMs);
  }

  private stepProblem(prev: Previous, current: Previous): SkipReason | undefined {
    if (prev.connection !== current.connection) return 'reconnect';
    if (!(current.timeMs > prev.timeMs)) return 'time';
    if (current.timeMs - prev.timeMs > this.maxGapMs) return 'gap';
    if (prev.grey.width !== current.grey.width || prev.grey.height !== current.grey.height) return 'size';
    if (prev.map.width !== current.map.width || prev.map.height !== current.map.height) return 'size';
    return undefined;
  }

  /** Listeners run in the frame path: one that throws must not fail the frame. */
  private notify(call: (listener: LineListener) => void): void {
    for (const l of this.listeners) {
      try {
        call(l);
      } catch (err) {
        this.listenerErrors++;
        if (this.listenerErrors === 1) process.emitWarning(`line listener failed: ${String(err)}`);
      }
    }
  }
}

/** A camera's LINES message (docs/protocol.md §3.8): its lines as the site file gives them. */
export function linesMessage(camera: CameraLines): Omit<LinesMessage, 'type'> {
  const lines = camera.lines.map((l): LineDescription => {
    const d: LineDescription = { id: l.id, name: l.name, points: l.points, in: l.in };
    if (l.bandPx !== undefined) d.bandPx = l.bandPx;
    return d;
  });
  const ref = camera.reference;
  return ref ? { camera: camera.name, width: ref.width, height: ref.height, lines } : { camera: camera.name, lines };
}

function newCamera(config: CameraLines): CameraState {
  return { config, lines: config.lines.map((l) => ({ config: l, in: 0, out: 0 })), chain: Promise.resolve(), pending: 0 };
}

/** Band samples and flow window of a line for a (source size, grey size); kept until either changes. */
function geometryFor(line: LineState, source: { width: number; height: number }, grey: GreyImage): NonNullable<LineState['geometry']> {
  const key = `${source.width}x${source.height}/${grey.width}x${grey.height}`;
  if (line.geometry?.key === key) return line.geometry;
  const band = line.config.bandPx ?? DEFAULT_BAND_FRACTION * source.height;
  const samples = bandSamples(line.config.points, line.config.in, band, source.width / grey.width);
  // The flow must see a window around the band: its own window radius on every level, and the step it follows.
  const margin = DEFAULT_FLOW_OPTIONS.radius * 2 ** (DEFAULT_FLOW_OPTIONS.levels - 1) + 4;
  const window = flowWindow(samples, source, grey, margin);
  line.geometry = { key, samples, band, window };
  return line.geometry;
}
