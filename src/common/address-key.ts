/**
 * The one key every per-address limit counts a peer under (connections,
 * handshakes, token checks, the failure throttle, the metrics port) and the
 * one an unauthenticated sender's fair share and rate caps are kept under:
 *
 *   an IPv4 address as it is; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
 *   as a dual-stack socket reports IPv4 peers) as that IPv4 address; any
 *   other IPv6 address as its /64 (`2001:db8:1:2::/64`).
 *
 * One host or one customer line is given a whole /64 (2^64 addresses), so a
 * limit counted per full IPv6 address would bind no one. A leaf module: the
 * accept, auth and metrics layers all key by it.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The key of `address` (idempotent: a key is its own key); anything that is not an IP address is kept as it is. */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  const mapped = mappedIPv4(groups);
  if (mapped !== undefined) return mapped;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The address as logs name a peer: an IPv4-mapped IPv6 address as its IPv4 address, anything else as it is. */
export function plainAddress(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  return (groups && mappedIPv4(groups)) ?? address;
}

/** `a.b.c.d` when the groups are `::ffff:a.b.c.d`. */
function mappedIPv4(groups: readonly number[]): string | undefined {
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return undefined;
  if (groups[5] !== 0xffff) return undefined;
  const v4 = `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  return isIPv4(v4) ? v4 : undefined;
}

/** The eight 16-bit groups of an IPv6 address (a zone id dropped; a trailing dotted IPv4 part counts as two), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const octets = piece.split('.').map(Number);
        if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return undefined;
        out.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
      } else out.push(Number.parseInt(piece, 16));
    }
    return out.some((n) => !(n >= 0 && n <= 0xffff)) ? undefined : out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}

/**
 * How many of something each address key holds (connections, handshakes in
 * progress): a limit per address reads count() before it admits, and add()
 * and remove() are given the peer's raw address, keyed here.
 */
export class AddressCounts {
  private readonly counts = new Map<string, number>();

  /** What the key of `address` holds now. */
  count(address: string): number {
    return this.counts.get(addressKey(address)) ?? 0;
  }

  add(address: string): void {
    const key = addressKey(address);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  remove(address: string): void {
    const key = addressKey(address);
    const left = (this.counts.get(key) ?? 1) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }

  /** Keys holding anything (a bounded table: one entry per key with something held). */
  get size(): number {
    return this.counts.size;
  }
}
