/** How numbers and times read on the page. */

/** People counts: one decimal (density estimates are fractional; whole numbers would hide a change). */
export function people(value: number): string {
  return value.toFixed(1);
}

/** A net flow with its sign (+2.0, -1.5), so which way it went reads at a glance. */
export function signedPeople(n: number): string {
  const text = people(Math.abs(n));
  return text === people(0) ? text : `${n > 0 ? '+' : '-'}${text}`;
}

export function clock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "12 s", "4 min", "2 h 5 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function cameraHref(name: string): string {
  return `#/camera/${encodeURIComponent(name)}`;
}

/** What a failed request or load says to the operator: the error's own message, not "ApiError: ..." from String(). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
