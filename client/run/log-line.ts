/** The client's log lines start with the time, ISO 8601 in UTC like the server's (pino) lines: `2026-12-07T05:10:00.123Z door: ...`. */
export function stampLine(message: string, now: Date = new Date()): string {
  return `${now.toISOString()} ${message}`;
}
