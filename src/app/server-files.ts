/**
 * Every file a server start reads, read and checked in one place before
 * anything listens or loads: credentials (--auth), the TLS certificate, key
 * and client CA, the site file, the MQTT password and CA files, and the
 * folder of --events-file. The start uses what this returns, and `serve
 * --dry-run` calls the same function, so a file that would fail the start
 * fails the dry run with the same message. A bad file is a configuration
 * error (UsageError: exit status 2, which systemd does not restart into).
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type tls from 'node:tls';
import { Credentials } from '../auth/credentials.js';
import type { SecurityOptions } from '../auth/security.js';
import { UsageError } from '../common/usage-error.js';
import { secureContextOptions } from '../tls/tls-front.js';
import { loadSiteFile, type SiteConfig } from '../zones/site-file.js';

export interface SecurityFiles {
  credentials?: Credentials;
  tls?: tls.SecureContextOptions;
}

export interface ZoneFiles {
  site: SiteConfig;
  mqttPassword?: string;
  mqttCa?: Buffer;
}

export interface ServerFiles {
  security: SecurityFiles;
  /** Present with a site file. */
  zones?: ZoneFiles;
}

/** The files among the zone event options (ZoneEventOptions in zones-setup.ts has these and more). */
export interface ZoneFileOptions {
  mqtt?: { passwordFile?: string; caFile?: string };
  eventsFile?: string;
}

export interface ServerFileOptions {
  security?: SecurityOptions;
  sitePath?: string;
  zoneEvents?: ZoneFileOptions;
}

/**
 * Runs one file option's reader; a failure becomes a UsageError naming the
 * option and file: `--site /etc/site.yaml: cannot read it (ENOENT)`, or the
 * reader's own words (which name the file already, so that is not repeated).
 */
async function fileOption<T>(option: string, file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.syscall !== undefined && e.code !== undefined
        ? `cannot read it (${e.code})`
        : e.message.replace(new RegExp(`^(?:[\\w ]+ )?${escapeRegExp(file)}: `), '');
    throw new UsageError(`--${option} ${file}: ${reason}`);
  }
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function readSecurityFiles(security: SecurityOptions): Promise<SecurityFiles> {
  const { authFile, tls: tlsFiles } = security;
  const credentials = authFile === undefined ? undefined : await fileOption('auth', authFile, () => Credentials.load(authFile));
  if (tlsFiles === undefined) return { credentials };
  const clientCa = tlsFiles.clientCa;
  const pem = {
    cert: await fileOption('tls-cert', tlsFiles.cert, () => readFile(tlsFiles.cert)),
    key: await fileOption('tls-key', tlsFiles.key, () => readFile(tlsFiles.key)),
    ca: clientCa === undefined ? undefined : await fileOption('tls-client-ca', clientCa, () => readFile(clientCa)),
  };
  return { credentials, tls: await fileOption('tls-cert', tlsFiles.cert, async () => secureContextOptions(tlsFiles, pem)) };
}

export async function readZoneFiles(sitePath: string, events: ZoneFileOptions = {}): Promise<ZoneFiles> {
  const site = await fileOption('site', sitePath, () => loadSiteFile(sitePath));
  const mqtt = events.mqtt;
  const passwordFile = mqtt?.passwordFile;
  const caFile = mqtt?.caFile;
  const mqttPassword =
    passwordFile === undefined
      ? undefined
      : await fileOption('mqtt-password-file', passwordFile, async () => (await readFile(passwordFile, 'utf8')).replace(/\r?\n$/, ''));
  const mqttCa = caFile === undefined ? undefined : await fileOption('mqtt-ca', caFile, () => readFile(caFile));
  const eventsFile = events.eventsFile;
  if (eventsFile !== undefined && eventsFile !== '-') await fileOption('events-file', eventsFile, () => checkAppendable(eventsFile));
  return { site, mqttPassword, mqttCa };
}

export async function readServerFiles(options: ServerFileOptions): Promise<ServerFiles> {
  const security = await readSecurityFiles(options.security ?? {});
  const zones = options.sitePath === undefined ? undefined : await readZoneFiles(options.sitePath, options.zoneEvents);
  return { security, zones };
}

/** The events file can be appended to: it exists and is writable, or its folder is. Nothing is created. */
async function checkAppendable(file: string): Promise<void> {
  const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);
  try {
    await access(file, constants.W_OK);
    return;
  } catch (err) {
    if (code(err) !== 'ENOENT') throw new Error(`cannot append to it (${code(err)})`);
  }
  const dir = path.dirname(path.resolve(file));
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new Error(`cannot create it in ${dir} (${code(err)})`);
  }
}
