/**
 * Zone events to an MQTT broker (the `mqtt` client; Frigate-style topics):
 *
 *   <prefix>/<camera>/<zone>/count   retained, QoS 0: latest count
 *   <prefix>/<camera>/<zone>/alert   retained, QoS 1: latest alert transition
 *   <prefix>/server/<id>/status      retained "online"/"offline" (Last Will: "offline")
 *
 * The broker is never in the frame path: counts are dropped (and counted)
 * while it is away, since the next one replaces them anyway; alert
 * transitions wait in a bounded queue (oldest dropped first, counted) and
 * are sent in order once the client reconnects. Nothing is handed to the
 * mqtt client while it is offline, so its own unbounded offline queue stays
 * empty.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { AlertPayload, CountPayload, CrossingsPayload, EventCounters, EventSink } from './zone-events.js';

export interface MqttSinkOptions {
  url: string;
  topicPrefix: string;
  clientId: string;
  username?: string;
  password?: string;
  /** CA certificate(s) for mqtts:// brokers with a private CA. */
  ca?: Buffer;
  /** Alert transitions kept while the broker is away. */
  maxQueuedAlerts: number;
  /** Wait between reconnect attempts. */
  reconnectMs?: number;
  log: (line: string) => void;
  counters?: EventCounters;
}

export class MqttSink implements EventSink {
  readonly name = 'mqtt';
  private readonly client: MqttClient;
  private readonly queue: AlertPayload[] = [];
  private readonly statusTopic: string;
  private wasConnected = false;
  /** The current outage has been logged (one line per outage, not one per reconnect attempt). */
  private outageLogged = false;
  private closing = false;

  constructor(private readonly o: MqttSinkOptions) {
    this.statusTopic = `${o.topicPrefix}/server/${o.clientId}/status`;
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      ca: o.ca,
      clean: true,
      reconnectPeriod: o.reconnectMs ?? 1000,
      connectTimeout: 5000,
      queueQoSZero: false,
      will: { topic: this.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    this.client = mqtt.connect(o.url, options);
    this.client.on('connect', () => this.onConnect());
    this.client.on('close', () => {
      if (this.wasConnected && !this.closing) this.outage('lost the connection');
      this.wasConnected = false;
    });
    // A wrong URL or password shows at once; after that, one line per outage rather than one per attempt.
    this.client.on('error', (err) => this.outage(err.message));
    this.client.on('offline', () => this.outage('not reachable'));
  }

  get queuedAlerts(): number {
    return this.queue.length;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  private outage(why: string): void {
    if (this.outageLogged || this.closing) return;
    this.outageLogged = true;
    this.o.log(
      `mqtt: broker ${this.o.url}: ${why}; retrying every ${this.o.reconnectMs ?? 1000} ms (serving goes on; up to ${this.o.maxQueuedAlerts} alert events are kept)`,
    );
  }

  private onConnect(): void {
    this.wasConnected = true;
    this.outageLogged = false;
    this.o.log(`mqtt: connected to ${this.o.url} as ${this.o.clientId}`);
    this.client.publish(this.statusTopic, 'online', { qos: 1, retain: true });
    this.flush();
  }

  /** A line's totals: retained, QoS 0 like counts (cumulative, so the latest says everything). */
  crossings(payload: CrossingsPayload): void {
    if (!this.client.connected) {
      this.o.counters?.dropped(this.name, 'crossings', 'broker-away');
      return;
    }
    this.client.publish(this.topic(payload.camera, payload.line, 'crossings'), JSON.stringify(payload), { qos: 0, retain: true });
    this.o.counters?.published(this.name, 'crossings');
  }

  private topic(camera: string, zone: string, leaf: 'count' | 'alert' | 'crossings'): string {
    return `${this.o.topicPrefix}/${camera}/${zone}/${leaf}`;
  }

  count(payload: CountPayload): void {
    if (!this.client.connected) {
      this.o.counters?.dropped(this.name, 'count', 'broker-away');
      return;
    }
    this.client.publish(this.topic(payload.camera, payload.zone, 'count'), JSON.stringify(payload), { qos: 0, retain: true });
    this.o.counters?.published(this.name, 'count');
  }

  alert(payload: AlertPayload): void {
    this.queue.push(payload);
    if (this.queue.length > this.o.maxQueuedAlerts) {
      this.queue.shift();
      this.o.counters?.dropped(this.name, 'alert', 'queue-full');
    }
    this.flush();
  }

  private flush(): void {
    while (this.client.connected && this.queue.length > 0) {
      const payload = this.queue.shift() as AlertPayload;
      this.client.publish(this.topic(payload.camera, payload.zone, 'alert'), JSON.stringify(payload), { qos: 1, retain: true });
      this.o.counters?.published(this.name, 'alert');
    }
  }

  /** Says "offline" (retained) when connected, then disconnects; alerts still queued are lost, and were counted as queued. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.client.connected) {
      await this.client.publishAsync(this.statusTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
    }
    // A graceful end lets acknowledged-pending alerts finish; an absent broker must not hold up shutdown.
    const graceful = this.client.endAsync(false).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([graceful.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 2000)))]);
    clearTimeout(timer);
    if (late) await this.client.endAsync(true).catch(() => undefined);
  }
}
