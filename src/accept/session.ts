/**
 * One TCP connection: detects its protocol, admits frames up to its window,
 * hands them to the batcher, and writes exactly one reply per frame in
 * arrival order.
 *
 * What a peer can make it hold is bounded (docs/reliability.md): frames in
 * flight by the window (2 x window under drop-oldest), unparsed bytes by the
 * socket pause that follows, pending replies by the output-buffer limits, and
 * time by the handshake, message and idle deadlines that the server checks
 * (checkDeadlines) for every session at once.
 */
import type { InputSizePolicy } from '../workers/input-size.js';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BatchFlow } from '../batcher/batcher.js';
import type { JobOutcome, JobTicket } from '../batcher/types.js';
import { detectProtocol, ErrorCode, ProtocolError, type ErrorCodeValue, type LineCrossings, type ZoneReading } from '../framing/index.js';
import { peerText } from '../log/peer-text.js';
import type { LogFields } from '../log/logger.js';
import type { AdapterEvent, ProtocolAdapter } from './adapter.js';
import { outputBufferVerdict, overdueDeadline } from './deadlines.js';
import type { Admission, ConnectionGate, Refusal } from './gate.js';
import { LegacyAdapter } from './legacy-adapter.js';
import { peerGone } from './peer-state.js';
import type { DropReason, ServerCloseReason } from './observer.js';
import { DROP_OLDEST_BACKLOG_WINDOWS, DROP_OLDEST_WAITING } from './options.js';
import type { CapExceeded } from './rate-caps.js';
import { ReplyOrder } from './reply-order.js';
import { addressSender } from './sender-key.js';
import { resolveSender, SenderCaps, type SenderInput } from './sender-settings.js';
import type { SessionDeps } from './session-deps.js';
import { V1Adapter } from './v1-adapter.js';

interface Slot {
  seq: number;
  captureTimeMs: number;
  receivedAtMs: number;
  /** Undefined only while submit() runs (see admit). */
  ticket: JobTicket | undefined;
  outcome: JobOutcome | undefined;
  done: boolean;
  /** The frame's bytes, kept only while a result tap watches (the console); undefined otherwise. */
  jpeg: Uint8Array | undefined;
  /** Why it is answered dropped, when it is. */
  dropReason?: DropReason;
}

/** Every connection's share until its HELLO says who it is (sender-settings.ts). */
export const DEFAULT_SHARE = { weight: 1, priority: 0 } as const;

/**
 * Unparsed bytes a session keeps reading while it admits no frames (window
 * or queue full): enough that a peer who sent its window and left is seen to
 * leave (its FIN or reset arrives behind its last frame) and its queued
 * frames are dropped at once, rather than read only when reading resumes.
 */
export const READ_AHEAD_BYTES = 64 * 1024;

const nowMs = (): number => performance.timeOrigin + performance.now();

/** The metrics label of a connection before its HELLO names it. */
const UNIDENTIFIED = 'unidentified';

