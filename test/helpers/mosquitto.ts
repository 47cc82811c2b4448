/** A real Mosquitto broker on 127.0.0.1 for tests: own config, own port, persistence in a temp dir. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export function haveMosquitto(): boolean {
  return existsSync(MOSQUITTO);
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private readonly config: string;
  private readonly store: string;

  constructor(
    readonly port: number,
    dir: string,
  ) {
    this.config = path.join(dir, 'mosquitto.conf');
    // Persistence so retained messages and sessions survive a restart, as on a real deployment. Started as
    // root, mosquitto drops to its own user, which must be able to reach and write there (mkdtemp makes 0700 dirs).
    const store = mkdtempSync(path.join(os.tmpdir(), 'crowdline-mosquitto-'));
    chmodSync(store, 0o777);
    this.store = store;
    writeFileSync(
      this.config,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${store}/`, 'log_dest none', ''].join('\n'),
    );
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(MOSQUITTO, ['-c', this.config], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not listen on ${this.port} within 10 s`);
  }

  /** SIGTERM and wait for exit (it writes its persistence file on the way out). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops the broker and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.store, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscriber that records every message, and can wait for one that matches. */
export class Subscriber {
  readonly received: Received[] = [];
  private readonly client: MqttClient;
  private waiters: Array<() => void> = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      this.received.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /** With a clientId, a persistent session: the broker keeps QoS 1 messages for it while it is away. */
  static async connect(url: string, topic: string, clientId?: string): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, clean: clientId === undefined, clientId });
    const sub = new Subscriber(client);
    // Re-subscribed by the client after a broker restart (resubscribe is on by default).
    await client.subscribeAsync(topic, { qos: 1 });
    return sub;
  }

  async waitFor(predicate: (m: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.received.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}
