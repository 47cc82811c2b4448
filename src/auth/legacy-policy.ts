/** `--legacy allow | deny | allow-from CIDR,...`: who may speak the unauthenticated legacy protocol. */
import { AddressList } from './address-list.js';

export type LegacyPolicy = { kind: 'allow' } | { kind: 'deny' } | { kind: 'allow-from'; from: AddressList };

export function parseLegacyPolicy(words: readonly string[]): LegacyPolicy {
  const [kind, ranges, ...rest] = words;
  if (rest.length === 0) {
    if ((kind === 'allow' || kind === 'deny') && ranges === undefined) return { kind };
    if (kind === 'allow-from' && ranges !== undefined) return { kind, from: AddressList.parse(ranges) };
  }
  throw new Error(`--legacy takes "allow", "deny" or "allow-from CIDR,...", got "${words.join(' ')}"`);
}

export function describeLegacyPolicy(policy: LegacyPolicy): string {
  return policy.kind === 'allow-from' ? `allowed from ${policy.from.ranges.join(', ')}` : policy.kind === 'allow' ? 'allowed from anywhere' : 'refused';
}
