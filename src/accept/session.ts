/**
 * One TCP connection: detects its protocol, admits frames up to its window,
 * hands them to the batcher, and writes exactly one reply per frame in
 * arrival order. Reading pauses when the window is full (queue policy) or
 * the socket's write buffer is full, so a fast client cannot grow memory.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Batcher } from '../batcher/batcher.js';
import type { JobOutcome, JobTicket } from '../batcher/types.js';
import { detectProtocol, ErrorCode, ProtocolError, type ErrorCodeValue } from '../framing/index.js';
import type { AdapterEvent, ModelInfo, ProtocolAdapter } from './adapter.js';
import type { Admission, ConnectionGate, Refusal } from './gate.js';
import { LegacyAdapter } from './legacy-adapter.js';
import type { ServerObserver } from './observer.js';
import type { ServerOptions } from './options.js';
import { ReplyOrder } from './reply-order.js';
import { V1Adapter } from './v1-adapter.js';

interface Slot {
  seq: number;
  captureTimeMs: number;
  receivedAtMs: number;
  /** Undefined only while submit() runs (see admit). */
  ticket: JobTicket | undefined;
  outcome: JobOutcome | undefined;
  done: boolean;
}

export interface SessionDeps {
  batcher: Batcher;
  options: ServerOptions;
  model: () => ModelInfo;
  observer: ServerObserver;
  log: (line: string) => void;
  /** Authentication and transport policy (src/auth); absent: everyone is welcome. */
  gate?: ConnectionGate;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

export class Session {
  private adapter: ProtocolAdapter | undefined;
  private readonly order = new ReplyOrder<Slot>();
  private window: number;
  private camera: string;
  /** No more frames will be read: BYE, EOF, protocol error or shutdown. */
  private draining = false;
  private pendingFatal: { code: ErrorCodeValue; reason: string } | undefined;
  private finished = false;
  /** The peer closed its sending side (FIN); buffered messages may remain. */
  private inputEnded = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** The gate is checking this HELLO: no frame is admitted meanwhile. */
  private admitting = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.window = deps.options.window;
    this.camera = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.setTimeout(deps.options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.inputEnded = true;
      this.pumpEvents();
    });
    socket.on('drain', () => this.pumpEvents());
    socket.on('timeout', () => this.onIdle());
    socket.on('error', (err) => this.deps.log(`${this.camera}: socket error: ${err.message}`));
    socket.on('close', () => this.onClose());
    this.handshakeTimer = setTimeout(() => this.onHandshakeTimeout(), deps.options.handshakeTimeoutMs);
  }

  /** Resolves when the socket has closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Graceful shutdown: read nothing more, answer what was accepted, then close. */
  shutdown(): void {
    if (this.adapter?.protocol === 'v1' && !this.pendingFatal) {
      this.pendingFatal = { code: ErrorCode.ShuttingDown, reason: 'server is shutting down' };
    }
    this.stopReading();
  }

  /** Drop the connection now (shutdown grace expired). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.draining) return;
    try {
      if (!this.adapter) {
        const protocol = detectProtocol(chunk[0]);
        if (!protocol) {
          throw new ProtocolError('§1', `first byte 0x${chunk[0].toString(16).padStart(2, '0')} is neither a v1 HELLO nor a legacy length digit`, ErrorCode.BadMagic);
        }
        this.adapter = protocol === 'v1' ? new V1Adapter(this.deps.options, this.deps.model()) : new LegacyAdapter(this.deps.options.maxFrameBytes);
        this.deps.observer.connectionOpened?.(protocol);
        const refusal = this.deps.gate?.checkProtocol(protocol, this.socket);
        if (refusal) return this.refuse(refusal);
        if (this.adapter.ready) this.clearHandshakeTimer();
      }
      this.adapter.feed(chunk);
    } catch (err) {
      this.failProtocol(err);
      return;
    }
    this.pumpEvents();
  }

  /**
   * Admits buffered messages while the window has room. Bytes beyond the
   * window stay in the parser (and the socket stays paused) until replies
   * free a slot, so a burst inside one TCP read cannot overshoot the window.
   */
  private pumpEvents(): void {
    if (!this.adapter) {
      if (this.inputEnded) this.stopReading();
      return;
    }
    let exhausted = false;
    try {
      while (!this.draining && !this.windowFull()) {
        const event = this.adapter.next();
        if (event === undefined) {
          exhausted = true;
          break;
        }
        if (event.kind === 'hello') {
          this.clearHandshakeTimer();
          if (this.deps.gate) this.awaitAdmission(this.deps.gate, event);
          else this.welcome(event, event.camera);
        } else if (event.kind === 'frame') {
          this.admit(event.frame.seq, event.frame.captureTimeMs, event.frame.jpeg);
        } else {
          this.stopReading();
        }
      }
    } catch (err) {
      this.failProtocol(err);
      return;
    }
    // The peer sent FIN and every complete message is admitted: nothing more will come.
    if (exhausted && this.inputEnded) this.stopReading();
    this.updateReading();
  }

  private welcome(event: Extract<AdapterEvent, { kind: 'hello' }>, label: string): void {
    this.window = event.window;
    if (label) this.camera = label;
    for (const buf of event.reply) this.socket.write(buf);
  }

  /** Asks the gate about this HELLO; frames behind it wait (windowFull) and are never admitted if it says no. */
  private awaitAdmission(gate: ConnectionGate, event: Extract<AdapterEvent, { kind: 'hello' }>): void {
    this.admitting = true;
    gate
      .admitHello({ camera: event.camera, token: event.token }, this.socket)
      .catch((err: unknown): Admission => {
        this.deps.log(`${this.camera}: authentication check failed: ${String(err)}`);
        return { ok: false, refusal: { code: ErrorCode.Unauthorized, cause: 'gate-error', reason: 'authentication failed on the server' } };
      })
      .then((verdict) => {
        this.admitting = false;
        if (this.draining || this.finished) return;
        if (!verdict.ok) return this.refuse(verdict.refusal);
        this.welcome(event, verdict.label);
        this.pumpEvents();
      });
  }

  private refuse(refusal: Refusal): void {
    this.deps.log(`${this.camera}: refused (${refusal.cause}): ${refusal.reason}`);
    this.pendingFatal = { code: refusal.code, reason: refusal.reason };
    this.stopReading();
  }

  /** No room for another frame: this connection's window, or the server-wide queue. */
  private windowFull(): boolean {
    if (this.admitting) return true;
    if (!this.deps.batcher.hasRoom) return true;
    return this.deps.options.overload === 'queue' && this.order.size >= this.window;
  }

  /** The batcher freed queue space: admit buffered frames, resume reading. */
  resume(): void {
    if (!this.draining && !this.finished) this.pumpEvents();
  }

  private failProtocol(err: unknown): void {
    const perr = err instanceof ProtocolError ? err : new ProtocolError('§2', String(err));
    this.deps.log(`${this.camera}: closing: ${perr.message}`);
    this.deps.observer.protocolError?.(perr.rule);
    this.pendingFatal = { code: perr.code, reason: perr.message };
    this.stopReading();
  }

  private admit(seq: number, captureTimeMs: number, jpeg: Uint8Array): void {
    const receivedAtMs = nowMs();
    this.deps.observer.frameReceived?.(this.camera);
    if (this.deps.options.overload === 'drop-oldest' && this.order.size >= this.window) {
      // Live camera: the newest frame matters most. Withdraw the oldest frame
      // still waiting for a worker; it is answered "dropped" in its turn.
      // cancel() succeeds only while a frame is still queued. A frame cancelled
      // earlier in this same chunk is not marked done yet (its promise settles
      // later), so try each in turn rather than only the first candidate.
      this.order.find((s) => !s.done && s.ticket?.cancel('dropped: newer frames arrived while this one waited (drop-oldest)') === true);
    }
    // Take the slot in the reply order before submitting: submit() can
    // dispatch at once, and the batcher's room callback may admit the next
    // frame (re-entering this method) before submit() returns.
    const slot: Slot = { seq, captureTimeMs, receivedAtMs, ticket: undefined, outcome: undefined, done: false };
    this.order.add(slot);
    const ticket = this.deps.batcher.submit({ jpeg, receivedAtMs });
    slot.ticket = ticket;
    ticket.promise.then((outcome) => {
      slot.outcome = outcome;
      slot.done = true;
      this.flush();
    });
  }

  private flush(): void {
    for (const slot of this.order.takeReady()) {
      const outcome = slot.outcome as JobOutcome;
      const serverUs = Math.round((nowMs() - slot.receivedAtMs) * 1000);
      this.deps.observer.frameAnswered?.({
        camera: this.camera,
        status: outcome.status,
        count: outcome.status === 'ok' ? outcome.count : undefined,
        queueUs: outcome.timings.queueUs,
        decodeUs: outcome.timings.decodeUs,
        inferUs: outcome.timings.inferUs,
        serverUs,
      });
      if (this.finished || !this.adapter) continue;
      for (const buf of this.adapter.encodeReply({ seq: slot.seq, captureTimeMs: slot.captureTimeMs, serverUs }, outcome)) {
        this.socket.write(buf);
      }
    }
    this.pumpEvents();
    this.maybeFinish();
  }

  private stopReading(): void {
    this.draining = true;
    this.clearHandshakeTimer();
    this.socket.pause();
    this.maybeFinish();
  }

  private updateReading(): void {
    if (this.draining || this.finished) return;
    if (this.windowFull() || this.socket.writableNeedDrain) this.socket.pause();
    else this.socket.resume();
  }

  /** Once draining and every accepted frame is answered: say why (v1), then close. */
  private maybeFinish(): void {
    if (!this.draining || this.finished || this.order.size > 0) return;
    this.finished = true;
    const fatal = this.pendingFatal && this.adapter?.encodeFatal(this.pendingFatal.code, this.pendingFatal.reason);
    if (fatal) this.socket.write(fatal);
    this.socket.end();
    // Read again (discarding) so the peer's FIN or close is seen at once.
    this.socket.resume();
    // A peer that never reads could hold the socket open; do not wait forever.
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }

  private onIdle(): void {
    if (this.order.size > 0) return; // waiting on the server is not the client idling
    this.deps.log(`${this.camera}: idle for ${this.deps.options.idleTimeoutMs} ms, closing`);
    this.pendingFatal = { code: ErrorCode.IdleTimeout, reason: `no frames for ${this.deps.options.idleTimeoutMs} ms` };
    this.stopReading();
  }

  private onHandshakeTimeout(): void {
    this.handshakeTimer = undefined;
    if (this.adapter?.ready) return;
    this.deps.log(`${this.camera}: no handshake within ${this.deps.options.handshakeTimeoutMs} ms, closing`);
    this.pendingFatal = { code: ErrorCode.HandshakeTimeout, reason: `no HELLO within ${this.deps.options.handshakeTimeoutMs} ms` };
    this.stopReading();
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private onClose(): void {
    this.clearHandshakeTimer();
    this.finished = true;
    this.draining = true;
    // Free queue space at once; frames already in a worker finish and are discarded.
    for (const slot of this.order.all()) slot.ticket?.cancel('connection closed');
    if (this.adapter) this.deps.observer.connectionClosed?.(this.adapter.protocol);
    this.resolveClosed();
  }
}
