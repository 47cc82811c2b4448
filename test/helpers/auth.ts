/** Credentials files and raw exchanges for the authentication tests. */
import net from 'node:net';
import path from 'node:path';
import type { Registry } from 'prom-client';
import { parsePrometheus } from '../../bench/scrape.js';
import { addClient } from '../../src/auth/edit-credentials.js';
import { ClientSideParser, encodeLegacyFrame, LegacyReplyParser, type ServerMessage } from '../../src/framing/index.js';
import { tempDir } from './server.js';

export interface WrittenCredentials {
  file: string;
  tokens: Record<string, string>;
}

/** A credentials file (YAML) with one token identity per entry. */
export async function writeCredentials(clients: Array<{ name: string; cameras?: string[] }>, dir = tempDir('crowdline-auth-')): Promise<WrittenCredentials> {
  const file = path.join(dir, 'credentials.yaml');
  const tokens: Record<string, string> = {};
  for (const c of clients) tokens[c.name] = await addClient(file, c.name, c.cameras);
  return { file, tokens };
}

/** Writes `bytes` on a fresh plain connection and collects what the server says until it closes. */
export function exchange(port: number, bytes: Buffer, timeoutMs = 20_000): Promise<{ messages: ServerMessage[]; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const parser = new ClientSideParser();
    const messages: ServerMessage[] = [];
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server did not close within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      try {
        messages.push(...parser.push(c));
      } catch {
        // not v1 (legacy replies): the raw bytes are kept
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ messages, raw: Buffer.concat(chunks) });
    });
  });
}

/** Sends one legacy frame on a plain connection and resolves with the first legacy reply. */
export function legacyRoundTrip(port: number, jpeg: Uint8Array): Promise<ReturnType<LegacyReplyParser['push']>[number]> {
  const parser = new LegacyReplyParser();
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(encodeLegacyFrame(jpeg)));
    socket.on('data', (c: Buffer) => {
      const [reply] = parser.push(c);
      if (reply) {
        socket.destroy();
        resolve(reply);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before a legacy reply')));
  });
}

/** One sample as written in the exposition, e.g. `crowdline_auth_refusals_total{cause="bad-token"}` (0 when absent). */
export async function metricValue(registry: Registry, key: string): Promise<number> {
  return parsePrometheus(await registry.metrics()).get(key) ?? 0;
}
