/**
 * crowdline's TCP server: accepts on the main thread (like Python's
 * ThreadingTCPServer, but one event loop instead of a thread per client),
 * gives each connection a Session, and shuts down without losing replies.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Batcher, type BatcherObserver } from '../batcher/batcher.js';
import type { BatchRunner } from '../batcher/types.js';
import { encodeError, ErrorCode, detectProtocol } from '../framing/index.js';
import type { ModelInfo } from './adapter.js';
import type { ConnectionGate } from './gate.js';
import type { ServerObserver } from './observer.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';
import { Session } from './session.js';

export interface CrowdServerDeps {
  runner: BatchRunner;
  model: () => ModelInfo;
  options?: Partial<ServerOptions>;
  batching?: { maxBatch: number; maxDelayMs: number };
  observer?: ServerObserver & BatcherObserver;
  log?: (line: string) => void;
  gate?: ConnectionGate;
  /** Sees each accepted socket first (TLS detection, src/tls) and hands on the stream to serve. */
  route?: (socket: net.Socket, adopt: (stream: net.Socket) => void) => void;
}

export class CrowdServer {
  readonly options: ServerOptions;
  readonly batcher: Batcher;
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private readonly log: (line: string) => void;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: CrowdServerDeps) {
    this.options = { ...DEFAULT_SERVER_OPTIONS, ...deps.options };
    this.log = deps.log ?? ((line) => process.stderr.write(line + '\n'));
    const observer = deps.observer ?? {};
    this.batcher = new Batcher(deps.runner, { maxBatch: 1, maxDelayMs: 0, ...deps.batching, maxQueue: this.options.maxQueue }, observer);
    this.batcher.onRoom(() => {
      for (const session of this.sessions) session.resume();
    });
    // allowHalfOpen: a client may end its side and still receive its replies.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => this.log(`server error: ${err.message}`));
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closing || this.sessions.size >= this.options.maxConnections) {
      this.refuse(socket, this.closing ? 'server is shutting down' : `server is full (${this.options.maxConnections} connections)`);
      return;
    }
    if (this.deps.route) this.deps.route(socket, (stream) => this.adopt(stream));
    else this.adopt(socket);
  }

  /** Serves a connection (plain, or TLS once its handshake is done). */
  adopt(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const session = new Session(socket, {
      batcher: this.batcher,
      options: this.options,
      model: this.deps.model,
      observer: this.deps.observer ?? {},
      log: this.log,
      gate: this.deps.gate,
    });
    this.sessions.add(session);
    void session.closed.then(() => this.sessions.delete(session));
  }

  /** Over the limit: v1 clients get an ERROR saying why; legacy ones just a close. */
  private refuse(socket: net.Socket, reason: string): void {
    socket.on('error', () => undefined);
    socket.setTimeout(2_000, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      if (detectProtocol(chunk[0]) === 'v1') {
        const code = this.closing ? ErrorCode.ShuttingDown : ErrorCode.ServerFull;
        socket.end(encodeError({ code, reason }));
      } else {
        socket.destroy();
      }
    });
  }

  /**
   * Stop accepting, let every session answer the frames it accepted, then
   * resolve. Sessions still busy after shutdownGraceMs are dropped.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const session of this.sessions) session.shutdown();
      const all = Promise.all([...this.sessions].map((s) => s.closed));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.options.shutdownGraceMs);
      });
      if ((await Promise.race([all, grace])) === 'timeout') {
        this.log(`shutdown: ${this.sessions.size} connection(s) still busy after ${this.options.shutdownGraceMs} ms; dropping them`);
        for (const session of this.sessions) session.destroy();
      }
      clearTimeout(timer);
      await stopped;
    })();
    return this.closing;
  }
}
