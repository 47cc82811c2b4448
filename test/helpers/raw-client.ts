/** A raw TCP peer that records every v1 server message until the server closes. */
import net from 'node:net';
import { ClientSideParser, type ServerMessage } from '../../src/framing/index.js';

export interface RawClient {
  socket: net.Socket;
  messages: ServerMessage[];
  closed: Promise<void>;
}

/** Connects to 127.0.0.1:port, optionally from another loopback address (127.0.0.2 ...). */
export function rawClient(port: number, options: { localAddress?: string; read?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress, noDelay: true });
    const parser = new ClientSideParser();
    const messages: ServerMessage[] = [];
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    if (options.read === false) socket.pause();
    else
      socket.on('data', (c: Buffer) => {
        try {
          messages.push(...parser.push(c));
        } catch {
          socket.destroy();
        }
      });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, messages, closed }));
    socket.once('error', reject);
  });
}
