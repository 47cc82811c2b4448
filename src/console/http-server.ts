/**
 * The console's HTTP(S) listener: security headers on every answer, the
 * same request limits as the metrics port, the route table, and the
 * WebSocket upgrade for viewers. Who may do what is decided here once, from
 * each route's `access`: a handler only runs for a caller allowed to.
 *
 * Without --auth every caller is the local operator (admin) and the listener
 * stays on loopback; the Host header must then name a loopback address, so
 * a web page that rebinds its DNS name to 127.0.0.1 cannot read it. Requests
 * that change something, and WebSocket upgrades, must come from the
 * console's own origin (the Origin header), whatever the cookie says.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenIdentities } from '../auth/security.js';
import type { FailureThrottle } from '../auth/throttle.js';
import type { LogSink } from '../log/logger.js';
import { peerText } from '../log/peer-text.js';
import { readTlsFiles, type TlsFiles } from '../tls/tls-front.js';
import type { ConsoleHub } from './hub.js';
import { isLoopbackHost, type ConsoleSettings } from './options.js';
import { buildPage, type Page } from './page.js';
import { HttpError, Router, type RequestContext } from './router.js';
import { sessionIdFrom, SessionStore, type ConsoleUser } from './sessions.js';
import type { StaticFiles } from './static-files.js';
import { Viewer } from './viewer.js';

export interface ConsoleHttpOptions {
  settings: ConsoleSettings;
  hub: ConsoleHub;
  files: StaticFiles;
  /** With --auth: who may sign in. Absent: no sign-in, everyone is the local operator. */
  tokens?: TokenIdentities;
  tls?: TlsFiles;
  log: LogSink;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOCAL_OPERATOR: ConsoleUser = { name: null, role: 'admin' };

function baseHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

/** One viewer socket and the session it came from (sign-out and revocation close it). */
interface ViewerSocket {
  ws: WebSocket;
  viewer: Viewer;
  sessionId: string | undefined;
  userName: string | null;
}

export class ConsoleHttp {
  readonly router = new Router();
  readonly sessions: SessionStore;
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly page: Page;
  private readonly headers: Record<string, string>;
  private readonly viewers = new Set<ViewerSocket>();
  /** Viewer cuts by reason, since start (tests, metrics). */
  readonly cuts = { buffer: 0, stall: 0, 'bad-message': 0 };

