/**
 * Server-wide zone state: for every camera in the site file and each of its
 * zones, the coverage masks, the smoothed count and the alert state. Keyed by
 * camera name, not connection, so a camera that reconnects carries on; a
 * camera silent for longer than the site's reset_after_s starts afresh.
 * Knows nothing of sockets: the accept layer feeds it density maps.
 */
import type { InputSizePolicy } from '../workers/input-size.js';
import type { SenderSettings } from '../common/sender-share.js';
import type { ZoneAlertStateCode, ZoneReading } from '../framing/index.js';
import { ZoneAlerts, type AlertTransition } from './alerts.js';
import { MaskCache, maskedSum, type Size } from './coverage.js';
import { zonesMessage, type CameraConfig, type SiteConfig, type ZoneConfig } from './site-file.js';
import { TimeEma } from './smoothing.js';

export interface ZoneReport {
  camera: string;
  zone: string;
  zoneId: number;
  /** Capture time of the frame (epoch ms). */
  timeMs: number;
  people: number;
  smoothed: number;
  /** smoothed / capacity; NaN without a capacity. */
  occupancy: number;
  state: ZoneAlertStateCode;
}

export interface ZoneAlertEvent extends AlertTransition {
  camera: string;
  zone: string;
  timeMs: number;
  /**
   * Which clock timeMs is on: `capture`, the frame's capture time (the client's clock) for
   * everything a frame caused; `server`, the server's wall clock for a site reload, which no frame caused.
   */
  clock: 'capture' | 'server';
}

/** Who hears about zones: metrics, MQTT, JSON lines. */
export interface ZoneListener {
  reading?(report: ZoneReport): void;
  alert?(event: ZoneAlertEvent): void;
  /** A zone left the site file (reload): drop what is kept about it. */
  zoneRemoved?(camera: string, zone: string): void;
}

export interface DensityMap {
  height: number;
  width: number;
  values: Float32Array;
}

class ZoneState {
  readonly masks: MaskCache;
  ema!: TimeEma;
  alerts!: ZoneAlerts;
  lastTimeMs: number | undefined;

  /** config may be replaced by a reload that changed only the zone's position (its id), never its definition. */
  constructor(public config: ZoneConfig) {
    this.masks = new MaskCache(config.polygon);
    this.restart();
  }

  /** Smoothing and alerts from scratch (the masks stay: the polygon is the same). */
  restart(): void {
    this.ema = new TimeEma(this.config.smoothingS * 1000);
    this.alerts = new ZoneAlerts(this.config.rules);
    this.lastTimeMs = undefined;
  }
}

interface CameraState {
  config: CameraConfig;
  zones: ZoneState[];
}

export class ZoneTracker {
  private site: SiteConfig;
  private cameras = new Map<string, CameraState>();
  private readonly listeners: ZoneListener[] = [];
  private listenerErrors = 0;

  constructor(site: SiteConfig) {
    this.site = site;
    for (const [name, config] of site.cameras) this.cameras.set(name, { config, zones: config.zones.map((z) => new ZoneState(z)) });
  }

  addListener(listener: ZoneListener): void {
    this.listeners.push(listener);
  }

  camera(name: string): CameraConfig | undefined {
    return this.site.cameras.get(name);
  }

  /** The site file's input-size policy for a camera (docs/zones.md), if it sets one. */
  inputPolicy(camera: string): InputSizePolicy | undefined {
    return this.site.cameras.get(camera)?.inputPolicy;
  }

  /** The site file's share of the workers and rate caps for a camera, where it sets them. */
  senderSettings(camera: string): SenderSettings | undefined {
    return this.site.cameras.get(camera)?.sender;
  }

  /** The ZONES message for a camera (no zones when the site file does not name it). */
  describe(camera: string): ReturnType<typeof zonesMessage> {
    return zonesMessage(this.site.cameras.get(camera), camera);
  }

  get config(): SiteConfig {
    return this.site;
  }

