/**
 * The credentials file (`--auth FILE`, YAML or JSON: JSON is valid YAML):
 *
 *   clients:
 *     - name: station-north          # identity: labels logs and metrics
 *       key: 3f9a0c12                # key id, the token's public part
 *       hash: scrypt:16384:8:1:...   # the token's secret, hashed; never the token
 *       cameras: [north-1, north-2]  # optional: camera names it may use
 *       weight: 2                    # optional: share of the workers, all its cameras together (default 1)
 *       priority: 1                  # optional: class served first (default 0)
 *       max_fps: 15                  # optional: frame-rate cap per camera (default --max-fps; 0: none)
 *       max_pixel_rate: 62208000     # optional: pixel-rate cap per camera (default --max-pixel-rate; 0: none)
 *     - name: pi-gate                # no key/hash: a client-certificate (mTLS) identity,
 *       cameras: [gate]              # listed only to restrict its cameras
 *     - name: control-room           # role: viewer or admin signs in to the console (no frames);
 *       role: viewer                 # absent: camera (files written before roles mean cameras)
 *       key: 0b1c2d3e
 *       hash: scrypt:16384:8:1:...
 */
import { readFile } from 'node:fs/promises';
import { isScalar, parseDocument } from 'yaml';
import { MAX_FPS, MAX_PRIORITY, MAX_WEIGHT, MIN_PRIORITY, MIN_WEIGHT } from '../common/sender-share.js';
import { parseStoredHash } from './token.js';

/** camera: sends frames (the frames port); viewer: watches the console; admin: also changes settings there. */
export const ROLES = ['camera', 'viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface ClientEntry {
  name: string;
  role: Role;
  keyId?: string;
  hash?: ReturnType<typeof parseStoredHash>;
  /** Undefined: any camera name. */
  cameras?: ReadonlySet<string>;
  /** Share of worker time against other senders of its class, all its cameras together (default 1; sender-settings.ts). */
  weight?: number;
  /** Class: a higher one is served first, like Triton's priority levels (default 0). */
  priority?: number;
  /** Frames per second per camera of this identity (default: the server's --max-fps; 0: no cap). */
  maxFps?: number;
  /** Decoded pixels per second per camera (default: the server's --max-pixel-rate; 0: no cap). */
  maxPixelRate?: number;
}

// The bounds of weights, classes and caps are the site file's too (src/common/sender-share.ts).
export { MAX_FPS, MAX_PRIORITY, MAX_WEIGHT, MIN_PRIORITY, MIN_WEIGHT } from '../common/sender-share.js';

/** Identities become metric labels and log prefixes: keep them plain. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEY_ID_PATTERN = /^[0-9a-f]{8}$/;

/** The file as stored (also what `crowdline auth add` writes). */
export interface StoredClient {
  name: string;
  /** Absent: camera (the only kind before roles existed). */
  role?: Role;
  key?: string;
  hash?: string;
  cameras?: string[];
  weight?: number;
  priority?: number;
  max_fps?: number;
  max_pixel_rate?: number;
}

export interface CredentialsFile {
  clients: StoredClient[];
}

export class Credentials {
  private readonly byKey = new Map<string, ClientEntry>();
  private readonly byIdentity = new Map<string, ClientEntry>();

  private constructor(entries: ClientEntry[]) {
    for (const e of entries) {
      if (this.byIdentity.has(e.name)) throw new Error(`client "${e.name}" is listed twice`);
      this.byIdentity.set(e.name, e);
      if (e.keyId) {
        if (this.byKey.has(e.keyId)) throw new Error(`key id ${e.keyId} is used twice`);
        this.byKey.set(e.keyId, e);
      }
    }
  }

  static async load(file: string): Promise<Credentials> {
    return Credentials.parse(await readFile(file, 'utf8'), file);
  }

  static parse(text: string, source: string): Credentials {
    try {
      return new Credentials(readStored(text).clients.map(toEntry));
    } catch (err) {
      throw new Error(`credentials ${source}: ${(err as Error).message}`);
    }
  }

  get size(): number {
    return this.byIdentity.size;
  }

  withKey(keyId: string): ClientEntry | undefined {
    return this.byKey.get(keyId);
  }

  named(name: string): ClientEntry | undefined {
    return this.byIdentity.get(name);
  }

  /** Identities that may sign in to the console (viewer or admin role, with a token). */
  get consoleIdentities(): number {
    let n = 0;
    for (const e of this.byIdentity.values()) if (e.role !== 'camera' && e.hash) n++;
    return n;
  }
}