  private constructor(
    private readonly options: ConsoleHttpOptions,
    tlsOptions: https.ServerOptions | undefined,
  ) {
    const limits = options.settings.limits;
    this.sessions = new SessionStore({ maxSessions: limits.maxSessions, ttlMs: limits.sessionTtlMs });
    this.page = buildPage(options.files.importMap(), options.files.missing);
    this.headers = baseHeaders(this.page.csp);
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.handle(req, res);
    this.server = tlsOptions ? https.createServer({ ...serverOptions, ...tlsOptions }, onRequest) : http.createServer(serverOptions, onRequest);
    this.server.maxConnections = limits.maxConnections;
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false });
    this.addPageRoutes();
  }

  static async start(options: ConsoleHttpOptions): Promise<ConsoleHttp> {
    const tls = options.tls ? await readTlsFiles(options.tls) : undefined;
    // The console asks for no client certificate even when the frames port does (mTLS is for cameras).
    const console = new ConsoleHttp(options, tls && { cert: tls.cert, key: tls.key, minVersion: tls.minVersion });
    await new Promise<void>((resolve, reject) => {
      console.server.once('error', reject);
      console.server.listen(options.settings.port, options.settings.host, () => {
        console.server.off('error', reject);
        resolve();
      });
    });
    return console;
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  get secure(): boolean {
    return this.options.tls !== undefined;
  }

  /** The URL to open (a wildcard bind is shown as 127.0.0.1). */
  get url(): string {
    const a = this.address;
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.secure ? 'https' : 'http'}://${host}:${a.port}/`;
  }

  /** The per-address slow-down sign-ins share with HELLOs (undefined without --auth). */
  get signInThrottle(): FailureThrottle | undefined {
    return this.options.tokens?.throttle;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Per viewer: updates waiting (at most one per camera), bytes not yet taken, updates sent (tests, the bench). */
  viewerStats(): Array<{ pending: number; bufferedBytes: number; sent: number }> {
    return [...this.viewers].map((v) => ({ pending: v.viewer.pendingCount, bufferedBytes: v.ws.bufferedAmount, sent: v.viewer.sent }));
  }

  /** SIGHUP: new certificate for new connections; viewers and sessions whose identity went away are ended. */
  async reload(): Promise<void> {
    if (this.options.tls && this.server instanceof https.Server) {
      const tls = await readTlsFiles(this.options.tls);
      this.server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion });
    }
    for (const v of this.viewers) if (v.userName !== null && !this.stillAllowed(v.userName)) v.ws.terminate();
  }

  close(): Promise<void> {
    for (const v of this.viewers) v.ws.terminate();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Ends one session and closes the viewers it opened. */
  signOut(sessionId: string | undefined): void {
    this.sessions.end(sessionId);
    if (sessionId !== undefined) for (const v of this.viewers) if (v.sessionId === sessionId) v.ws.close(4001, 'signed out');
  }

  // --- requests ---

  private addPageRoutes(): void {
    const files = this.options.files;
    this.router.add({
      method: 'GET',
      path: '/',
      access: 'public',
      handler: (ctx) => this.sendBody(ctx, 200, this.page.html, 'text/html; charset=utf-8', 'no-store'),
    });
    for (const url of files.urls()) {
      this.router.add({
        method: 'GET',
        path: url,
        access: 'public',
        handler: (ctx) => {
          const file = files.get(url);
          if (!file) throw new HttpError(404, 'not found');
          if (ctx.req.headers['if-none-match'] === file.etag) {
            ctx.res.writeHead(304, { ...this.headers, etag: file.etag }).end();
            return;
          }
          this.sendBody(ctx, 200, file.body, file.contentType, 'no-cache', { etag: file.etag });
        },
      });
    }
  }

  private sendBody(ctx: RequestContext, status: number, body: Buffer, type: string, cache: string, extra: Record<string, string> = {}): void {
    ctx.res.writeHead(status, { ...this.headers, 'content-type': type, 'cache-control': cache, 'content-length': String(body.length), ...extra });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '?';
    try {
      const url = new URL(req.url ?? '/', 'http://console.invalid');
      if (!this.hostAllowed(req)) throw new HttpError(421, 'this console answers to its own address only (Host header)');
      const found = this.router.match(req.method ?? 'GET', url.pathname);
      if ('allowed' in found) {
        if (found.allowed.length === 0) throw new HttpError(404, 'not found');
        res.setHeader('allow', found.allowed.join(', '));
        throw new HttpError(405, `use ${found.allowed.join(' or ')}`);
      }
      const { route, params } = found;
      const sessionId = sessionIdFrom(req.headers.cookie);
      const user = this.userOf(sessionId);
      if (route.access !== 'public') {
        if (!user) throw new HttpError(401, 'sign in first');
        if (route.access === 'admin' && user.role !== 'admin') throw new HttpError(403, 'this needs the admin role');
      }
      if (UNSAFE.has(req.method ?? '') && !this.sameOrigin(req))
        throw new HttpError(403, 'requests that change something must come from the console page itself (Origin)');
      const limit = route.maxBodyBytes ?? (UNSAFE.has(route.method) ? this.options.settings.limits.maxRequestBytes : 0);
      const body = await readBody(req, limit);
      const context: RequestContext = {
        req,
        res,
        url,
        params,
        user,
        body,
        secure: this.secure,
        address,
        sessionId,
        json: () => parseJson(req, body),
        sendJson: (status, value, headers = {}) => {
          const text = Buffer.from(JSON.stringify(value), 'utf8');
          this.sendBody(context, status, text, 'application/json; charset=utf-8', 'no-store', headers);
        },
        sendText: (status, text, headers = {}) => this.sendBody(context, status, Buffer.from(text, 'utf8'), 'text/plain; charset=utf-8', 'no-store', headers),
      };
      await route.handler(context);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500)
        this.options.log(`console: ${req.method} ${peerText(req.url ?? '')} failed: ${String(err)}`, { level: 'error', event: 'console-error' });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = err instanceof HttpError ? err.message : 'internal error';
      const body = Buffer.from(JSON.stringify({ error: message }), 'utf8');
      const close = status === 413 ? { connection: 'close' } : {};
      res.writeHead(status, {
        ...this.headers,
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': String(body.length),
        ...close,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      // An oversized body is not read: close rather than drain it.
      if (status === 413) req.socket.end();
    }
  }

  /** The signed-in user, the local operator without --auth, or undefined. */
  private userOf(sessionId: string | undefined): ConsoleUser | undefined {
    if (!this.options.tokens) return LOCAL_OPERATOR;
    const user = this.sessions.get(sessionId);
    if (!user) return undefined;
    // A removed identity, or one whose role changed, is signed out at its next request (SIGHUP reloads the file).
    if (!this.stillAllowed(user.name, user.role)) {
      this.sessions.end(sessionId);
      return undefined;
    }
    return user;
  }

  private stillAllowed(name: string, role?: string): boolean {
    const entry = this.options.tokens?.entry(name);
    return entry !== undefined && entry.role !== 'camera' && (role === undefined || entry.role === role);
  }

  private hostAllowed(req: http.IncomingMessage): boolean {
    if (this.options.tokens || this.options.settings.insecure) return true;
    const host = req.headers.host;
    if (!host) return false;
    return isLoopbackHost(hostName(host));
  }

  private sameOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    const host = req.headers.host;
    return origin !== undefined && host !== undefined && origin === `${this.secure ? 'https' : 'http'}://${host}`;
  }

  // --- viewers ---

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, reason: string): void => {
      socket.on('error', () => undefined);
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
      );
    };
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') return refuse(404, 'Not Found');
    if (!this.hostAllowed(req)) return refuse(421, 'Misdirected Request');
    if (!this.sameOrigin(req)) return refuse(403, 'Forbidden: not from the console page');
    const sessionId = sessionIdFrom(req.headers.cookie);
    const user = this.userOf(sessionId);
    if (!user) return refuse(401, 'Unauthorized: sign in first');
    if (this.viewers.size >= this.options.settings.limits.maxViewers) {
      this.options.log(`console: viewer from ${req.socket.remoteAddress ?? '?'} refused: ${this.viewers.size} viewers already (--console-max-viewers)`, {
        level: 'warn',
        event: 'console-viewer-refused',
      });
      return refuse(503, 'Service Unavailable: too many viewers');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, user, sessionId, req.socket));
  }

  private attach(ws: WebSocket, user: ConsoleUser, sessionId: string | undefined, socket: Socket): void {
    const limits = this.options.settings.limits;
    const viewer = new Viewer(ws, {
      maxBufferedBytes: limits.viewerMaxBufferedBytes,
      stallMs: limits.viewerStallMs,
      onCut: (reason) => {
        this.cuts[reason]++;
        this.options.log(`console: viewer ${socket.remoteAddress ?? '?'} cut (${reason})`, { level: 'warn', event: 'console-viewer-cut', reason });
      },
    });
    const entry: ViewerSocket = { ws, viewer, sessionId, userName: user.name };
    this.viewers.add(entry);
    ws.on('close', () => {
      this.viewers.delete(entry);
      this.options.hub.detach(viewer);
    });
    const settings = this.options.settings;
    this.options.hub.attach(viewer, {
      type: 'hello',
      video: settings.video === 'on',
      fps: settings.fps,
      auth: this.options.tokens !== undefined,
      user: user.name === null ? null : { name: user.name, role: user.role },
      maxMessageBytes: limits.maxMessageBytes,
    });
  }
}

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon >= 0 ? hostHeader.slice(0, colon) : hostHeader;
}

/** The body, refusing (413) past `limit` bytes without reading the rest. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `request body over ${limit} bytes`));
  if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        reject(new HttpError(413, `request body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(req: http.IncomingMessage, body: Buffer): unknown {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send application/json');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}
