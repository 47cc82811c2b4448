/**
 * The server's log: pino, one JSON object per line when stderr is not a
 * terminal (journald, Kubernetes, files: filter with jq), a short
 * human-readable line when it is. Modules log through LogSink, a plain
 * function, so they need not know pino (and tests can collect lines).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { escapeUnsafeJson, peerText } from './peer-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

/**
 * Structured fields of a line. `event` names the kind of line (connection-opened,
 * worker-ready, totals...) so it can be filtered; `level` defaults to info.
 */
export interface LogFields {
  level?: LogLevel;
  event?: string;
  [field: string]: unknown;
}

/** Where log lines go: the message a person reads, and fields a program filters on. */
export type LogSink = (message: string, fields?: LogFields) => void;

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Default process.stderr; its isTTY decides the `auto` format. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
}

export interface ServerLogger {
  log: LogSink;
  /** The format chosen (auto resolved). */
  format: 'json' | 'pretty';
  pino: Logger;
}

const LEVEL_LABEL: Record<string, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every JSON line carries; the pretty form shows them in its own way (or not at all). */
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'event']);
const PLAIN_VALUE = /^[\w.:/@+,=%-]{1,200}$/;

function prettyValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return PLAIN_VALUE.test(value) ? value : peerText(value, 200);
  return peerText(JSON.stringify(value) ?? String(value), 200);
}

/** The message already says it (a whole word or number of it): no need to repeat it as a field. */
/** A record's msg as text: pino's is a string; anything else is shown as JSON rather than "[object Object]". */
function messageText(msg: unknown): string {
  if (msg === undefined || msg === null) return '';
  return typeof msg === 'string' ? msg : prettyValue(msg);
}

function inMessage(message: string, value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  const text = String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.length > 0 && new RegExp(`(^|[^\\w.])${text}($|[^\\w.])`).test(message);
}

/**
 * One pino JSON line as a person reads it:
 * `2026-11-25T22:10:06.123Z INFO  10.0.0.5:50312 camera="door": connection closed (peer closed) after 120 frame(s)  protocol=v1 duration_ms=60123`.
 * Fields the message already shows are left out. Strings a peer chose are escaped (peerText), so a camera name cannot paint the terminal.
 */
export function formatPretty(jsonLine: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }
  const time = typeof record.time === 'string' ? record.time : new Date(Number(record.time ?? Date.now())).toISOString();
  const level = typeof record.level === 'string' ? record.level.toUpperCase() : (LEVEL_LABEL[String(record.level)] ?? String(record.level));
  const fields = Object.entries(record)
    .filter(([key, value]) => !SHOWN_ELSEWHERE.has(key) && value !== undefined && !inMessage(messageText(record.msg), value))
    .map(([key, value]) => `${key}=${prettyValue(value)}`);
  return `${time} ${level.padEnd(5)} ${messageText(record.msg)}${fields.length ? `  ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination that writes each line in the pretty form. */
function prettyDestination(stream: DestinationStream): DestinationStream {
  return { write: (line: string) => void stream.write(formatPretty(line)) };
}

function resolveFormat(format: LogFormat, stream: { isTTY?: boolean }): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return stream.isTTY ? 'pretty' : 'json';
}

export function createLogger(options: LoggerOptions = {}): ServerLogger {
  const stream = options.stream ?? process.stderr;
  const format = resolveFormat(options.format ?? 'auto', stream);
  // Synchronous writes to stderr: lines written just before process.exit() are not lost.
  const out: DestinationStream = stream === process.stderr ? pino.destination({ fd: 2, sync: true }) : { write: (line: string) => void stream.write(line) };
  const destination: DestinationStream = format === 'pretty' ? prettyDestination(out) : { write: (line: string) => out.write(escapeUnsafeJson(line)) };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log: LogSink = (message, fields) => {
    if (!fields) {
      logger.info(message);
      return;
    }
    const { level = 'info', ...rest } = fields;
    logger[level](rest, message);
  };
  return { log, format, pino: logger };
}
