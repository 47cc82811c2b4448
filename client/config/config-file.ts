/**
 * `--config cameras.yaml`: a site's server and cameras in one file. Every key
 * is checked (a typo fails at once, naming the key) and errors name the file
 * and the path inside it, e.g. "cameras.yaml: cameras[3].max_width: ...".
 *
 *   server: gpu-box:7878
 *   stall_timeout: 10
 *   out: /var/lib/crowdline
 *   record: { format: mp4, segment_seconds: 600, keep_segments: 144 }
 *   tls: { ca: /etc/crowdline/ca.pem }             # optional: cert and key for mutual TLS
 *   auth: { token_file: /etc/crowdline/token }    # optional: never the token itself
 *   cameras:
 *     - name: entrance
 *       url: rtsp://user:pass@10.0.0.21:554/stream1
 *       fps: 5
 *       max_width: 960
 *       options: { rtsp_transport: tcp }
 *       zones: false                                # optional: do not ask the server for its zones
 *       lines: false                                # optional: do not ask the server for its counting lines
 *       input_policy: tiled                         # optional: fixed, native or tiled (v1.3; the server's site file may override)
 */
import { UsageError } from '../../src/common/usage-error.js';
import { readYamlFile } from '../../src/common/read-yaml-file.js';
import { nameCameras, type CameraSpec } from './cameras.js';

export type RecordFormat = 'avi' | 'mp4';

export interface RecordSettings {
  format?: RecordFormat;
  segmentSeconds?: number;
  keepSegments?: number;
}

/** Files only: secrets are never written into the config itself. */
export interface SecuritySettings {
  tls?: { ca?: string; cert?: string; key?: string };
  tokenFile?: string;
}

export interface ClientConfig {
  server?: string;
  security: SecuritySettings;
  stallTimeoutS?: number;
  out?: string;
  record: RecordSettings;
  cameras: CameraSpec[];
}

type Obj = Record<string, unknown>;

export function loadConfig(file: string): ClientConfig {
  const doc = readYamlFile(file);
  return parseConfig(doc, file);
}

export function parseConfig(doc: unknown, file: string): ClientConfig {
  const at = (where: string): string => `--config ${file}: ${where}`;
  const top = object(doc, at('the top level'));
  allowOnly(top, ['server', 'stall_timeout', 'out', 'record', 'tls', 'auth', 'cameras'], at);
  const tls = optional(top.tls, (v) => object(v, at('tls')));
  if (tls) allowOnly(tls, ['ca', 'cert', 'key'], (k) => at(`tls.${k}`));
  const auth = optional(top.auth, (v) => object(v, at('auth')));
  if (auth) allowOnly(auth, ['token_file'], (k) => at(`auth.${k}`));
  const record = top.record === undefined ? {} : object(top.record, at('record'));
  allowOnly(record, ['format', 'segment_seconds', 'keep_segments'], (k) => at(`record.${k}`));
  const format = optional(record.format, (v) => oneOf(v, ['avi', 'mp4'] as const, at('record.format')));
  const camerasDoc = top.cameras;
  if (!Array.isArray(camerasDoc) || camerasDoc.length === 0) throw new UsageError(at('cameras: expected a list of cameras (name, url, ...)'));
  const entries = camerasDoc.map((c: unknown, i) => {
    const where = `cameras[${i}]`;
    const cam = object(c, at(where));
    allowOnly(cam, ['name', 'url', 'fps', 'max_width', 'options', 'zones', 'lines', 'input_policy'], (k) => at(`${where}.${k}`));
    const options = optional(cam.options, (v) => stringMap(v, at(`${where}.options`)));
    const zones = optional(cam.zones, (v) => boolean(v, at(`${where}.zones`)));
    const lines = optional(cam.lines, (v) => boolean(v, at(`${where}.lines`)));
    const inputPolicy = optional(cam.input_policy, (v) => oneOf(v, ['fixed', 'native', 'tiled'] as const, at(`${where}.input_policy`)));
    return {
      where: at(where),
      name: string(cam.name, at(`${where}.name`)),
      source: string(cam.url, at(`${where}.url`)),
      fps: optional(cam.fps, (v) => positive(v, at(`${where}.fps`))),
      maxWidth: optional(cam.max_width, (v) => positive(v, at(`${where}.max_width`), true)),
      inputOptions: options,
      ...(zones === undefined ? {} : { zones }),
      ...(lines === undefined ? {} : { lines }),
      ...(inputPolicy === undefined ? {} : { inputPolicy }),
    };
  });
  return {
    server: optional(top.server, (v) => (typeof v === 'number' ? String(v) : string(v, at('server')))),
    stallTimeoutS: optional(top.stall_timeout, (v) => positive(v, at('stall_timeout'))),
    out: optional(top.out, (v) => string(v, at('out'))),
    security: {
      tls: tls && {
        ca: optional(tls.ca, (v) => string(v, at('tls.ca'))),
        cert: optional(tls.cert, (v) => string(v, at('tls.cert'))),
        key: optional(tls.key, (v) => string(v, at('tls.key'))),
      },
      tokenFile: optional(auth?.token_file, (v) => string(v, at('auth.token_file'))),
    },
    record: {
      format,
      segmentSeconds: optional(record.segment_seconds, (v) => positive(v, at('record.segment_seconds'))),
      keepSegments: optional(record.keep_segments, (v) => positive(v, at('record.keep_segments'), true)),
    },
    cameras: nameCameras(entries),
  };
}

function object(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${where}: expected a mapping of keys to values`);
  return v as Obj;
}

function allowOnly(o: Obj, keys: readonly string[], at: (key: string) => string): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) throw new UsageError(at(`${key}: unknown key (expected ${keys.join(', ')})`));
  }
}

function optional<T>(v: unknown, parse: (v: unknown) => T): T | undefined {
  return v === undefined || v === null ? undefined : parse(v);
}

function string(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`${where}: expected a non-empty string`);
  return v;
}

function boolean(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new UsageError(`${where}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function positive(v: unknown, where: string, integer = false): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new UsageError(`${where}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, choices: readonly T[], where: string): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new UsageError(`${where}: expected one of ${choices.join(', ')}`);
  return v as T;
}

function stringMap(v: unknown, where: string): Record<string, string> {
  const o = object(v, where);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(o)) {
    if (!/^[a-z][a-z0-9_]*$/i.test(k)) throw new UsageError(`${where}.${k}: not an ffmpeg option name`);
    if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`${where}.${k}: expected a string or number`);
    out[k] = String(value);
  }
  return out;
}
