/**
 * crowdline's TCP server: accepts on the main thread (like Python's
 * ThreadingTCPServer, but one event loop instead of a thread per client),
 * gives each connection a Session, and shuts down without losing replies.
 */
import type { LineSource } from './session-deps.js';
import net from 'node:net';
import { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { Batcher, type BatcherObserver } from '../batcher/batcher.js';
import type { BatchRunner } from '../batcher/types.js';
import { encodeError, ErrorCode, detectProtocol } from '../framing/index.js';
import { RateLimitedLog, type RateLimitOptions } from '../log/rate-limited-log.js';
import type { LogSink } from '../log/logger.js';
import type { ModelInfo } from './adapter.js';
import type { ConnectionGate } from './gate.js';
import type { ServerCloseReason, ServerObserver } from './observer.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';
import type { ResultTap } from './result-tap.js';
import { RateCaps } from './rate-caps.js';
import { AddressCounts, addressKey, plainAddress } from '../common/address-key.js';
import { Session } from './session.js';
import type { FrameScreen, ZoneSource } from './session-deps.js';

export interface CrowdServerDeps {
  runner: BatchRunner;
  model: () => ModelInfo;
  options?: Partial<ServerOptions>;
  batching?: { maxBatch: number; maxDelayMs: number };
  observer?: ServerObserver & BatcherObserver;
  log?: LogSink;
  /** Per-kind log budget, so a flood of bad peers cannot flood the log. */
  logRateLimit?: RateLimitOptions;
  gate?: ConnectionGate;
  /** Refuses a frame before it is queued (a JPEG whose header already condemns it); see SessionDeps.screen. */
  screen?: FrameScreen;
  /** Sees each accepted socket first (TLS detection, src/tls) and hands on the stream to serve. */
  route?: (socket: net.Socket, adopt: (stream: net.Socket) => void) => void;
  /** Zones from the site file (src/zones); see SessionDeps.zones. */
  zones?: ZoneSource;
  /** Counting lines from the site file (src/lines); see SessionDeps.lines. */
  lines?: LineSource;
  /** Sees answered frames after their replies (the console); see SessionDeps.tap. */
  tap?: ResultTap;
  /** The rate caps' clock in ms (tests move it; default performance.now). */
  rateClock?: () => number;
}

/** Addresses remembered as having completed a handshake (least recent forgotten first). */
const KNOWN_GOOD_ADDRESSES = 4096;
const KNOWN_GOOD_FOR_MS = 60 * 60_000;

/** Deadlines are checked this often at most (and at least every 1 s). */
const MIN_CHECK_INTERVAL_MS = 10;
const MAX_CHECK_INTERVAL_MS = 1_000;

/** A peer's address as logs name it (an IPv4 peer may show up as ::ffff:a.b.c.d). */
function peerAddress(address: string | undefined): string {
  return address ? plainAddress(address) : '?';
}

export class CrowdServer {
  readonly options: ServerOptions;
  readonly batcher: Batcher;
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  /** Connections per address key (IPv6: per /64; src/common/address-key.ts), as every per-address limit counts. */
  private readonly perAddress = new AddressCounts();
  /** Accepted sockets not yet closed (sessions, and TLS handshakes in progress). */
  private open = 0;
  private readonly log: RateLimitedLog;
  private readonly observer: ServerObserver & BatcherObserver;
  private readonly deadlineTimer: NodeJS.Timeout;
  /** Sockets before their session (TLS detection or handshake), by address; settle() ends one's hold. */
  private handshaking = 0;
  private readonly handshakingPerAddress = new AddressCounts();
  private readonly settlers = new Map<string, () => void>();
  /** Address keys whose connection got through a handshake lately -> when (Map order: least recent first). */
  private readonly knownGood = new Map<string, number>();
  /** Refused sockets still being told why (bounded: beyond maxConnections they are just closed). */
  private refusing = 0;
  private closing: Promise<void> | undefined;
  /** Frame-rate and pixel-rate buckets per sender. */
  readonly rateCaps: RateCaps;

  constructor(private readonly deps: CrowdServerDeps) {
    this.options = { ...DEFAULT_SERVER_OPTIONS, ...deps.options };
    this.log = new RateLimitedLog(deps.log ?? ((line) => process.stderr.write(line + '\n')), deps.logRateLimit);
    this.observer = deps.observer ?? {};
    this.batcher = new Batcher(
      deps.runner,
      {
        maxBatch: 1,
        maxDelayMs: 0,
        ...deps.batching,
        maxQueue: this.options.maxQueue,
        maxQueueBytes: this.options.maxQueueBytes,
        maxFlowQueueBytes: this.options.maxConnectionQueueBytes,
        lowerClassShare: this.options.lowerClassShare,
        longFrameMs: this.options.longFrameMs,
      },
      this.observer,
    );
    const o = this.options;
    // Always: with every server cap off, a site file's camera entry may still set caps.
    this.rateCaps = new RateCaps({ burstMs: o.rateBurstMs, now: deps.rateClock });
    this.batcher.onRoom(() => {
      for (const session of this.sessions) session.resume();
    });
    // allowHalfOpen: a client may end its side and still receive its replies.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => this.log.write('server-error', `server error: ${err.message}`, { level: 'error' }));
    const shortest = Math.min(o.handshakeTimeoutMs, o.frameTimeoutMs, o.idleTimeoutMs, o.outputBufferSoftMs);
    const interval = Math.min(MAX_CHECK_INTERVAL_MS, Math.max(MIN_CHECK_INTERVAL_MS, Math.floor(shortest / 4)));
    this.deadlineTimer = setInterval(() => {
      const now = performance.timeOrigin + performance.now();
      for (const session of this.sessions) session.checkDeadlines(now);
    }, interval);
    this.deadlineTimer.unref();
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
    // Reset before we accepted it: it has no address and no one to answer.
    // Counting it under a shared key would charge every such peer to one
    // address, and one flood would lock out the others.
    if (socket.remoteAddress === undefined) {
      this.observer.connectionEnded?.('reset-before-accept');
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress;
    const fromAddress = this.perAddress.count(address);
    if (this.closing) {
      this.refuse(socket, 'refused-shutting-down', ErrorCode.ShuttingDown, 'server is shutting down');
      return;
    }
    // Limits count raw connections, so ones still in a TLS handshake count too.
    if (this.open >= this.options.maxConnections) {
      this.refuse(socket, 'refused-server-full', ErrorCode.ServerFull, `server is full (${this.options.maxConnections} connections)`);
      return;
    }
    if (fromAddress >= this.options.maxConnectionsPerIp) {
      this.refuse(
        socket,
        'refused-per-ip',
        ErrorCode.ServerFull,
        `too many connections from your address (${this.options.maxConnectionsPerIp} allowed per address)`,
      );
      return;
    }
    if (this.deps.route && !this.takeHandshakeSlot(socket, address)) return;
    this.open++;
    this.perAddress.add(address);
    socket.once('close', () => {
      this.open--;
      this.perAddress.remove(address);
    });
    if (this.deps.route) this.deps.route(socket, (stream) => this.adopt(stream));
    else this.adopt(socket);
  }

  /**
   * Before its session a connection holds a handshake slot (bounded in all
   * and per address; strangers may not take the quarter kept for addresses
   * that completed a handshake lately). False: refused, socket destroyed.
   */
  private takeHandshakeSlot(socket: net.Socket, address: string): boolean {
    const o = this.options;
    const fromAddress = this.handshakingPerAddress.count(address);
    const seen = this.knownGood.get(addressKey(address));
    const known = seen !== undefined && performance.timeOrigin + performance.now() - seen < KNOWN_GOOD_FOR_MS;
    const limit = known ? o.maxHandshakes : o.maxHandshakes - Math.floor(o.maxHandshakes / 4);
    if (fromAddress >= o.maxHandshakesPerIp || this.handshaking >= limit) {
      this.observer.connectionEnded?.('refused-handshakes');
      this.log.write(
        'refused-handshakes',
        `${peerAddress(address)}:${socket.remotePort ?? '?'}: refused: too many connections in their handshake (${fromAddress} from this address, ${this.handshaking} in all)`,
        { address: peerAddress(address) },
      );
      socket.on('error', () => undefined);
      socket.destroy();
      return false;
    }
    this.handshaking++;
    this.handshakingPerAddress.add(address);
    // The peer's own address and port, not its key: two hosts of one /64 may use the same port.
    const key = `${address}:${socket.remotePort ?? '?'}`;
    let held = true;
    const settle = (): void => {
      if (!held) return;
      held = false;
      this.settlers.delete(key);
      this.handshaking--;
      this.handshakingPerAddress.remove(address);
    };
    this.settlers.set(key, settle);
    socket.once('close', settle);
    return true;
  }

  /** A connection got through its handshake: its slot is free, and its address is known-good for a while. */
  private handshakeDone(socket: net.Socket): void {
    const settle = this.settlers.get(`${socket.remoteAddress}:${socket.remotePort ?? '?'}`);
    if (!settle || socket.remoteAddress === undefined) return;
    settle();
    if (!(socket instanceof TLSSocket)) return; // only a completed TLS handshake vouches for an address
    const key = addressKey(socket.remoteAddress);
    this.knownGood.delete(key);
    this.knownGood.set(key, performance.timeOrigin + performance.now());
    if (this.knownGood.size > KNOWN_GOOD_ADDRESSES) this.knownGood.delete(this.knownGood.keys().next().value as string);
  }

  /** Serves a connection (plain, or TLS once its handshake is done). */
  adopt(socket: net.Socket): void {
    this.handshakeDone(socket);
    if (this.closing) {
      socket.destroy();
      return;
    }
    const session = new Session(socket, {
      batcher: this.batcher,
      options: this.options,
      model: this.deps.model,
      observer: this.observer,
      log: this.log,
      address: `${peerAddress(socket.remoteAddress)}:${socket.remotePort ?? '?'}`,
      host: peerAddress(socket.remoteAddress),
      rateCaps: this.rateCaps,
      gate: this.deps.gate,
      screen: this.deps.screen,
      zones: this.deps.zones,
      lines: this.deps.lines,
      tap: this.deps.tap,
    });
    this.sessions.add(session);
    const aged = this.ageLimit(session);
    void session.closed.then(() => {
      clearTimeout(aged);
      this.sessions.delete(session);
    });
  }

  /** --max-connection-age-ms: a graceful close after the (jittered) age, so cameras spread over servers added since. */
  private ageLimit(session: Session): NodeJS.Timeout | undefined {
    const age = this.options.maxConnectionAgeMs;
    if (age <= 0) return undefined;
    const timer = setTimeout(
      () => {
        this.observer.connectionEnded?.('max-age');
        session.shutdown('connection reached its maximum age; reconnect');
      },
      age * (0.9 + 0.2 * Math.random()),
    );
    timer.unref();
    return timer;
  }

  /** Over a limit: v1 clients get an ERROR saying why; legacy ones just a close. */
  private refuse(socket: net.Socket, why: ServerCloseReason, code: typeof ErrorCode.ServerFull | typeof ErrorCode.ShuttingDown, reason: string): void {
    this.observer.connectionEnded?.(why);
    const peer = `${peerAddress(socket.remoteAddress)}:${socket.remotePort ?? '?'}`;
    this.log.write(why, `${peer}: refused: ${reason}`, { address: peer });
    socket.on('error', () => undefined);
    if (this.refusing >= this.options.maxConnections) {
      socket.destroy(); // a connection flood: no time to explain to each
      return;
    }
    this.refusing++;
    socket.once('close', () => this.refusing--);
    socket.setTimeout(2_000, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      if (detectProtocol(chunk[0]) === 'v1') socket.end(encodeError({ code, reason }));
      else socket.destroy();
    });
  }

  /**
   * The site file changed: clients that asked for zones (lines) get the new
   * ZONES (LINES) before their next RESULT, and every connection the share
   * and caps its camera's entry now gives it, from its next frame.
   */
  zonesChanged(): void {
    for (const session of this.sessions) {
      session.siteChanged();
      session.sendZones();
      session.sendLines();
    }
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
        this.log.write('shutdown', `shutdown: ${this.sessions.size} connection(s) still busy after ${this.options.shutdownGraceMs} ms; dropping them`);
        for (const session of this.sessions) session.destroy();
      }
      clearTimeout(timer);
      await stopped;
      clearInterval(this.deadlineTimer);
      this.log.flush();
    })();
    return this.closing;
  }
}
