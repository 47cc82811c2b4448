/**
 * Composition of the zone features for a server: site file -> tracker ->
 * listeners (metrics, MQTT, JSON lines). Loaded before anything listens, so a
 * bad site file or password file fails the start at once; on reload a bad
 * file keeps the previous one.
 */
import os from 'node:os';
import type { Registry } from 'prom-client';
import { JsonLinesSink } from '../events/jsonl-sink.js';
import { DEFAULT_MQTT_MAX_QUEUED_ALERTS, DEFAULT_MQTT_TOPIC_PREFIX, DEFAULT_ZONE_PUBLISH_INTERVAL_MS } from '../events/defaults.js';
import { MqttSink } from '../events/mqtt-sink.js';
import { ZoneEventFanout, type EventSink } from '../events/zone-events.js';
import { ZoneMetrics } from '../metrics/zone-metrics.js';
import { loadSiteFile, type SiteConfig } from '../zones/site-file.js';
import { LineEventFanout } from '../lines/line-events.js';
import { LineMetrics } from '../lines/line-metrics.js';
import { LineTracker, type MotionRunner } from '../lines/line-tracker.js';
import { runMotionJob } from '../lines/motion-job.js';
import { ZoneResidual } from '../lines/zone-residual.js';
import { readZoneFiles, type ZoneFiles } from './server-files.js';
import { ZoneTracker } from '../zones/zone-tracker.js';

export interface ZoneEventOptions {
  /** Counts per zone are published at most this often (alert transitions always). */
  countIntervalMs?: number;
  mqtt?: {
    url: string;
    topicPrefix?: string;
    clientId?: string;
    username?: string;
    /** File holding the password (so it is not on the command line). */
    passwordFile?: string;
    caFile?: string;
    maxQueuedAlerts?: number;
    reconnectMs?: number;
  };
  /** JSON lines of zone events to this file, or '-' for stdout. */
  eventsFile?: string;
}

export interface ZoneSetup {
  tracker: ZoneTracker;
  /** Counting lines (src/lines), measured on the workers through `motion`. */
  lines: LineTracker;
  /** Re-reads the site file; resolves to a log line. A bad file keeps the previous site (the line says why). */
  reload(): Promise<{ changed: boolean; line: string }>;
  close(): Promise<void>;
}

/** `files`: the site file and MQTT files as read at start (src/app/server-files.ts); read here when not given. */
export async function setUpZones(
  sitePath: string,
  events: ZoneEventOptions,
  deps: { log: (line: string) => void; registry?: Registry; motion?: MotionRunner },
  files?: ZoneFiles,
): Promise<ZoneSetup> {
  const { site, mqttPassword, mqttCa } = files ?? (await readZoneFiles(sitePath, events));
  const tracker = new ZoneTracker(site);
  // The server measures motion on its workers; without them (tests, tools) on this thread.
  const lines = new LineTracker(site.cameras.values(), deps.motion ?? (async (job) => runMotionJob(job)));
  let residual: ZoneResidual | undefined;
  if (deps.registry) {
    const lineMetrics = new LineMetrics(deps.registry);
    lines.addListener(lineMetrics);
    // Zones closed by lines: their count's change against the lines' net flow (crowdline_line_zone_residual).
    residual = new ZoneResidual(site, lineMetrics);
    tracker.addListener(residual.zones);
    lines.addListener(residual.lines);
  }
  const sinks: EventSink[] = [];
  let mqttSink: MqttSink | undefined;
  const metrics = deps.registry ? new ZoneMetrics(deps.registry, events.mqtt ? () => mqttSink?.queuedAlerts ?? 0 : undefined) : undefined;
  if (events.mqtt) {
    const m = events.mqtt;
    mqttSink = new MqttSink({
      url: m.url,
      topicPrefix: m.topicPrefix ?? DEFAULT_MQTT_TOPIC_PREFIX,
      clientId: m.clientId ?? `crowdline-${os.hostname()}`,
      username: m.username,
      password: mqttPassword,
      ca: mqttCa,
      maxQueuedAlerts: m.maxQueuedAlerts ?? DEFAULT_MQTT_MAX_QUEUED_ALERTS,
      reconnectMs: m.reconnectMs,
      log: deps.log,
      counters: metrics,
    });
    sinks.push(mqttSink);
  }
  if (events.eventsFile) sinks.push(new JsonLinesSink(events.eventsFile, metrics));
  const fanout = sinks.length > 0 ? new ZoneEventFanout(sinks, events.countIntervalMs ?? DEFAULT_ZONE_PUBLISH_INTERVAL_MS) : undefined;
  if (metrics) tracker.addListener(metrics);
  if (fanout) tracker.addListener(fanout);
  if (sinks.length > 0) lines.addListener(new LineEventFanout(sinks, events.countIntervalMs ?? DEFAULT_ZONE_PUBLISH_INTERVAL_MS));
  deps.log(`zones: ${describeSite(site)} from ${sitePath}`);
  let closing: Promise<void> | undefined;
  return {
    tracker,
    lines,
    async reload() {
      let next: SiteConfig;
      try {
        next = await loadSiteFile(sitePath);
      } catch (err) {
        return { changed: false, line: `site file NOT reloaded, keeping the previous zones: ${(err as Error).message}` };
      }
      tracker.replaceSite(next, Date.now());
      lines.replaceSite(next.cameras.values());
      residual?.replaceSite(next);
      return { changed: true, line: `site file reloaded (${describeSite(next)})` };
    },
    close() {
      closing ??= fanout ? fanout.close() : Promise.resolve();
      return closing;
    },
  };
}

function describeSite(site: SiteConfig): string {
  let zones = 0;
  let lines = 0;
  for (const cam of site.cameras.values()) {
    zones += cam.zones.length;
    lines += cam.lines.length;
  }
  return `${site.cameras.size} camera(s), ${zones} zone(s), ${lines} line(s)`;
}
