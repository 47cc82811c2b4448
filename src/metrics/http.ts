/**
 * The metrics endpoint (node:http): /metrics for Prometheus, /healthz (the
 * process is up) and /readyz (every worker has loaded the model, and the
 * server is not draining).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { AddressCounts } from '../common/address-key.js';

export interface MetricsHttpOptions {
  host: string;
  port: number;
  registry: Registry;
  isReady(): boolean;
  /** The body of a 503 from /readyz (default "model loading"). */
  unreadyReason?(): string;
  limits?: Partial<MetricsHttpLimits>;
}

/**
 * The endpoint is for a scraper and probes, not for the world: a handful of
 * connections, small headers, and requests that must arrive quickly, so a
 * slowloris on this port cannot hold sockets or memory (docs/reliability.md).
 * Probes must never starve: one address holds a few connections at most, and
 * when every slot is taken a new connection displaces the one idle longest
 * (a keep-alive between requests, or one still trickling its headers), so a
 * load balancer's or kubelet's probe always gets in.
 */
export interface MetricsHttpLimits {
  maxConnections: number;
  /** Connections one client address may hold (IPv6: one /64). */
  maxConnectionsPerIp: number;
  /** Whole request headers must arrive within this (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** The whole request (Node's requestTimeout). */
  requestTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

export const DEFAULT_METRICS_HTTP_LIMITS: MetricsHttpLimits = {
  maxConnections: 16,
  maxConnectionsPerIp: 4,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 8 * 1024,
};

export interface MetricsHttp {
  address: AddressInfo;
  close(): Promise<void>;
}

function route(options: MetricsHttpOptions, req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
  } else if (path === '/metrics') {
    options.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  } else if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  } else if (path === '/readyz') {
    const ready = options.isReady();
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : `${options.unreadyReason?.() ?? 'model loading'}\n`);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics, /healthz or /readyz\n');
  }
}

export async function startMetricsHttp(options: MetricsHttpOptions): Promise<MetricsHttp> {
  const limits = { ...DEFAULT_METRICS_HTTP_LIMITS, ...options.limits };
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above (its default is 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      const slot = slots.get(req.socket);
      if (slot) slot.busy = true;
      res.once('finish', () => {
        if (!slot) return;
        slot.busy = false;
        slot.lastActive = performance.now();
      });
      route(options, req, res);
    },
  );
  const slots = new Map<Socket, { address: string; busy: boolean; lastActive: number }>();
  // Per address key (IPv6: per /64), as every per-address limit.
  const perAddress = new AddressCounts();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    const from = address === undefined ? 0 : perAddress.count(address);
    if (address === undefined || from >= limits.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    if (slots.size >= limits.maxConnections) {
      // Full: the connection idle longest (not inside a request) makes room.
      let oldest: [Socket, number] | undefined;
      for (const [s, slot] of slots) if (!slot.busy && (!oldest || slot.lastActive < oldest[1])) oldest = [s, slot.lastActive];
      if (!oldest) {
        socket.destroy();
        return;
      }
      release(oldest[0]);
      oldest[0].destroy();
    }
    slots.set(socket, { address, busy: false, lastActive: performance.now() });
    perAddress.add(address);
    socket.once('close', () => release(socket));
  });
  function release(socket: Socket): void {
    const slot = slots.get(socket);
    if (!slot) return;
    slots.delete(socket);
    perAddress.remove(slot.address);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
