/**
 * Every per-address limit counts a peer by one key (src/common/address-key.ts):
 * an IPv4 address, an IPv6 address's /64, an IPv4-mapped address as IPv4.
 * Only loopback is reachable in tests, so the /64 grouping is proven on the
 * key and on the limit objects fed injected addresses, and one real-socket
 * test runs over ::1.
 */
import net from 'node:net';
import os from 'node:os';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { V1Connection } from '../client/connection/connection.js';
import { AddressCounts, addressKey, plainAddress } from '../src/common/address-key.js';
import { CheckSlots } from '../src/auth/check-slots.js';
import type { ServerCloseReason } from '../src/accept/observer.js';
import { CrowdServer } from '../src/accept/server.js';
import { FailureThrottle } from '../src/auth/throttle.js';
import { FakeRunner } from './helpers/fake-runner.js';
import { NO_RATE_CAPS, startServerWithRunner } from './helpers/server.js';

/** One of the many ways to write the eight groups: full or compressed, padded or not, either case. */
function spell(groups: readonly number[], style: { compress: boolean; pad: boolean; upper: boolean }): string {
  const hex = groups.map((g) => {
    const h = g.toString(16);
    return style.pad ? h.padStart(4, '0') : h;
  });
  let text = hex.join(':');
  if (style.compress) {
    // The longest run of zero groups (any length >= 1) becomes '::'.
    let best = { at: -1, len: 0 };
    for (let i = 0; i < 8; ) {
      if (groups[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > best.len) best = { at: i, len: j - i };
      i = j;
    }
    if (best.len > 0) text = `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
  }
  return style.upper ? text.toUpperCase() : text;
}

const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(group, { minLength: 8, maxLength: 8 });
const style = fc.record({ compress: fc.boolean(), pad: fc.boolean(), upper: fc.boolean() });
/** ::ffff:0:0/96 is IPv4's, keyed as IPv4, not as a /64. */
const isMapped = (g: readonly number[]): boolean => g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;

test('property: two addresses in one /64 share a key, however each is written', (t) => {
  fc.assert(
    fc.property(groups, groups, style, style, (a, b, sa, sb) => {
      const same = [...a.slice(0, 4), ...b.slice(4)];
      fc.pre(!isMapped(a) && !isMapped(same));
      const ka = addressKey(spell(a, sa));
      return ka === addressKey(spell(same, sb)) && ka.endsWith('::/64') && addressKey(ka) === ka;
    }),
  );
  t.pass();
});

test('property: addresses in different /64s never share a key', (t) => {
  fc.assert(
    fc.property(groups, groups, style, style, (a, b, sa, sb) => {
      fc.pre(a.slice(0, 4).some((x, i) => x !== b[i]));
      fc.pre(!isMapped(a) && !isMapped(b));
      return addressKey(spell(a, sa)) !== addressKey(spell(b, sb));
    }),
  );
  t.pass();
});

test('property: ::ffff:a.b.c.d is a.b.c.d, dotted or in hex; an IPv4 address is its own key', (t) => {
  const octet = fc.integer({ min: 0, max: 255 });
  fc.assert(
    fc.property(octet, octet, octet, octet, style, (a, b, c, d, s) => {
      const v4 = `${a}.${b}.${c}.${d}`;
      const hex = spell([0, 0, 0, 0, 0, 0xffff, (a << 8) | b, (c << 8) | d], s);
      return (
        addressKey(`::ffff:${v4}`) === v4 &&
        addressKey(`::FFFF:${v4}`) === v4 &&
        addressKey(hex) === v4 &&
        addressKey(v4) === v4 &&
        plainAddress(`::ffff:${v4}`) === v4
      );
    }),
  );
  t.pass();
});

test('the key of some spellings, and of what is not an address', (t) => {
  t.is(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:0db8:0001:0002:ffff::'), '2001:db8:1:2::/64');
  t.is(addressKey('::1'), '0:0:0:0::/64');
  t.is(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.is(addressKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
  t.is(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  t.is(plainAddress('2001:db8::1'), '2001:db8::1');
  t.is(addressKey('not an address'), 'not an address');
});

/** 2001:db8::1 ... 2001:db8::ffff: 65,535 addresses of one /64. */
const oneSlash64 = Array.from({ length: 0xffff }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);

test('per-address connection counts: 65,535 addresses of one /64 reach a limit of 32 as one address; another /64 and IPv4 are untouched', (t) => {
  const counts = new AddressCounts();
  const limit = 32;
  let admitted = 0;
  for (const address of oneSlash64) {
    if (counts.count(address) >= limit) continue;
    counts.add(address);
    admitted++;
  }
  t.is(admitted, limit);
  t.is(counts.count('2001:db8::ffff'), limit);
  t.is(counts.count('2001:db8:0:1::1'), 0, 'the next /64 holds nothing');
  t.is(counts.size, 1);
  counts.add('2001:db8:0:1::1');
  counts.add('::ffff:192.0.2.7');
  t.is(counts.count('192.0.2.7'), 1, 'an IPv4-mapped peer is its IPv4 address');
  for (const address of oneSlash64.slice(0, limit)) counts.remove(address);
  t.is(counts.count('2001:db8::1'), 0, 'released by any address of the /64');
  t.is(counts.size, 2);
});

/** A socket the server takes as accepted from `address` (only loopback is reachable: the address is injected). */
function acceptFrom(server: CrowdServer, address: string, port: number): net.Socket {
  const socket = new net.Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: address });
  Object.defineProperty(socket, 'remotePort', { value: port });
  socket.on('error', () => undefined);
  (server as unknown as { server: net.Server }).server.emit('connection', socket);
  return socket;
}

function injectedServer(t: ExecutionContext, options: { maxConnectionsPerIp?: number; maxHandshakesPerIp?: number; holdInHandshake?: boolean }) {
  const ended = new Map<ServerCloseReason, number>();
  const sockets: net.Socket[] = [];
  const server = new CrowdServer({
    runner: new FakeRunner(1, 0),
    model: () => ({ name: 'fake', provider: 'test', inputWidth: 64, inputHeight: 48, outputStride: 8 }),
    options: { ...NO_RATE_CAPS, maxConnections: 100_000, maxHandshakes: 100_000, ...options },
    observer: { connectionEnded: (why) => ended.set(why, (ended.get(why) ?? 0) + 1) },
    log: () => undefined,
    // Held in its "handshake" for good: a TLS peer that never finishes.
    route: options.holdInHandshake ? () => undefined : undefined,
  });
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await server.close();
  });
  return { server, ended, accept: (address: string, port: number) => sockets.push(acceptFrom(server, address, port)) };
}

test("the server's per-address connection limit, fed 2001:db8::1 ... ::1000: the /64 gets 32 connections in all; another /64 and an IPv4-mapped peer are unaffected", async (t) => {
  const { server, ended, accept } = injectedServer(t, { maxConnectionsPerIp: 32 });
  const fed = oneSlash64.slice(0, 4096);
  fed.forEach((address, i) => accept(address, 1024 + i));
  t.is(server.connectionCount, 32);
  t.is(ended.get('refused-per-ip'), fed.length - 32);
  accept('2001:db8:0:1::1', 5000);
  accept('::ffff:192.0.2.1', 5000);
  t.is(server.connectionCount, 34);
  t.is(ended.get('refused-per-ip'), fed.length - 32);
});

test("the server's per-address handshake limit, fed addresses of one /64 that never finish their handshake: 8 held in all; another /64 still gets a slot", async (t) => {
  const { ended, accept } = injectedServer(t, { maxConnectionsPerIp: 100_000, maxHandshakesPerIp: 8, holdInHandshake: true });
  for (const [i, address] of oneSlash64.slice(0, 100).entries()) accept(address, 40_000 + i);
  t.is(ended.get('refused-handshakes'), 92);
  accept('2001:db8:0:1::1', 40_000);
  t.is(ended.get('refused-handshakes'), 92, 'the next /64 is not refused');
});

test('token-check slots: checks pending from many addresses of one /64 count as one address; another /64 still gets a check', async (t) => {
  const slots = new CheckSlots({ maxRunning: 1, maxPerAddress: 8 });
  const granted: string[] = [];
  const request = (address: string): Promise<unknown> =>
    slots.acquire(address).then((slot) => {
      if (typeof slot !== 'function') return slot;
      granted.push(address);
      // Held a turn, then given back: the next waiter is started.
      setImmediate(slot);
      return 'ran';
    });
  const taken = oneSlash64.slice(0, 9).map(request);
  t.is(await taken[8], 'busy', 'the ninth address of the /64 is over the limit of 8');
  const other = request('2001:db8:0:1::5');
  t.deepEqual(await Promise.all([...taken.slice(0, 8), other]), Array(9).fill('ran'));
  // In turn per key: the other /64 ran second, not behind the first /64's 8 checks.
  t.deepEqual(granted.slice(0, 2), ['2001:db8::1', '2001:db8:0:1::5']);
  t.is(slots.stats.refused, 1);
  t.is(slots.stats.peakPerAddress, 8);
});

test('failure throttle: failed tokens from different addresses of one /64 slow down the whole /64, not the next one', (t) => {
  const throttle = new FailureThrottle({ freeFailures: 3, firstDelayMs: 250 });
  for (const address of oneSlash64.slice(0, 5)) throttle.failed(address);
  t.is(throttle.delayMs('2001:db8::beef'), 1000, 'five failures: 250 ms doubled twice, for any address of the /64');
  t.is(throttle.delayMs('2001:db8:0:1::1'), 0);
  throttle.failed('::ffff:198.51.100.1');
  throttle.failed('198.51.100.1');
  throttle.failed('198.51.100.1');
  throttle.failed('::ffff:198.51.100.1');
  t.is(throttle.delayMs('198.51.100.1'), 500, 'four failures, two of them IPv4-mapped, count for the one IPv4 address');
  throttle.succeeded('2001:db8::77');
  t.is(throttle.delayMs('2001:db8::1'), 1000, "another host's success in the /64 does not clear its guessers' failures");
  throttle.succeeded(oneSlash64[0]);
  t.is(throttle.delayMs('2001:db8::1'), 1000, 'nor does the success of one of the hosts that failed, while others failed too');
  const lone = new FailureThrottle({ freeFailures: 3, firstDelayMs: 250 });
  for (let i = 0; i < 5; i++) lone.failed('2001:db8:0:2::5');
  lone.succeeded('2001:db8:0:2::5');
  t.is(lone.delayMs('2001:db8:0:2::5'), 0, 'a camera that mistyped its secret and then got it right starts clean');
});

/** The machine has ::1 (tests are declared synchronously, so the interfaces say, not a probe). */
const ipv6Loopback = Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.internal && i.family === 'IPv6' && i.address === '::1'));

(ipv6Loopback ? test : test.skip)(
  'over ::1: the per-address connection limit counts the IPv6 peer by its /64; an IPv4 peer of the same dual-stack server is its own address',
  async (t) => {
    const { port } = await startServerWithRunner(t, new FakeRunner(1, 0), { server: { host: '::', maxConnectionsPerIp: 2 } });
    const open: V1Connection[] = [];
    t.teardown(() => {
      for (const c of open) c.destroy();
    });
    for (let i = 0; i < 2; i++) open.push(await V1Connection.connect({ host: '::1', port, cameraName: `v6-${i}` }));
    await t.throwsAsync(V1Connection.connect({ host: '::1', port, cameraName: 'v6-third' }), {
      message: /too many connections from your address \(2 allowed per address\)/,
    });
    // 127.0.0.1 arrives as ::ffff:127.0.0.1 on the dual-stack socket: its key is 127.0.0.1, not ::/64's.
    open.push(await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'v4' }));
    t.is(open.length, 3);
  },
);
