/**
 * Camera names and what each camera reads. A name is the camera's identity
 * everywhere (file names, CSV rows, window tiles, the server's metrics via
 * HELLO), so it comes from the user (`--source entrance=rtsp://...`, or the
 * config file) or from the source itself, never from its position: reordering
 * sources must not rename anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isValidName, NAME_RULE } from '../../src/common/camera-name.js';
import type { InputPolicyName } from '../../src/framing/index.js';
import { UsageError } from '../../src/common/usage-error.js';
import { parseSource } from '../capture/sources.js';

export interface CameraSpec {
  name: string;
  /** Camera index, stream URL, video file or image folder. */
  source: string;
  /** Per camera; undefined: the command-line default. */
  fps?: number;
  maxWidth?: number;
  /** Extra ffmpeg input options for a live camera, e.g. { rtsp_transport: 'tcp' }. */
  inputOptions?: Record<string, string>;
  /** false: do not ask the server for this camera's zones (v1.2); undefined: the client-wide setting. */
  zones?: boolean;
  /** false: do not ask the server for this camera's counting lines (v1.4); undefined: the client-wide setting. */
  lines?: boolean;
  /** v1.3: the input-size policy to ask the server for (the server's site file may override it); undefined: the server's default. */
  inputPolicy?: InputPolicyName;
}

/** NAME=SOURCE: anything before the first "=" that cannot be part of a path is a name (checked by checkCameraName). */
const NAMED_SOURCE = /^([^=/\\]+)=(.+)$/s;

/** Throws a UsageError unless `name` follows the rule the server's site file uses too (src/common/camera-name.ts). */
export function checkCameraName(name: string, where: string): void {
  if (!isValidName(name)) throw new UsageError(`${where}: camera name "${name}" must be ${NAME_RULE}`);
}

/** Throws a UsageError when a source is a URL that does not parse (caught now, not retried forever). */
export function checkSourceSyntax(source: string, where: string): void {
  if (parseSource(source).kind !== 'stream') return;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new UsageError(`${where}: "${redactUrl(source)}" is not a valid URL`);
  }
  if (url.protocol !== 'file:' && url.hostname === '') throw new UsageError(`${where}: "${redactUrl(source)}" has no host`);
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) throw new UsageError(`${where}: "${redactUrl(source)}" has a bad port`);
}

/** `NAME=SOURCE` or a bare SOURCE (a path that exists is always a bare source, even with '=' in it). */
export function parseSourceArg(text: string): { name?: string; source: string } {
  const m = NAMED_SOURCE.exec(text);
  if (!m || fs.existsSync(text)) return { source: text };
  return { name: m[1], source: m[2] };
}

/** A default name from the source itself: dev0, 10_0_0_5, vtest, ... */
export function defaultCameraName(source: string): string {
  const spec = parseSource(source);
  let base: string;
  if (spec.kind === 'camera') base = `dev${source}`;
  else if (spec.kind === 'stream') base = source.replace(/^[a-z0-9+.-]+:\/\/(?:[^@/]*@)?/i, '').split(/[/:?]/)[0];
  else base = path.basename(path.resolve(source)).replace(/\.[^.]*$/, '');
  // Characters a name may not hold become '_'; letters of any script stay.
  return (
    base
      .replace(/[^\p{L}\p{M}\p{Nd}_.-]+/gu, '_')
      .replace(/^[^\p{L}\p{Nd}]+/u, '')
      .slice(0, 48) || 'camera'
  );
}

/**
 * Names every camera. Given names must be unique; default names that clash
 * get -2, -3... in order (name such cameras to keep them stable).
 */
export function nameCameras(entries: ReadonlyArray<Omit<CameraSpec, 'name'> & { name?: string; where: string }>): CameraSpec[] {
  const taken = new Map<string, string>();
  for (const e of entries) {
    if (e.name === undefined) continue;
    checkCameraName(e.name, e.where);
    const earlier = taken.get(e.name);
    if (earlier) throw new UsageError(`${e.where}: camera name "${e.name}" is already used by ${earlier}`);
    taken.set(e.name, e.where);
  }
  return entries.map(({ where, ...e }) => {
    checkSourceSyntax(e.source, where);
    let name = e.name;
    if (name === undefined) {
      const base = defaultCameraName(e.source);
      name = base;
      for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
      taken.set(name, where);
    }
    return { ...e, name };
  });
}

/** The URL with any password replaced, for logs and summaries. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