export class Session {
  private adapter: ProtocolAdapter | undefined;
  private readonly order = new ReplyOrder<Slot>();
  private window: number;
  /** The camera's name from HELLO (metrics label), or the peer's address until then. */
  private camera: string;
  /** How log lines name this connection: address, then the escaped camera name. */
  private logLabel: string;
  /** The camera's name once HELLO is accepted (the `camera` field of log lines). */
  private cameraName: string | undefined;
  /** For the connection-closed line. */
  private framesReceived = 0;
  private framesOk = 0;
  private closeReason = 'peer closed';
  /** Tells one connection's frames from another's (a camera's motion restarts when it reconnects). */
  private static connections = 0;
  private readonly connectionId = ++Session.connections;
  /** v1 HELLO camera name, the key into the site file (legacy connections have none). */
  private zoneCamera: string | undefined;
  /** The client asked for zones (v1.2): it gets ZONES now and after every site reload. */
  private wantsZones = false;
  /** The client asked for lines (v1.4): it gets LINES now and after every site reload. */
  private wantsLines = false;
  /** v1.3: the input-size policy the client asked for in HELLO (the site file's, if any, wins). */
  private requestedPolicy: InputSizePolicy | undefined;
  /** No more frames will be read: BYE, EOF, protocol error, deadline or shutdown. */
  private draining = false;
  private pendingFatal: { code: ErrorCodeValue; reason: string } | undefined;
  private finished = false;
  /** The peer closed its sending side (FIN); buffered messages may remain. */
  private inputEnded = false;
  /** The gate is checking this HELLO: no frame is admitted meanwhile. */
  private admitting = false;
  /** The result tap was told this camera opened (so it is told when it closes). */
  private tapOpened = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  /** This connection's queue in the batcher (fair share of the workers). */
  private readonly flow: BatchFlow;
  /** Fires when the socket closes: an authentication check still running is abandoned. */
  private readonly gone = new AbortController();
  /** Who it sends for (from HELLO, or at once for legacy): its share and caps, recomputed on a site reload. */
  private senderInput: SenderInput | undefined;
  /** Its sender's rate caps; undefined: none yet, or none apply. */
  private sender: SenderCaps | undefined;
  /** Names its flow in metrics. */
  private flowLabel = UNIDENTIFIED;
  /** Wakes a connection paused by a rate cap (queue policy). */
  private rateTimer: NodeJS.Timeout | undefined;
  /** The first cap this connection went over (logged once). */
  private capped = false;

