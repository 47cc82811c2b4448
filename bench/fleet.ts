/**
 * N `crowdline serve` children behind one HAProxy on 127.0.0.1: what the
 * scale-out test and bench stand up (docs/deploy.md shows the same on N boxes).
 */
import { freePort, startChildServer, type ChildServer, type ChildServerOptions } from './server-process.js';
import { renderHaproxyConfig, startHaproxy, waitForServers, type RunningHaproxy } from './haproxy.js';
import { scrape } from './scrape.js';

export interface Fleet {
  servers: ChildServer[];
  /** HAProxy's server name for servers[i]. */
  names: string[];
  haproxy: RunningHaproxy;
  /** Where cameras connect (HAProxy's frontend). */
  port: number;
  statsPort: number;
  /** Stops HAProxy and every server still running. */
  stop(): Promise<void>;
}

export async function startFleet(count: number, server: ChildServerOptions): Promise<Fleet> {
  const servers: ChildServer[] = [];
  const stopServers = () => Promise.all(servers.map((s) => s.stop()));
  try {
    // One at a time: loading models side by side on a small machine only makes each start slower.
    for (let i = 0; i < count; i++) servers.push(await startChildServer(server));
    const [port, statsPort] = [await freePort(), await freePort()];
    const names = servers.map((_, i) => `crowdline${i + 1}`);
    const config = renderHaproxyConfig({
      bind: `127.0.0.1:${port}`,
      statsBind: `127.0.0.1:${statsPort}`,
      backends: servers.map((s, i) => ({ name: names[i], host: s.host, port: s.port, metricsPort: s.metricsPort })),
    });
    const haproxy = await startHaproxy(config, port);
    await waitForServers(statsPort, 'UP', names).catch(async (err: Error) => {
      await haproxy.stop();
      throw err;
    });
    return {
      servers,
      names,
      haproxy,
      port,
      statsPort,
      stop: async () => {
        await haproxy.stop();
        await stopServers();
      },
    };
  } catch (err) {
    await stopServers();
    throw err;
  }
}

/** Frames a server has answered ok so far (undefined once it no longer answers). */
export async function framesOk(server: ChildServer): Promise<number | undefined> {
  try {
    return (await scrape(server.metricsUrl)).get('crowdline_frames_answered_total{status="ok"}') ?? 0;
  } catch {
    return undefined;
  }
}
