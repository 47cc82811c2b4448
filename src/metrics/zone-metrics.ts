/**
 * Prometheus metrics for zones and zone events, registered on the server's
 * registry. Label sets come from the site file (camera and zone names), never
 * from clients, so they are bounded by it; a zone removed by a reload loses
 * its series.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { sampledGauge } from './sampled-gauge.js';
import type { EventCounters, EventKind } from '../events/zone-events.js';
import type { ZoneAlertEvent, ZoneListener, ZoneReport } from '../zones/zone-tracker.js';

export class ZoneMetrics implements ZoneListener, EventCounters {
  private readonly people: Gauge<'camera' | 'zone'>;
  private readonly smoothed: Gauge<'camera' | 'zone'>;
  private readonly occupancy: Gauge<'camera' | 'zone'>;
  private readonly alertState: Gauge<'camera' | 'zone'>;
  private readonly transitions: Counter<'camera' | 'zone' | 'state'>;
  private readonly eventsPublished: Counter<'sink' | 'kind'>;
  private readonly eventsDropped: Counter<'sink' | 'kind' | 'reason'>;

  constructor(registry: Registry, queuedAlerts?: () => number) {
    const registers = [registry];
    this.people = new Gauge({
      name: 'crowdline_zone_people',
      help: 'People in the zone in the latest frame (density summed over the polygon)',
      labelNames: ['camera', 'zone'] as const,
      registers,
    });
    this.smoothed = new Gauge({
      name: 'crowdline_zone_people_smoothed',
      help: "People in the zone, exponential moving average over the zone's time constant",
      labelNames: ['camera', 'zone'] as const,
      registers,
    });
    this.occupancy = new Gauge({
      name: 'crowdline_zone_occupancy_ratio',
      help: 'Smoothed people / capacity (zones with a capacity only)',
      labelNames: ['camera', 'zone'] as const,
      registers,
    });
    this.alertState = new Gauge({
      name: 'crowdline_zone_alert_state',
      help: 'Alert state of the zone: 0 ok, 1 warning, 2 alarm',
      labelNames: ['camera', 'zone'] as const,
      registers,
    });
    this.transitions = new Counter({
      name: 'crowdline_zone_alert_transitions_total',
      help: 'Alert state changes, by the state entered',
      labelNames: ['camera', 'zone', 'state'] as const,
      registers,
    });
    this.eventsPublished = new Counter({
      name: 'crowdline_zone_events_published_total',
      help: 'Zone events handed to a sink (mqtt, jsonl), by kind (count, alert)',
      labelNames: ['sink', 'kind'] as const,
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'crowdline_zone_events_dropped_total',
      help: 'Zone events not delivered, by sink, kind and reason (broker-away: counts while the broker is away; queue-full: oldest queued alert dropped; backlog: output not keeping up)',
      labelNames: ['sink', 'kind', 'reason'] as const,
      registers,
    });
    if (queuedAlerts) sampledGauge(registry, 'crowdline_zone_alerts_queued', 'Alert events waiting for the MQTT broker', queuedAlerts);
  }

  reading(r: ZoneReport): void {
    const labels = { camera: r.camera, zone: r.zone };
    this.people.set(labels, r.people);
    this.smoothed.set(labels, r.smoothed);
    if (Number.isFinite(r.occupancy)) this.occupancy.set(labels, r.occupancy);
    this.alertState.set(labels, r.state);
  }

  alert(e: ZoneAlertEvent): void {
    this.alertState.set({ camera: e.camera, zone: e.zone }, e.state);
    this.transitions.inc({ camera: e.camera, zone: e.zone, state: ['ok', 'warning', 'alarm'][e.state] });
  }

  zoneRemoved(camera: string, zone: string): void {
    const labels = { camera, zone };
    for (const g of [this.people, this.smoothed, this.occupancy, this.alertState]) g.remove(labels);
  }

  published(sink: string, kind: EventKind): void {
    this.eventsPublished.inc({ sink, kind });
  }

  dropped(sink: string, kind: EventKind, reason: string): void {
    this.eventsDropped.inc({ sink, kind, reason });
  }
}