/** Parses and shape-checks the file; used for loading and for editing it. */
export function readStored(text: string): CredentialsFile {
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0) throw parsed.errors[0];
  const doc: unknown = text.trim() === '' ? { clients: [] } : parsed.toJS();
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { clients?: unknown }).clients)) {
    throw new Error('expected a top-level "clients:" list');
  }
  const clients = (doc as { clients: unknown[] }).clients.map((raw, i): StoredClient => {
    if (typeof raw !== 'object' || raw === null) throw new Error(`clients[${i}] is not a mapping`);
    const c = raw as Record<string, unknown>;
    const str = (key: string): string | undefined => {
      const v = c[key];
      if (v === undefined || v === null) return undefined;
      return typeof v === 'string' ? v : digitsOrThrow(parsed.getIn(['clients', i, key], true), `clients[${i}].${key}`);
    };
    let cameras = c.cameras;
    if (cameras !== undefined) {
      if (!Array.isArray(cameras)) throw new Error(`clients[${i}].cameras must be a list of names`);
      cameras = cameras.map((x: unknown, j) =>
        typeof x === 'string' ? x : digitsOrThrow(parsed.getIn(['clients', i, 'cameras', j], true), `clients[${i}].cameras[${j}]`),
      );
    }
    const num = (key: string): number | undefined => {
      const v = c[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`clients[${i}].${key} must be a number`);
      return v;
    };
    const role = str('role');
    if (role !== undefined && !isRole(role)) throw new Error(`clients[${i}].role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    const stored: StoredClient = {
      name: str('name') ?? '',
      key: str('key'),
      hash: str('hash'),
      cameras: cameras as string[] | undefined,
      weight: num('weight'),
      priority: num('priority'),
    };
    // Only where set: `crowdline auth add` writes entries back, and absent keys stay absent.
    const maxFps = num('max_fps');
    const maxPixelRate = num('max_pixel_rate');
    if (maxFps !== undefined) stored.max_fps = maxFps;
    if (maxPixelRate !== undefined) stored.max_pixel_rate = maxPixelRate;
    if (role !== undefined) stored.role = role;
    return stored;
  });
  return { clients };
}

/**
 * A string field that YAML read as something else. An unquoted key id, name or camera of plain digits
 * (`key: 12345678`, `cameras: [1042]`) is a number to YAML; it is taken as the digits written, leading
 * zeros kept. Anything else (1.5, 1e3, true, a list) is refused, saying to quote it.
 */
function digitsOrThrow(node: unknown, where: string): string {
  if (isScalar(node) && typeof node.value === 'number' && Number.isSafeInteger(node.value) && typeof node.source === 'string' && /^[0-9]+$/.test(node.source)) {
    return node.source;
  }
  const written = isScalar(node) && typeof node.source === 'string' ? ` (${node.source} was read as ${typeof node.value})` : '';
  throw new Error(`${where} must be a string${written}: put it in quotes`);
}

function toEntry(c: StoredClient, i: number): ClientEntry {
  if (!NAME_PATTERN.test(c.name)) throw new Error(`clients[${i}].name "${c.name}" must be 1-64 of A-Z a-z 0-9 . _ - (it labels metrics)`);
  if ((c.key === undefined) !== (c.hash === undefined)) throw new Error(`client "${c.name}": give both key and hash, or neither (certificate identity)`);
  if (c.key !== undefined && !KEY_ID_PATTERN.test(c.key)) throw new Error(`client "${c.name}": key must be 8 hex digits`);
  let hash: ClientEntry['hash'];
  try {
    hash = c.hash === undefined ? undefined : parseStoredHash(c.hash);
  } catch (err) {
    throw new Error(`client "${c.name}": ${(err as Error).message}`);
  }
  if (c.weight !== undefined && !(c.weight >= MIN_WEIGHT && c.weight <= MAX_WEIGHT)) {
    throw new Error(`client "${c.name}": weight must be between ${MIN_WEIGHT} and ${MAX_WEIGHT}, got ${c.weight}`);
  }
  if (c.priority !== undefined && !(Number.isInteger(c.priority) && c.priority >= MIN_PRIORITY && c.priority <= MAX_PRIORITY)) {
    throw new Error(`client "${c.name}": priority must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${c.priority}`);
  }
  if (c.max_fps !== undefined && !(c.max_fps >= 0 && c.max_fps <= MAX_FPS)) {
    throw new Error(`client "${c.name}": max_fps must be frames per second from 0 (no cap) to ${MAX_FPS}, got ${c.max_fps}`);
  }
  if (c.max_pixel_rate !== undefined && !(Number.isInteger(c.max_pixel_rate) && c.max_pixel_rate >= 0)) {
    throw new Error(`client "${c.name}": max_pixel_rate must be a whole number of pixels per second, 0 for no cap, got ${c.max_pixel_rate}`);
  }
  const role = c.role ?? 'camera';
  if (role !== 'camera' && c.cameras) throw new Error(`client "${c.name}": cameras: applies to camera identities only (this one is ${role})`);
  return {
    name: c.name,
    role,
    keyId: c.key,
    hash,
    cameras: c.cameras ? new Set(c.cameras) : undefined,
    weight: c.weight,
    priority: c.priority,
    maxFps: c.max_fps,
    maxPixelRate: c.max_pixel_rate,
  };
}
