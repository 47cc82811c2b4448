/**
 * TLS on the same port as plain v1 and legacy (docs/protocol.md §1): a TLS
 * ClientHello starts with the record type 0x16, which neither plain
 * protocol can begin with. The first byte picks the path; a TLS connection
 * is handed back once its handshake is done, and the session then detects
 * v1 or legacy inside it as usual.
 */
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import tls from 'node:tls';

/** TLS record type "handshake": the first byte of every ClientHello. */
export const TLS_HANDSHAKE_BYTE = 0x16;

export interface TlsFiles {
  cert: string;
  key: string;
  /** mTLS: clients may present a certificate signed by this CA (its CN is their identity). */
  clientCa?: string;
}

export interface TlsFrontOptions {
  files: TlsFiles;
  /** The files' contents as read at start (src/app/server-files.ts); reload() reads the files again. */
  secure: tls.SecureContextOptions;
  handshakeTimeoutMs: number;
  /** A TLS connection whose handshake succeeded. */
  onSecure(socket: tls.TLSSocket): void;
  log(line: string): void;
}

/** The server's TLS settings from the files' contents; throws (naming the files) if they do not make a working context. */
export function secureContextOptions(files: TlsFiles, pem: { cert: Buffer; key: Buffer; ca?: Buffer }): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = { cert: pem.cert, key: pem.key, ca: pem.ca, minVersion: 'TLSv1.2' };
  // Fail now, with the file names, rather than at the first client.
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new Error(`TLS certificate ${files.cert} / key ${files.key}${files.clientCa ? ` / client CA ${files.clientCa}` : ''}: ${(err as Error).message}`);
  }
  return options;
}

/** Reads and checks the certificate files (reloads, and the console's HTTPS listener). */
export async function readTlsFiles(files: TlsFiles): Promise<tls.SecureContextOptions> {
  const [cert, key, ca] = await Promise.all([readFile(files.cert), readFile(files.key), files.clientCa ? readFile(files.clientCa) : undefined]);
  return secureContextOptions(files, { cert, key, ca });
}

export class TlsFront {
  /** TCP sockets handed to the TLS server and not yet through the handshake, by address:port. */
  private readonly inHandshake = new Map<string, Socket>();

  private constructor(
    private readonly server: tls.Server,
    private readonly options: TlsFrontOptions,
  ) {}

  static start(options: TlsFrontOptions): TlsFront {
    const server = tls.createServer({
      ...options.secure,
      // Not half-open during the handshake: a peer that hangs up mid-handshake would leave the socket open for good.
      allowHalfOpen: false,
      // Ask for a certificate only with mTLS; the gate, not the handshake, refuses a missing one, so the client gets a clear ERROR.
      requestCert: options.files.clientCa !== undefined,
      rejectUnauthorized: false,
      handshakeTimeout: options.handshakeTimeoutMs,
    });
    const front = new TlsFront(server, options);
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      front.inHandshake.delete(`${socket.remoteAddress}:${socket.remotePort}`);
      // Handshake done: now, as on plain connections, a client's FIN still lets its replies out.
      socket.allowHalfOpen = true;
      // A client may not renegotiate (TLS 1.2): each renegotiation is a full handshake's CPU for the server.
      // The attempt emits an error, and the session closes the socket on any error.
      socket.disableRenegotiation();
      options.onSecure(socket);
    });
    server.on('tlsClientError', (err, socket) => {
      // The peer's address is often gone by now (it hung up); say what is known.
      const key = `${socket.remoteAddress}:${socket.remotePort}`;
      const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort ?? '?'}` : 'a client';
      options.log(`${peer}: TLS handshake failed: ${err.message.trim()}`);
      socket.destroy();
      // Destroying the TLS layer does not close the TCP socket it was started on: close that too, or it holds a connection slot.
      front.inHandshake.get(key)?.destroy();
    });
    return front;
  }

  /** Reads the files again; new connections use them, open ones keep theirs. Throws (keeping the old) if they are bad. */
  async reload(): Promise<void> {
    this.server.setSecureContext(await readTlsFiles(this.options.files));
  }

  /** Peeks at the first byte: TLS goes through the handshake, anything else to `plain` with the byte put back. */
  route(socket: Socket, plain: (socket: Socket) => void): void {
    const timer = setTimeout(() => socket.destroy(), this.options.handshakeTimeoutMs);
    const ignore = (): void => undefined; // a reset before the first byte must not crash the server
    socket.on('error', ignore);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_BYTE) {
        socket.allowHalfOpen = false; // see start()
        const key = `${socket.remoteAddress}:${socket.remotePort}`;
        this.inHandshake.set(key, socket);
        socket.once('close', () => this.inHandshake.delete(key));
        this.server.emit('connection', socket);
      } else {
        socket.off('error', ignore);
        plain(socket);
        socket.resume(); // paused above; the session's 'data' listener alone would not restart the flow
      }
    });
  }
}
