/**
 * The console's view of the site: per camera the latest answered frame (its
 * JPEG as received, the density map as u8, the zone block, count, fps,
 * latency), which cameras are live, stale or gone, and the zones' current
 * alerts. It hears the frames path through the ResultTap (after replies are
 * written) and the zone tracker; it knows nothing of HTTP.
 *
 * Cost: with no viewer, `watching` is false and the session neither keeps a
 * frame's bytes nor calls answered(). With viewers, a camera is snapshotted at
 * most `fps` times a second (one JPEG copy, one u8 quantisation, one encoded
 * message shared by every viewer).
 */
import { DensityFormat, encodeDensity, zoneAlertStateName } from '../framing/index.js';
import type { AnsweredFrame, ResultTap } from '../accept/result-tap.js';
import type { ZoneAlertEvent, ZoneListener } from '../zones/zone-tracker.js';
import type { ConsoleSettings } from './options.js';
import {
  encodeUpdate,
  type AlertInfo,
  type CameraInfo,
  type CameraLine,
  type CameraState,
  type CameraZone,
  type ServerMessage,
  type UpdateLine,
  type UpdateZone,
} from './wire.js';

/** What the hub needs from a connected viewer (src/console/viewer.ts). */
export interface ViewerSink {
  /** A camera update (latest-only: it replaces this camera's unsent one). */
  offer(camera: string, update: Buffer): void;
  /** A state message; always queued. */
  sendState(message: ServerMessage): void;
  /** Called every tick: cut the viewer if it has taken nothing for too long. */
  checkStall(nowMs: number): void;
}

/** Where zone polygons come from (the ZoneTracker). */
export interface ZoneDescriber {
  describe(camera: string): { width?: number; height?: number; zones: CameraZone[] };
}

/** Where counting lines come from (the LineTracker). */
export interface LineDescriber {
  describe(camera: string): { lines: CameraLine[] };
}

interface CameraEntry {
  name: string;
  site: string | null;
  /** Open connections using this name (a camera may reconnect before the old connection is gone). */
  connections: number;
  state: CameraState;
  lastFrameAt: number | null;
  /** Since when it has been waiting for its first frame under watch (opened, or watching began). */
  waitingSince: number;
  closedAt: number | null;
  /** The last update message, kept while anyone watches (a new viewer gets it at once). */
  latest: Buffer | undefined;
  /** The rate cap's theoretical time of the next snapshot (GCRA: a steady fps, jitter forgiven). */
  nextSnapshotAt: number;
  /** Answer times (ms) of the last frames, for the fps figure. */
  times: number[];
}

/** Transitions kept for the alerts panel's "recent" list. */
const RECENT_ALERTS = 50;
/** Frames the fps figure is computed over. */
const FPS_WINDOW = 16;
const TICK_MS = 1_000;

export interface HubOptions {
  settings: Pick<ConsoleSettings, 'fps' | 'video' | 'staleAfterMs' | 'forgetAfterMs'> & { limits: Pick<ConsoleSettings['limits'], 'maxCameras'> };
  zones?: ZoneDescriber;
  lines?: LineDescriber;
  now?: () => number;
  log?: (line: string) => void;
}

export class ConsoleHub implements ResultTap, ZoneListener {
  private readonly cameras = new Map<string, CameraEntry>();
  private readonly viewers = new Set<ViewerSink>();
  private readonly active = new Map<string, AlertInfo>();
  private readonly recent: AlertInfo[] = [];
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private zones: ZoneDescriber | undefined;
  private timer: NodeJS.Timeout | undefined;
  private camerasDirty = false;
  private alertsDirty = false;
  private flushScheduled = false;
  private failures = 0;
  /** Updates prepared since start (each is one JPEG copy and one u8 map); tests and the bench read it. */
  snapshots = 0;

  constructor(private readonly options: HubOptions) {
    this.now = options.now ?? Date.now;
    this.minIntervalMs = 1000 / options.settings.fps;
    this.zones = options.zones;
  }

  // --- ResultTap (called by sessions) ---

  get watching(): boolean {
    return this.viewers.size > 0;
  }

  /** Privacy mode never keeps a camera's bytes. */
  get wantsJpeg(): boolean {
    return this.viewers.size > 0 && this.options.settings.video === 'on';
  }

  cameraOpened(camera: string, siteCamera: string | undefined): void {
    let entry = this.cameras.get(camera);
    if (!entry) {
      if (!this.makeRoom()) return;
      entry = {
        name: camera,
        site: siteCamera ?? null,
        connections: 0,
        state: 'waiting',
        lastFrameAt: null,
        waitingSince: this.now(),
        closedAt: null,
        latest: undefined,
        nextSnapshotAt: 0,
        times: [],
      };
      this.cameras.set(camera, entry);
    }
    entry.connections++;
    entry.closedAt = null;
    if (entry.state === 'offline') {
      entry.state = 'waiting';
      entry.waitingSince = this.now();
    }
    this.changed('cameras');
  }

