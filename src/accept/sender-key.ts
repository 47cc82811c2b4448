/**
 * Who a connection sends for, as the fair queue's groups and the rate caps'
 * buckets key it: an authenticated identity (`identity:NAME`, the share
 * holder of its cameras) or one of its cameras (`identity:NAME/CAMERA`: its
 * rate caps, and the share of a camera that has one of its own;
 * sender-settings.ts says which), or, for a peer with no identity, its
 * address key: an IPv4 address as it is, an IPv6 address by its /64 (one
 * host or one customer network gets a /64, so its many addresses are one
 * sender), so more connections, or more addresses from one prefix, buy no
 * more. The per-address limits count by the same key.
 */
import { addressKey } from '../common/address-key.js';

export function identitySender(label: string): string {
  return `identity:${label}`;
}

/** An unauthenticated peer's sender: its address key (src/common/address-key.ts), as every per-address limit counts it. */
export function addressSender(host: string): string {
  return `address:${addressKey(host)}`;
}
