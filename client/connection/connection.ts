/**
 * Client side of crowdline protocol v1 over one TCP connection: handshake,
 * FRAME out, RESULT back (in order, as the server guarantees). Used by the
 * camera client, the load test and the tests; it knows nothing of cameras.
 */
import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'node:events';
import {
  ClientSideParser,
  DensityFormat,
  ErrorCode,
  encodeBye,
  encodeFrameHead,
  encodeHello,
  PROTOCOL_VERSION,
  type DensityFormatCode,
  type ErrorCodeValue,
  type InputPolicyName,
  type ErrorMessage,
  type ResultMessage,
  type ServerMessage,
  type WelcomeMessage,
  type LinesMessage,
  type ZonesMessage,
} from '../../src/framing/index.js';

/** How a client proves who it is and keeps frames private (docs/security.md). */
export interface ClientSecurity {
  /** Sent in the HELLO token extension (docs/protocol.md §3.1.1). */
  token?: string;
  /** Connect with TLS; `ca` replaces the system roots (a private CA), cert/key give mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
}

/** The server answered the HELLO with an ERROR. */
export class ServerRefusedError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    reason: string,
  ) {
    super(`server refused the connection: ${reason} (error ${code})`);
    this.name = 'ServerRefusedError';
  }

  /** Retrying cannot help (wrong token, TLS needed): a camera should stop, not reconnect. */
  get permanent(): boolean {
    return this.code === ErrorCode.Unauthorized || this.code === ErrorCode.TlsRequired || this.code === ErrorCode.UnsupportedVersion;
  }
}

export interface ConnectOptions extends ClientSecurity {
  host: string;
  port: number;
  cameraName: string;
  densityFormat?: DensityFormatCode;
  countOnly?: boolean;
  /** Frames the client wants in flight (0: server default). */
  window?: number;
  connectTimeoutMs?: number;
  /** Local address to connect from (multi-homed hosts; the soak uses several loopback addresses). */
  localAddress?: string;
  /** v1.2: ask for the camera's zones (ZONES message, per-zone readings in RESULTs). */
  wantsZones?: boolean;
  /** v1.4: ask for the camera's counting lines (LINES message, per-line crossings in RESULTs). */
  wantsLines?: boolean;
  /** v1.3: ask for an input-size policy for this camera's frames (absent: the server's default). */
  inputPolicy?: InputPolicyName;
}

export interface V1ConnectionEvents {
  result: [ResultMessage];
  /** v1.2: the camera's zones; after WELCOME and again when the server reloads its site file. */
  zones: [ZonesMessage];
  /** v1.4: the camera's counting lines; after WELCOME and again when the server reloads its site file. */
  lines: [LinesMessage];
  /** The server's ERROR message (the connection closes after it). */
  serverError: [ErrorMessage];
  close: [Error | undefined];
}

export class V1Connection extends EventEmitter<V1ConnectionEvents> {
  private nextSeq = 0;
  private inFlight = 0;
  private closedWith: Error | undefined;
  private isClosed = false;

  private constructor(
    private readonly socket: net.Socket,
    readonly welcome: WelcomeMessage,
    private readonly parser: ClientSideParser,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => (this.closedWith = err));
    socket.on('close', () => {
      this.isClosed = true;
      this.emit('close', this.closedWith);
    });
  }

  /** Connects and completes the handshake (HELLO -> WELCOME). */
  static connect(options: ConnectOptions): Promise<V1Connection> {
    return new Promise((resolve, reject) => {
      const socket = openSocket(options);
      const parser = new ClientSideParser();
      const timer = setTimeout(
        () => fail(new Error(`no WELCOME from ${options.host}:${options.port} within ${options.connectTimeoutMs ?? 10_000} ms`)),
        options.connectTimeoutMs ?? 10_000,
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('close', () => fail(new Error(`connection to ${options.host}:${options.port} closed during handshake`)));
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        socket.write(
          encodeHello({
            version: PROTOCOL_VERSION,
            densityFormat: options.densityFormat ?? DensityFormat.Float32,
            countOnly: options.countOnly ?? false,
            window: options.window ?? 0,
            cameraName: options.cameraName,
            token: options.token,
            wantsZones: options.wantsZones,
            wantsLines: options.wantsLines,
            inputPolicy: options.inputPolicy,
          }),
        );
      });
      const onData = (chunk: Buffer): void => {
        let messages;
        try {
          messages = parser.push(chunk);
        } catch (err) {
          fail(err as Error);
          return;
        }
        const first = messages[0];
        if (!first) return;
        socket.off('data', onData);
        if (first.type === 'error') {
          fail(new ServerRefusedError(first.code, first.reason));
          return;
        }
        if (first.type !== 'welcome') {
          fail(new Error(`expected WELCOME, got ${first.type.toUpperCase()}`));
          return;
        }
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        const conn = new V1Connection(socket, first, parser);
        resolve(conn);
        // Anything that arrived with the WELCOME is handed on after the caller subscribes.
        const rest = messages.slice(1);
        if (rest.length > 0) queueMicrotask(() => rest.forEach((m) => conn.dispatch(m)));
      };
      socket.on('data', onData);
    });
  }

  /** Frames sent and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends one JPEG; returns its sequence number. */
  send(jpeg: Uint8Array, captureTimeMs = Date.now()): number {
    const seq = this.nextSeq++;
    this.inFlight++;
    this.socket.write(encodeFrameHead(seq, captureTimeMs, jpeg.length));
    this.socket.write(jpeg);
    return seq;
  }

  /** True when the socket's write buffer is full (wait for 'drain' on a fast source). */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Asks the server to answer what is in flight and close. */
  bye(): void {
    if (!this.isClosed) this.socket.end(encodeBye());
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    // feed/next rather than push: messages before a violation are still delivered.
    this.parser.feed(chunk);
    for (;;) {
      let message;
      try {
        message = this.parser.next();
      } catch (err) {
        this.closedWith = err as Error;
        this.socket.destroy();
        return;
      }
      if (message === undefined) return;
      this.dispatch(message);
    }
  }

  private dispatch(m: ServerMessage): void {
    if (m.type === 'result') {
      this.inFlight--;
      this.emit('result', m);
    } else if (m.type === 'zones') {
      this.emit('zones', m);
    } else if (m.type === 'lines') {
      this.emit('lines', m);
    } else if (m.type === 'error') {
      this.closedWith = new Error(`server error ${m.code}: ${m.reason}`);
      this.emit('serverError', m);
    }
  }
}

function openSocket(options: ConnectOptions): net.Socket {
  const { localAddress } = options;
  if (!options.tls) return net.connect({ host: options.host, port: options.port, noDelay: true, localAddress });
  const { ca, cert, key } = options.tls;
  // SNI takes host names only; an IP address is checked against the certificate's IP SANs instead.
  const servername = options.tls.servername ?? (net.isIP(options.host) ? undefined : options.host);
  const socket = tls.connect({ host: options.host, port: options.port, ca, cert, key, servername, minVersion: 'TLSv1.2' });
  socket.setNoDelay(true);
  return socket;
}