  /**
   * A new site file. A zone whose definition is unchanged keeps its state; a
   * changed or removed one starts afresh, and if it was alerting, listeners
   * hear it return to ok (so no stale retained alarm is left behind).
   */
  replaceSite(site: SiteConfig, nowMs: number): void {
    const next = new Map<string, CameraState>();
    for (const [name, config] of site.cameras) {
      const old = this.cameras.get(name);
      // Matched by name, not position: moving or removing another zone changes ids, not this zone's state.
      const zones = config.zones.map((z) => {
        const kept = old?.zones.find((s) => s.config.name === z.name);
        if (!kept || !sameDefinition(kept.config, z) || !sameReference(old?.config, config)) return new ZoneState(z);
        kept.config = z;
        return kept;
      });
      next.set(name, { config, zones });
    }
    for (const [name, old] of this.cameras) {
      const survivors = next.get(name)?.zones ?? [];
      for (const state of old.zones) {
        if (survivors.includes(state)) continue;
        const back = state.alerts.reset();
        if (back) this.emitAlert({ ...back, rule: 'site reloaded', camera: name, zone: state.config.name, timeMs: nowMs, clock: 'server' });
        if (!site.cameras.get(name)?.zones.some((z) => z.name === state.config.name)) this.notify((l) => l.zoneRemoved?.(name, state.config.name));
      }
    }
    this.site = site;
    this.cameras = next;
  }

  /**
   * One frame's density map for a camera. Returns each zone's reading (in id
   * order), or undefined when the site file does not know the camera.
   * `frame` is the decoded frame's size; polygons without a reference size
   * are in its pixels (fallback when unknown: the map covers them 1:1).
   */
  observe(camera: string, timeMs: number, map: DensityMap, frame: Size | undefined): ZoneReading[] | undefined {
    const cam = this.cameras.get(camera);
    if (!cam) return undefined;
    const source = cam.config.reference ?? frame ?? { width: map.width, height: map.height };
    const mapSize = { width: map.width, height: map.height };
    return cam.zones.map((state) => {
      const z = state.config;
      const gap = this.resetReason(state.lastTimeMs, timeMs);
      if (gap) this.resetZone(camera, state, timeMs, gap);
      const people = maskedSum(state.masks.get(source, mapSize), map.values);
      // A frame stamped at or before the previous one (two connections of one camera, a clock step) updates
      // nothing: its own people count is reported, but the smoothing, hold clocks and alert events stay in time order.
      const inOrder = state.lastTimeMs === undefined || timeMs > state.lastTimeMs;
      const smoothed = inOrder ? state.ema.update(people, timeMs) : state.ema.current;
      const occupancy = z.capacity === undefined ? Number.NaN : smoothed / z.capacity;
      if (inOrder) {
        state.lastTimeMs = timeMs;
        const transition = state.alerts.update({ people, smoothed, occupancy }, timeMs);
        if (transition) this.emitAlert({ ...transition, camera, zone: z.name, timeMs, clock: 'capture' });
      }
      const report: ZoneReport = { camera, zone: z.name, zoneId: z.id, timeMs, people, smoothed, occupancy, state: state.alerts.state };
      this.notify((l) => l.reading?.(report));
      return { id: z.id, state: state.alerts.state, people, smoothed, occupancy };
    });
  }

  /** Why a zone starts afresh at this frame (undefined: it does not): a long gap, or capture time going back as far. */
  private resetReason(lastMs: number | undefined, timeMs: number): string | undefined {
    if (lastMs === undefined) return undefined;
    const limit = this.site.resetAfterMs;
    const seconds = (ms: number): string => (ms / 1000).toFixed(1);
    if (timeMs - lastMs > limit) return `reset: no frame for ${seconds(timeMs - lastMs)}s (reset_after_s ${limit / 1000})`;
    if (lastMs - timeMs > limit) return `reset: capture time went back ${seconds(lastMs - timeMs)}s (more than reset_after_s ${limit / 1000})`;
    return undefined;
  }

  private resetZone(camera: string, state: ZoneState, timeMs: number, reason: string): void {
    const back = state.alerts.reset();
    if (back) this.emitAlert({ ...back, rule: reason, camera, zone: state.config.name, timeMs, clock: 'capture' });
    state.restart();
  }

  private emitAlert(event: ZoneAlertEvent): void {
    this.notify((l) => l.alert?.(event));
  }

  /** Listeners run in the frame path: one that throws must not fail the frame or the connection. */
  private notify(call: (listener: ZoneListener) => void): void {
    for (const l of this.listeners) {
      try {
        call(l);
      } catch (err) {
        this.listenerErrors++;
        if (this.listenerErrors === 1) process.emitWarning(`zone listener failed: ${String(err)}`);
      }
    }
  }
}

/** Same polygon, capacity, smoothing and rules; the id (the zone's position in the file) may differ. */
function sameDefinition(a: ZoneConfig, b: ZoneConfig): boolean {
  return JSON.stringify({ ...a, id: 0 }) === JSON.stringify({ ...b, id: 0 });
}

function sameReference(a: CameraConfig | undefined, b: CameraConfig): boolean {
  return a?.reference?.width === b.reference?.width && a?.reference?.height === b.reference?.height;
}
