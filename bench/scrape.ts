/**
 * Reads the server's Prometheus text (only what the bench needs: plain
 * samples and histogram buckets) and turns two scrapes into window figures.
 */

/** `name{labels}` -> value, exactly as written in the exposition. */
export type Samples = Map<string, number>;

export function parsePrometheus(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    const value = Number(line.slice(space + 1));
    if (!Number.isNaN(value) || line.endsWith('NaN')) samples.set(line.slice(0, space), value);
  }
  return samples;
}

export async function scrape(url: string, timeoutMs = 2_000): Promise<Samples> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return parsePrometheus(await res.text());
}

export function sample(samples: Samples, key: string): number | undefined {
  return samples.get(key);
}

/** Cumulative bucket counts of histogram `name` (le -> count), +Inf last. */
function buckets(samples: Samples, name: string): Array<{ le: number; count: number }> {
  const out: Array<{ le: number; count: number }> = [];
  const prefix = `${name}_bucket{le="`;
  for (const [key, value] of samples) {
    if (!key.startsWith(prefix)) continue;
    const le = key.slice(prefix.length, key.indexOf('"', prefix.length));
    out.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: value });
  }
  return out.sort((a, b) => a.le - b.le);
}

/**
 * Quantile of the observations made between two scrapes, interpolated
 * inside a bucket the way Prometheus' histogram_quantile does.
 */
export function windowQuantile(before: Samples, after: Samples, name: string, q: number): { value: number; samples: number } | null {
  const end = buckets(after, name);
  if (end.length === 0) return null;
  const startCounts = new Map(buckets(before, name).map((b) => [b.le, b.count]));
  const diff = end.map((b) => ({ le: b.le, count: b.count - (startCounts.get(b.le) ?? 0) }));
  const total = diff[diff.length - 1].count;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of diff) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return { value: prevLe, samples: total };
      const inBucket = b.count - prevCount;
      const value = inBucket > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket : b.le;
      return { value, samples: total };
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return { value: prevLe, samples: total };
}

/** Mean of a histogram's observations between two scrapes. */
export function windowMean(before: Samples, after: Samples, name: string): number | null {
  const count = (after.get(`${name}_count`) ?? 0) - (before.get(`${name}_count`) ?? 0);
  const sum = (after.get(`${name}_sum`) ?? 0) - (before.get(`${name}_sum`) ?? 0);
  return count > 0 ? sum / count : null;
}