  cameraClosed(camera: string): void {
    const entry = this.cameras.get(camera);
    if (!entry) return;
    entry.connections = Math.max(0, entry.connections - 1);
    if (entry.connections > 0) return;
    entry.state = 'offline';
    entry.closedAt = this.now();
    this.changed('cameras');
  }

  answered(frame: AnsweredFrame): void {
    if (this.viewers.size === 0) return;
    try {
      this.snapshot(frame);
    } catch (err) {
      // The hub must never fail a frame or a connection; say it once.
      if (this.failures++ === 0) this.options.log?.(`console: could not prepare a frame for viewers: ${String(err)}`);
    }
  }

  private snapshot(frame: AnsweredFrame): void {
    const entry = this.cameras.get(frame.camera);
    if (!entry) return;
    const now = this.now();
    entry.times.push(now);
    if (entry.times.length > FPS_WINDOW) entry.times.shift();
    entry.lastFrameAt = now;
    if (entry.state !== 'live') {
      entry.state = 'live';
      this.changed('cameras');
    }
    const outcome = frame.outcome;
    if (outcome.status !== 'ok') return;
    const video = this.options.settings.video === 'on';
    // A frame that arrived before anyone watched has no bytes kept: wait for the next one rather than send a blank.
    if (video && !frame.jpeg) return;
    // The viewer rate cap, applied once for everyone: frames in between are never prepared. A frame up to
    // half an interval early is taken (a 5 fps camera's frames arrive 199-201 ms apart) without raising the mean rate.
    if (now < entry.nextSnapshotAt - this.minIntervalMs / 2) return;
    entry.nextSnapshotAt = Math.max(entry.nextSnapshotAt, now) + this.minIntervalMs;
    const density = encodeDensity(outcome.density.values, DensityFormat.Uint8Scaled);
    const zones: UpdateZone[] = (frame.zones ?? []).map((z) => ({
      id: z.id,
      state: z.state,
      // What the RESULT's zone block carries (float32), so the page shows the camera's numbers exactly.
      people: Math.fround(z.people),
      smoothed: Math.fround(z.smoothed),
      occupancy: Number.isFinite(z.occupancy) ? Math.fround(z.occupancy) : null,
    }));
    // The RESULT's line block as sent (f64 totals), so the page shows the camera's numbers exactly.
    const lines: UpdateLine[] | undefined = frame.lines?.map((l) => ({ id: l.id, in: l.in, out: l.out }));
    const jpeg = video ? frame.jpeg : undefined;
    const update = encodeUpdate(
      {
        camera: entry.name,
        seq: frame.seq,
        time: frame.captureTimeMs,
        count: outcome.count,
        fps: fpsOf(entry.times),
        latencyMs: frame.serverUs / 1000,
        image: outcome.image ?? null,
        density: { width: outcome.density.width, height: outcome.density.height, scale: density.scale },
        zones,
        ...(lines && lines.length > 0 ? { lines } : {}),
        jpegBytes: jpeg?.byteLength ?? 0,
      },
      density.bytes,
      jpeg,
    );
    entry.latest = update;
    this.snapshots++;
    for (const viewer of this.viewers) viewer.offer(entry.name, update);
  }

  // --- ZoneListener (the zone tracker) ---

  alert(event: ZoneAlertEvent): void {
    const info: AlertInfo = {
      camera: event.camera,
      zone: event.zone,
      state: zoneAlertStateName(event.state),
      previous: zoneAlertStateName(event.previous),
      rule: event.rule,
      value: Number.isFinite(event.value) ? Math.round(event.value * 1000) / 1000 : null,
      since: event.timeMs,
    };
    const key = `${event.camera}\u0000${event.zone}`;
    if (info.state === 'ok') this.active.delete(key);
    else this.active.set(key, info);
    this.recent.unshift(info);
    if (this.recent.length > RECENT_ALERTS) this.recent.pop();
    this.changed('alerts');
  }

  zoneRemoved(camera: string, zone: string): void {
    if (this.active.delete(`${camera}\u0000${zone}`)) this.changed('alerts');
  }

  /** The site file was reloaded: viewers get the new polygons. */
  siteChanged(zones?: ZoneDescriber): void {
    if (zones) this.zones = zones;
    this.changed('cameras');
  }