  // Deadline state, read by checkDeadlines (times are epoch ms).
  private readonly openedAt = nowMs();
  /** A first complete message (v1 HELLO, legacy frame) has arrived. */
  private handshaken = false;
  /** When the first byte of the message now being received arrived (while reading). */
  private messageStartedAt: number | undefined;
  /** Last complete message or reply: the idle clock runs from here when nothing is in flight. */
  private lastActivityAt = this.openedAt;
  /** Since when pending reply bytes have been over the soft limit. */
  private softLimitSince: number | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.window = deps.options.window;
    this.camera = deps.address;
    this.logLabel = deps.address;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    // Until an identity says otherwise, its address's group: more connections buy no more of the workers.
    this.flow = deps.batcher.openFlow({ ...DEFAULT_SHARE, group: addressSender(deps.host), label: UNIDENTIFIED });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.inputEnded = true;
      this.pumpEvents();
    });
    socket.on('drain', () => this.pumpEvents());
    socket.on('error', (err) => {
      this.log('socket-error', `socket error: ${err.message}`);
      // Some errors are only reported (TLS renegotiation refused, ERR_TLS_SESSION_ATTACK): the socket must not stay.
      socket.destroy();
    });
    socket.on('close', () => this.onClose());
  }

  /** Resolves when the socket has closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Graceful shutdown: read nothing more, answer what was accepted, then close (v1: with a SHUTTING_DOWN error saying why). */
  shutdown(reason = 'server is shutting down'): void {
    this.closeReason = reason;
    if (this.adapter?.protocol === 'v1' && !this.pendingFatal) {
      this.pendingFatal = { code: ErrorCode.ShuttingDown, reason };
    }
    this.stopReading();
  }

  /** Drop the connection now (shutdown grace expired). */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Enforces the time limits; the server calls this for every session on one
   * timer rather than arming timers per byte (like Node's http server
   * checking headersTimeout/requestTimeout on connectionsCheckingInterval).
   */
  checkDeadlines(now: number): void {
    if (this.finished) return;
    this.checkOutputBuffer(now);
    if (this.draining) return;
    const expiry = overdueDeadline(
      {
        openedAt: this.openedAt,
        handshaken: this.handshaken,
        messageStartedAt: this.messageStartedAt,
        lastActivityAt: this.lastActivityAt,
        inFlight: this.order.size,
        protocol: this.adapter?.protocol,
      },
      this.deps.options,
      now,
    );
    if (expiry) this.expire(expiry.reason, expiry.code, expiry.why);
  }

  private onData(chunk: Buffer): void {
    if (this.draining) return;
    try {
      if (!this.adapter) {
        const protocol = detectProtocol(chunk[0]);
        if (!protocol) {
          throw new ProtocolError(
            '§1',
            `first byte 0x${chunk[0].toString(16).padStart(2, '0')} is neither a v1 HELLO nor a legacy length digit`,
            ErrorCode.BadMagic,
          );
        }
        this.adapter = protocol === 'v1' ? new V1Adapter(this.deps.options, this.deps.model()) : new LegacyAdapter(this.deps.options.maxFrameBytes);
        this.deps.observer.connectionOpened?.(protocol);
        // A legacy client has no HELLO: it is open as soon as it is recognised (v1: once HELLO is accepted).
        if (protocol === 'legacy') {
          this.logOpened();
          this.flowLabel = 'legacy';
          this.senderInput = { host: this.deps.host };
          this.applySender();
        }
        const refusal = this.deps.gate?.checkProtocol(protocol, this.socket);
        if (refusal) return this.refuse(refusal);
      }
      this.adapter.feed(chunk);
    } catch (err) {
      this.failProtocol(err);
      return;
    }
    this.pumpEvents();
  }

  /**
   * Admits buffered messages while there is room. Bytes beyond it stay in the
   * parser (and the socket stays paused) until replies free a slot, so a
   * burst inside one TCP read cannot overshoot the window.
   */
  private pumpEvents(): void {
    if (!this.adapter) {
      if (this.inputEnded) this.stopReading();
      return;
    }
    let exhausted = false;
    try {
      while (!this.draining && this.canAdmit()) {
        const event = this.adapter.next();
        if (event === undefined) {
          exhausted = true;
          break;
        }
        this.handshaken = true;
        this.lastActivityAt = nowMs();
        if (event.kind === 'hello') {
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
    // The message deadline runs only while we are reading and part of a
    // message is here; a pause (window full) is the server's doing, not the peer's.
    if (exhausted && this.adapter.midMessage) this.messageStartedAt ??= nowMs();
    else this.messageStartedAt = undefined;
    // The peer sent FIN and every complete message is admitted: nothing more will come.
    if (exhausted && this.inputEnded) this.stopReading();
    this.updateReading();
  }

  private welcome(event: Extract<AdapterEvent, { kind: 'hello' }>, label: string, who?: Extract<Admission, { ok: true }>): void {
    this.window = event.window;
    if (label) {
      this.camera = label;
      this.cameraName = label;
      this.logLabel = `${this.deps.address} camera=${peerText(label)}`;
    }
    if (this.adapter?.protocol === 'v1') this.zoneCamera = event.camera;
    this.flowLabel = label || UNIDENTIFIED;
    const identity =
      who?.identity !== undefined ? { name: who.identity, label, settings: who.settings ?? {}, namedCamera: who.namedCamera === true } : undefined;
    this.senderInput = { host: this.deps.host, identity, camera: this.zoneCamera };
    this.applySender();
    for (const buf of event.reply) this.socket.write(buf);
    this.requestedPolicy = event.inputPolicy;
    if (event.wantsZones) {
      this.wantsZones = true;
      this.sendZones();
    }
    if (event.wantsLines) {
      this.wantsLines = true;
      this.sendLines();
    }
    this.logOpened();
  }

  private logOpened(): void {
    this.log('connection-opened', 'connection opened', { level: 'info', protocol: this.adapter?.protocol, window: this.window });
    if (this.deps.tap && !this.tapOpened) {
      this.tapOpened = true;
      this.deps.tap.cameraOpened(this.camera, this.zoneCamera);
    }
  }

  /** v1.2 §3.7: the camera's zones, after WELCOME and again after a site reload; RESULTs written later refer to them. */
  sendZones(): void {
    if (!this.wantsZones || this.finished || this.zoneCamera === undefined || !this.adapter?.encodeZones) return;
    const camera = this.zoneCamera;
    this.socket.write(this.adapter.encodeZones(this.deps.zones?.describe(camera) ?? { camera, zones: [] }));
  }

  /** v1.4 §3.8: the camera's counting lines, after WELCOME (and ZONES) and again after a site reload. */
  sendLines(): void {
    if (!this.wantsLines || this.finished || this.zoneCamera === undefined || !this.adapter?.encodeLines) return;
    const camera = this.zoneCamera;
    this.socket.write(this.adapter.encodeLines(this.deps.lines?.describe?.(camera) ?? { camera, lines: [] }));
  }

  /** Asks the gate about this HELLO; frames behind it wait (canAdmit) and are never admitted if it says no. */
  private awaitAdmission(gate: ConnectionGate, event: Extract<AdapterEvent, { kind: 'hello' }>): void {
    this.admitting = true;
    // Never rejects: the gate's own failure is caught and answered as a refusal.
    void gate
      .admitHello({ camera: event.camera, token: event.token }, this.socket, this.gone.signal)
      .catch((err: unknown): Admission => {
        // A check abandoned because the peer left is no failure worth a line.
        if (!this.gone.signal.aborted) this.log('auth-error', `authentication check failed: ${String(err)}`);
        return { ok: false, refusal: { code: ErrorCode.Unauthorized, cause: 'gate-error', reason: 'authentication failed on the server' } };
      })
      .then((verdict) => {
        this.admitting = false;
        if (this.draining || this.finished) return;
        if (!verdict.ok) return this.refuse(verdict.refusal);
        this.welcome(event, verdict.label, verdict);
        this.pumpEvents();
      });
  }

  /**
   * Its sender's share of the workers and rate buckets, from the site file's
   * camera entry, its identity's credentials entry and the server's
   * defaults (sender-settings.ts); again after a site reload.
   */
  private applySender(): void {
    if (!this.senderInput || this.finished) return;
    const camera = this.senderInput.camera;
    const site = camera !== undefined ? this.deps.zones?.senderSettings?.(camera) : undefined;
    const resolved = resolveSender({ ...this.senderInput, site }, this.deps.options);
    this.flow.update({ ...resolved.share, groupWeight: resolved.groupWeight, group: resolved.group, label: this.flowLabel });
    const caps = this.deps.rateCaps;
    const next = caps && resolved.buckets.length > 0 ? new SenderCaps(caps, resolved.buckets) : undefined;
    // The new lease first: a bucket this connection keeps is never forgotten in between (it would refill).
    this.sender?.release();
    this.sender = next;
  }

  /** The site file was reloaded: its camera entry may give this connection another share or other caps. */
  siteChanged(): void {
    this.applySender();
  }

  /** Logs the first time this connection meets a cap: a misconfigured camera is visible without a line per frame. */
  private noteCapped(cap: CapExceeded, sender: SenderCaps, dropping: boolean): void {
    if (this.capped) return;
    this.capped = true;
    this.log('rate-cap', `${sender.reason(cap)}: ${dropping ? 'frames over it are answered dropped' : 'reading pauses until it has room'}`);
  }

  /** Queue policy: the sender is over its cap; admit again once its bucket has room. */
  private waitForRate(cap: CapExceeded, sender: SenderCaps): void {
    if (this.rateTimer) return;
    this.deps.observer.rateCapWait?.(cap);
    this.noteCapped(cap, sender, false);
    this.rateTimer = setTimeout(
      () => {
        this.rateTimer = undefined;
        this.resume();
      },
      Math.max(1, Math.ceil(sender.waitMs())),
    );
  }

  private refuse(refusal: Refusal): void {
    this.closeReason = `refused (${refusal.cause})`;
    this.log('refused', `refused (${refusal.cause}): ${refusal.reason}`);
    this.pendingFatal = { code: refusal.code, reason: refusal.reason };
    this.stopReading();
  }

  /**
   * Room for another frame: no HELLO is being checked, the server-wide queue
   * has space, the peer is taking its replies (a socket that cannot take more
   * stops admission, so a non-reading peer costs no worker time), and the
   * connection is under its window (queue policy) or its unanswered cap
   * (drop-oldest).
   */
  private canAdmit(): boolean {
    if (this.admitting || !this.deps.batcher.hasRoomFor(this.flow) || this.socket.writableNeedDrain) return false;
    const queue = this.deps.options.overload === 'queue';
    if (this.order.size >= (queue ? this.window : this.window * DROP_OLDEST_BACKLOG_WINDOWS)) return false;
    // Queue policy: over a rate cap the connection waits (TCP slows the sender); drop-oldest reads on and answers dropped (admit).
    const over = queue && this.sender ? this.sender.over() : undefined;
    if (over && this.sender) {
      this.waitForRate(over, this.sender);
      return false;
    }
    return true;
  }

  /**
   * Asked by the batcher just before a frame of this connection goes to a
   * worker. A peer that reset, or closed with our bytes unread, while its
   * frames waited and its socket was paused (their FIN or reset lies behind
   * bytes not yet read) is gone: the connection is closed, which drops the
   * rest of its queue, and the frame never runs. A half-closed peer (FIN
   * only) still waits for its results and is served (docs/protocol.md).
   */
  private readonly stillWanted = (): boolean => {
    if (!peerGone(this.socket)) return true;
    if (!this.socket.destroyed) this.cut('peer-gone', 'the peer reset or closed while its frames waited behind unread bytes');
    return false;
  };

  /** The batcher freed queue space: admit buffered frames, resume reading. */
  resume(): void {
    if (!this.draining && !this.finished) this.pumpEvents();
  }

  private failProtocol(err: unknown): void {
    const perr = err instanceof ProtocolError ? err : new ProtocolError('§2', String(err));
    this.closeReason = `protocol error (${perr.rule})`;
    this.log('protocol-error', `closing: ${perr.message}`);
    this.deps.observer.protocolError?.(perr.rule);
    this.pendingFatal = { code: perr.code, reason: perr.message };
    this.stopReading();
  }

  private admit(seq: number, captureTimeMs: number, jpeg: Uint8Array): void {
    const receivedAtMs = nowMs();
    this.framesReceived++;
    this.deps.observer.frameReceived?.(this.camera);
    // Over the frame-rate cap: no header walk either. (Under the queue policy canAdmit waited for room, so this is drop-oldest.)
    const sender = this.sender;
    const overRate = sender?.over() === 'frame-rate-cap' ? 'frame-rate-cap' : undefined;
    const verdict = overRate ? undefined : this.deps.screen?.(jpeg);
    const refused = verdict && 'refused' in verdict ? verdict.refused : undefined;
    const capped = overRate ?? (refused || !sender ? undefined : sender.take(verdict && 'pixels' in verdict ? (verdict.pixels ?? 0) : 0));
    if (refused || capped) {
      // Answered in its turn like any frame; flushed from a microtask, as a
      // worker's answer would be, so this loop is not re-entered.
      const timings = { queueUs: 0, decodeUs: 0, inferUs: 0 };
      let outcome: JobOutcome;
      if (refused) outcome = { status: 'frame-error', reason: refused.reason, cause: refused.cause, timings };
      else {
        outcome = { status: 'dropped', reason: `dropped: ${(sender as SenderCaps).reason(capped as CapExceeded)}`, timings };
        this.noteCapped(capped as CapExceeded, sender as SenderCaps, true);
      }
      this.order.add({ seq, captureTimeMs, receivedAtMs, ticket: undefined, outcome, done: true, jpeg: undefined, dropReason: capped });
      queueMicrotask(() => this.flush());
      return;
    }
    if (this.deps.options.overload === 'drop-oldest' && (this.order.size >= this.window || this.flow.queuedFrames >= DROP_OLDEST_WAITING)) {
      // Live camera: the newest frame matters most. Withdraw the oldest frame
      // still waiting for a worker; it is answered "dropped" in its turn. A
      // connection keeps one frame waiting at most, so what a worker takes
      // next from it is its newest (docs/reliability.md, latency under overload).
      // cancel() succeeds only while a frame is still queued. A frame cancelled
      // earlier in this same chunk is not marked done yet (its promise settles
      // later), so try each in turn rather than only the first candidate.
      const replaced = this.order.find((s) => !s.done && s.ticket?.cancel('dropped: newer frames arrived while this one waited (drop-oldest)') === true);
      if (replaced) replaced.dropReason = 'drop-oldest';
    }
    // Take the slot in the reply order before submitting: submit() can
    // dispatch at once, and the batcher's room callback may admit the next
    // frame (re-entering this method) before submit() returns.
    // The console wants the bytes as received; nobody watching: no reference is kept.
    const kept = this.deps.tap?.wantsJpeg ? jpeg : undefined;
    const slot: Slot = { seq, captureTimeMs, receivedAtMs, ticket: undefined, outcome: undefined, done: false, jpeg: kept };
    this.order.add(slot);
    const motion = this.zoneCamera !== undefined && this.deps.lines?.wantsMotion(this.zoneCamera) === true;
    const work = verdict && 'work' in verdict ? verdict.work : 0;
    // The parser gave the frame a buffer of its own: unless the console keeps it, the worker pool may move it rather than copy it.
    const job = { jpeg, receivedAtMs, motion, inputPolicy: this.inputPolicy(), movable: kept === undefined, stillWanted: this.stillWanted };
    const ticket = this.deps.batcher.submit(job, this.flow, work);
    slot.ticket = ticket;
    // A ticket's promise never rejects: failures arrive as outcomes.
    void ticket.promise.then((outcome) => {
      slot.outcome = outcome;
      slot.done = true;
      slot.ticket = undefined;
      this.flush();
    });
  }

  /**
   * This camera's input-size policy, per frame so a site reload applies at
   * once: the site file's entry for the camera, else what the client asked
   * in HELLO, else undefined (the server's default, --input-policy).
   */
  private inputPolicy(): InputSizePolicy | undefined {
    const fromSite = this.zoneCamera !== undefined ? this.deps.zones?.inputPolicy?.(this.zoneCamera) : undefined;
    return fromSite ?? this.requestedPolicy;
  }

  private flush(): void {
    const now = nowMs();
    for (const slot of this.order.takeReady()) {
      const outcome = slot.outcome as JobOutcome;
      const serverUs = Math.round((now - slot.receivedAtMs) * 1000);
      if (outcome.status === 'ok') this.framesOk++;
      const zones = this.zoneReadings(slot, outcome);
      this.feedLines(slot, outcome);
      const lines = this.lineCrossings(outcome);
      this.deps.observer.frameAnswered?.({
        camera: this.camera,
        status: outcome.status,
        count: outcome.status === 'ok' ? outcome.count : undefined,
        cause: outcome.status === 'ok' ? undefined : outcome.cause,
        dropReason: outcome.status === 'dropped' ? slot.dropReason : undefined,
        queueUs: outcome.timings.queueUs,
        decodeUs: outcome.timings.decodeUs,
        inferUs: outcome.timings.inferUs,
        serverUs,
      });
      if (this.finished || !this.adapter) continue;
      for (const buf of this.adapter.encodeReply({ seq: slot.seq, captureTimeMs: slot.captureTimeMs, serverUs, zones, lines }, outcome)) {
        this.socket.write(buf);
      }
      this.lastActivityAt = now;
      // After the reply is on its way: what watchers do can never delay the camera.
      if (this.deps.tap?.watching)
        this.deps.tap.answered({
          camera: this.camera,
          siteCamera: this.zoneCamera,
          seq: slot.seq,
          captureTimeMs: slot.captureTimeMs,
          serverUs,
          jpeg: slot.jpeg,
          outcome,
          zones,
          lines,
        });
      slot.jpeg = undefined;
    }
    if (!this.finished) this.checkOutputBuffer(now);
    this.pumpEvents();
    this.maybeFinish();
  }

  /**
   * Zone readings of an ok frame, computed for every named camera in the site
   * file whether or not its client asked (events and metrics need them), in
   * reply order. Time is the frame's capture time (the smoothing follows the
   * camera's clock); a client that sends none (0) gets its arrival time.
   */
  private feedLines(slot: Slot, outcome: JobOutcome): void {
    if (outcome.status !== 'ok' || this.zoneCamera === undefined || !this.deps.lines) return;
    const timeMs = Number.isFinite(slot.captureTimeMs) && slot.captureTimeMs > 0 ? slot.captureTimeMs : slot.receivedAtMs;
    this.deps.lines.observe(this.zoneCamera, this.connectionId, timeMs, outcome.density, outcome.grey, outcome.image);
  }

  /** The camera's line crossings for an ok frame's RESULT (and the console); undefined without lines. */
  private lineCrossings(outcome: JobOutcome): LineCrossings[] | undefined {
    if (outcome.status !== 'ok' || this.zoneCamera === undefined) return undefined;
    return this.deps.lines?.crossings?.(this.zoneCamera);
  }

  private zoneReadings(slot: Slot, outcome: JobOutcome): ZoneReading[] | undefined {
    if (outcome.status !== 'ok' || this.zoneCamera === undefined || !this.deps.zones) return undefined;
    const timeMs = Number.isFinite(slot.captureTimeMs) && slot.captureTimeMs > 0 ? slot.captureTimeMs : slot.receivedAtMs;
    return this.deps.zones.observe(this.zoneCamera, timeMs, outcome.density, outcome.image);
  }

  /**
   * Redis-style client output buffer limit: replies the peer has not taken.
   * Over the hard limit the connection is cut at once; over the soft limit
   * for softMs, too. Nothing is sent first: the peer is not reading.
   */
  private checkOutputBuffer(now: number): void {
    const verdict = outputBufferVerdict(this.socket.writableLength, this.softLimitSince, this.deps.options, now);
    this.softLimitSince = verdict.softLimitSince;
    if (verdict.cut) this.cut(verdict.cut.reason, verdict.cut.why);
  }

  private cut(reason: ServerCloseReason, why: string): void {
    if (this.finished) return;
    this.finished = true;
    this.draining = true;
    this.closeReason = reason;
    this.log(reason, `cutting the connection: ${why}`);
    this.deps.observer.connectionEnded?.(reason);
    this.socket.destroy();
  }

  /** A deadline passed: say why (v1), answer what is in flight, close. */
  private expire(reason: ServerCloseReason, code: ErrorCodeValue, why: string): void {
    this.closeReason = reason;
    this.log(reason, `closing: ${why}`);
    this.deps.observer.connectionEnded?.(reason);
    this.pendingFatal = { code, reason: why };
    this.stopReading();
  }

  private stopReading(): void {
    this.draining = true;
    this.messageStartedAt = undefined;
    this.socket.pause();
    this.maybeFinish();
  }

  /**
   * Reads while frames can be admitted, and a little beyond (READ_AHEAD_BYTES
   * unparsed) while they cannot, so a FIN or reset behind the last frame is
   * seen at once; past that the socket pauses and TCP slows the sender.
   */
  private updateReading(): void {
    if (this.draining || this.finished) return;
    if (this.canAdmit() || (this.adapter?.buffered ?? 0) < READ_AHEAD_BYTES) this.socket.resume();
    else this.socket.pause();
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

  /** Every line names the connection in its text and in `address` (and `camera` once known) fields. */
  private log(kind: string, message: string, fields?: LogFields): void {
    this.deps.log.write(kind, `${this.logLabel}: ${message}`, { address: this.deps.address, camera: this.cameraName, ...fields });
  }

  private onClose(): void {
    this.finished = true;
    this.draining = true;
    if (this.tapOpened) this.deps.tap?.cameraClosed(this.camera);
    this.gone.abort();
    clearTimeout(this.rateTimer);
    this.sender?.release();
    // Free queue space and bytes at once: no frame of a connection that is gone reaches a worker (those already in one finish and are discarded).
    this.flow.close('connection closed');
    if (this.adapter) {
      this.deps.observer.connectionClosed?.(this.adapter.protocol);
      this.log('connection-closed', `connection closed (${this.closeReason}) after ${this.framesReceived} frame(s)`, {
        level: 'info',
        protocol: this.adapter.protocol,
        frames: this.framesReceived,
        frames_ok: this.framesOk,
        duration_ms: Math.round(nowMs() - this.openedAt),
        reason: this.closeReason,
      });
    }
    this.resolveClosed();
  }
}
