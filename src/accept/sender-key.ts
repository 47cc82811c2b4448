/**
 * Who a connection sends for, as the fair queue's groups and the rate caps'
 * buckets key it: an authenticated identity's camera (`identity:NAME/CAMERA`,
 * as the credentials file grants it), or, for a peer with no identity, its
 * address: an IPv4 address as it is, an IPv6 address by its /64 (one host
 * or one customer network gets a /64, so its many addresses are one sender),
 * so more connections, or more addresses from one prefix, buy no more.
 */
import { isIPv6 } from 'node:net';

export function identitySender(label: string): string {
  return `identity:${label}`;
}

export function addressSender(host: string): string {
  return `address:${addressPrefix(host)}`;
}

/** An IPv4 address as it is; an IPv6 one as its /64 (`2001:db8:1:2::/64`); anything else as it is. */
export function addressPrefix(host: string): string {
  if (!isIPv6(host)) return host;
  const zone = host.indexOf('%');
  const bare = zone >= 0 ? host.slice(0, zone) : host;
  const groups = expandIPv6(bare);
  if (!groups) return host;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part counts as two). */
function expandIPv6(address: string): number[] | undefined {
  const halves = address.split('::');
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