  // --- viewers ---

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** A new viewer gets the state at once, then the latest update of every camera. */
  attach(viewer: ViewerSink, hello: Extract<ServerMessage, { type: 'hello' }>): void {
    if (this.viewers.size === 0) {
      // Watching starts now: what happened unwatched is not known, so a camera is live again only once a frame is seen.
      const now = this.now();
      for (const entry of this.cameras.values()) {
        if (entry.state === 'offline') continue;
        entry.state = 'waiting';
        entry.waitingSince = now;
      }
    }
    this.viewers.add(viewer);
    viewer.sendState(hello);
    viewer.sendState(this.camerasMessage());
    viewer.sendState(this.alertsMessage());
    for (const entry of this.cameras.values()) if (entry.latest) viewer.offer(entry.name, entry.latest);
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  detach(viewer: ViewerSink): void {
    if (!this.viewers.delete(viewer) || this.viewers.size > 0) return;
    // Nobody watches: hold no frames and no timer.
    clearInterval(this.timer);
    this.timer = undefined;
    for (const entry of this.cameras.values()) {
      entry.latest = undefined;
      entry.times = [];
    }
  }

  /** The latest update of a camera (issue 29's zone editor draws on it), or undefined. */
  latestUpdate(camera: string): Buffer | undefined {
    return this.cameras.get(camera)?.latest;
  }

  cameraList(): CameraInfo[] {
    return [...this.cameras.values()].map((e) => this.describe(e));
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.viewers.clear();
  }

  /** Stale and forgotten cameras, stuck viewers: once a second while anyone watches. */
  tick(): void {
    const now = this.now();
    for (const [name, entry] of this.cameras) {
      if (entry.state === 'offline' && entry.closedAt !== null && now - entry.closedAt >= this.options.settings.forgetAfterMs) {
        this.cameras.delete(name);
        this.changed('cameras');
      } else if (entry.state === 'live' && entry.lastFrameAt !== null && now - entry.lastFrameAt >= this.options.settings.staleAfterMs) {
        entry.state = 'stale';
        this.changed('cameras');
      } else if (entry.state === 'waiting' && now - entry.waitingSince >= this.options.settings.staleAfterMs) {
        // Connected but sending nothing: as stale as a camera that stopped.
        entry.state = 'stale';
        this.changed('cameras');
      }
    }
    for (const viewer of this.viewers) viewer.checkStall(now);
  }

  /** Room for one more camera: forget the longest-gone one if the table is full; false if all are connected. */
  private makeRoom(): boolean {
    if (this.cameras.size < this.options.settings.limits.maxCameras) return true;
    let oldest: CameraEntry | undefined;
    for (const e of this.cameras.values()) if (e.closedAt !== null && (!oldest || e.closedAt < (oldest.closedAt ?? 0))) oldest = e;
    if (!oldest) return false;
    this.cameras.delete(oldest.name);
    return true;
  }

  private describe(e: CameraEntry): CameraInfo {
    const zones = e.site !== null && this.zones ? this.zones.describe(e.site) : undefined;
    const lines = e.site !== null ? this.options.lines?.describe(e.site).lines : undefined;
    return {
      name: e.name,
      site: e.site,
      state: e.state,
      lastFrameAt: e.lastFrameAt,
      reference: zones?.width !== undefined && zones.height !== undefined ? { width: zones.width, height: zones.height } : null,
      zones: zones?.zones ?? [],
      ...(lines && lines.length > 0 ? { lines: lines.map((l) => ({ id: l.id, name: l.name, points: l.points, in: l.in })) } : {}),
    };
  }

  private camerasMessage(): ServerMessage {
    return { type: 'cameras', cameras: this.cameraList() };
  }

  private alertsMessage(): ServerMessage {
    const active = [...this.active.values()].sort((a, b) => b.since - a.since);
    return { type: 'alerts', active, recent: [...this.recent] };
  }

  /** State changes are sent once per turn of the event loop, however many happened in it. */
  private changed(what: 'cameras' | 'alerts'): void {
    if (what === 'cameras') this.camerasDirty = true;
    else this.alertsDirty = true;
    if (this.flushScheduled || this.viewers.size === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const messages: ServerMessage[] = [];
      if (this.camerasDirty) messages.push(this.camerasMessage());
      if (this.alertsDirty) messages.push(this.alertsMessage());
      this.camerasDirty = false;
      this.alertsDirty = false;
      for (const viewer of this.viewers) for (const m of messages) viewer.sendState(m);
    });
  }
}

function fpsOf(times: readonly number[]): number {
  if (times.length < 2) return 0;
  const span = times[times.length - 1] - times[0];
  return span > 0 ? Math.round(((times.length - 1) * 1000 * 10) / span) / 10 : 0;
}
