/** Who a connection sends for: the key of its fair-queue group and rate-cap bucket (src/accept/sender-key.ts). */
import test from 'ava';
import { addressSender, identitySender } from '../src/accept/sender-key.js';
import { addressKey as addressPrefix } from '../src/common/address-key.js';

test('an IPv4 address is its own sender; an IPv6 one is grouped by its /64', (t) => {
  t.is(addressSender('10.0.0.5'), 'address:10.0.0.5');
  t.is(addressPrefix('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  // Every spelling of one /64 is one sender; the next /64 is another.
  t.is(addressPrefix('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  t.is(addressPrefix('2001:0db8:0001:0002:ffff::'), '2001:db8:1:2::/64');
  t.is(addressPrefix('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  t.is(addressPrefix('::1'), '0:0:0:0::/64');
  t.is(addressPrefix('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.is(addressPrefix('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
  t.is(addressPrefix('not an address'), 'not an address');
  // The key per-address limits count by: an IPv4-mapped peer is its IPv4 address, not ::/64.
  t.is(addressSender('::ffff:10.0.0.5'), 'address:10.0.0.5');
  t.is(addressSender('2001:db8::1'), addressSender('2001:db8::ffff'));
  t.is(identitySender('station-north/north-1'), 'identity:station-north/north-1');
});
