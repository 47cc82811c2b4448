/**
 * Issue 27: floods of HELLOs under --auth. Token checks (scrypt) run a few
 * at a time, in turn per address; one address may have only a few pending;
 * a check whose connection reset before it started never runs. A valid
 * camera from another address is admitted through the flood. Assertions are
 * counts (checks pending, started, refused), never times.
 */
import test from 'ava';
import { V1Connection } from '../client/connection/connection.js';
import { CheckSlots, type ReleaseSlot } from '../src/auth/check-slots.js';
import { AuthGate } from '../src/auth/gate.js';
import { Credentials } from '../src/auth/credentials.js';
import { FailureThrottle } from '../src/auth/throttle.js';
import { hashSecret, newToken } from '../src/auth/token.js';
import { encodeHello, ErrorCode, FrameStatus } from '../src/framing/index.js';
import { ClockRunner, clockFrame } from './helpers/clock-runner.js';
import { rawClient, type RawClient } from './helpers/raw-client.js';
import { runCli } from './helpers/cli.js';
import { startServerWithRunner } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

test('check slots: at most maxRunning at once, in turn per address; an address over its pending limit is busy; a waiter that left never starts', async (t) => {
  const slots = new CheckSlots({ maxRunning: 1, maxPerAddress: 3 });
  const order: string[] = [];
  const held: ReleaseSlot[] = [];
  const take = (address: string, tag: string, o: { gone?: AbortSignal; alive?: () => boolean } = {}): Promise<string> =>
    slots.acquire(address, o).then((slot) => {
      if (typeof slot === 'string') return slot;
      order.push(tag);
      held.push(slot);
      return 'ran';
    });
  const flood = [take('A', 'a1'), take('A', 'a2'), take('A', 'a3')];
  t.is(await take('A', 'a4'), 'busy', 'the fourth pending check from one address is refused at once');
  const left = new AbortController();
  const goneWaiter = take('C', 'c1', { gone: left.signal });
  const deadWaiter = take('D', 'd1', { alive: () => false });
  const camera = take('B', 'b1');
  await until(() => order.length === 1);
  t.deepEqual(order, ['a1']);
  left.abort();
  t.is(await goneWaiter, 'gone', 'a waiter whose connection closed leaves the queue');
  held.shift()?.();
  await until(() => order.length === 2);
  // D's turn came before B's (it asked first), but its connection was dead when the slot came: skipped, and B runs.
  t.deepEqual(order, ['a1', 'b1'], "the other address's check runs next, before the flood's second");
  t.is(await deadWaiter, 'gone');
  held.shift()?.();
  await until(() => order.length === 3);
  held.shift()?.();
  await until(() => order.length === 4);
  held.shift()?.();
  t.deepEqual(order, ['a1', 'b1', 'a2', 'a3']);
  t.deepEqual(await Promise.all([...flood, camera]), ['ran', 'ran', 'ran', 'ran']);
  t.like(slots.stats, { running: 0, waiting: 0, started: 4, abandoned: 2, refused: 1, peakPerAddress: 3 });
  t.is(await take('A', 'a5'), 'ran', 'pending counts are released');
});

async function authServer(t: Parameters<typeof startServerWithRunner>[0], limits: { maxRunning: number; maxPerAddress: number }) {
  const valid = newToken();
  const credentials = Credentials.parse(`clients:\n  - name: cam\n    key: "${valid.keyId}"\n    hash: "${await hashSecret(valid.secret)}"\n`, 'test');
  // No slow-down: the bound on checks must come from the slots alone.
  const throttle = new FailureThrottle({ freeFailures: 1_000_000 });
  const refusals: string[] = [];
  const gate = new AuthGate({
    credentials,
    clientCertificates: false,
    tlsRequired: false,
    legacy: { kind: 'deny' },
    throttle,
    checkLimits: limits,
    onRefused: (cause) => refusals.push(cause),
  });
  // Counts HELLOs that reached the gate, so the flood can reset right after the server has read them.
  let hellos = 0;
  const admit = gate.admitHello.bind(gate);
  gate.admitHello = (claim, socket, gone) => {
    hellos++;
    return admit(claim, socket, gone);
  };
  const runner = new ClockRunner(1);
  const { port, server } = await startServerWithRunner(t, runner, { gate });
  return { port, server, gate, token: valid.token, refusals, hellos: () => hellos };
}

/** A token of the right shape whose key id is unknown: it costs a full (decoy) scrypt check. */
const wrongToken = (): string => newToken().token;

test('a flood of HELLOs that reset at once from one address: few token checks run, and a valid camera from another address is admitted', async (t) => {
  const { port, server, gate, token, hellos } = await authServer(t, { maxRunning: 2, maxPerAddress: 4 });
  const BATCHES = 5;
  const BATCH = 20;
  const flood = (async () => {
    for (let batch = 0; batch < BATCHES; batch++) {
      const seen = hellos();
      const peers = await Promise.all(Array.from({ length: BATCH }, () => rawClient(port, { localAddress: '127.0.0.2' })));
      peers.forEach((c, i) =>
        c.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: `flood${batch}.${i}`, token: wrongToken() })),
      );
      // Reset once the server has read every HELLO of the batch (a reset that arrives with its HELLO discards it: no check at all).
      await until(() => hellos() >= seen + BATCH);
      for (const c of peers) c.socket.resetAndDestroy();
    }
  })();
  // The camera says HELLO while the flood's checks are pending: its check is taken in turn, not after the flood's.
  await until(() => hellos() >= BATCH);
  const camera = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'door', token, localAddress: '127.0.0.3', connectTimeoutMs: 60_000 });
  t.teardown(() => camera.destroy());
  const answer = new Promise<number>((resolve) => camera.once('result', (r) => resolve(r.status)));
  camera.send(clockFrame(1, 'door'));
  t.is(await answer, FrameStatus.Ok, 'the valid camera was admitted and served');
  await flood;
  // Once the server has seen every flood connection close, none of their checks waits, and at most the running ones finish.
  await until(() => server.connectionCount === 1);
  const after = gate.checks;
  t.is(after.waiting, 0);
  t.true(after.running <= 2);
  await until(() => gate.checks.running === 0);
  const stats = gate.checks;
  t.true(stats.peakPerAddress <= 4, `at most 4 checks pending from the flood's address (peak ${stats.peakPerAddress})`);
  // Before: every one of the 100 HELLOs paid a scrypt check, most after their connection had gone.
  // Now each batch gets at most 4 pending, and those still waiting when their connection resets never run.
  t.true(
    stats.started <= BATCHES * 4 + 1,
    `${stats.started} token checks ran for ${BATCHES * BATCH} HELLOs (+1 for the camera); ${stats.abandoned} abandoned, ${stats.refused} refused busy`,
  );
  t.true(stats.refused >= BATCHES * (BATCH - 4) - 4, 'the rest of each batch was refused busy at once');
});

test('HELLOs held open from one address: at most maxPerAddress checks pending, the rest answered "server full" (the client retries), a camera from another address admitted', async (t) => {
  const { port, gate, token, refusals } = await authServer(t, { maxRunning: 1, maxPerAddress: 3 });
  const peers: RawClient[] = await Promise.all(Array.from({ length: 12 }, () => rawClient(port, { localAddress: '127.0.0.4' })));
  t.teardown(() => peers.forEach((p) => p.socket.destroy()));
  peers.forEach((p, i) =>
    p.socket.write(encodeHello({ version: 1, densityFormat: 0, countOnly: false, window: 1, cameraName: `hold${i}`, token: wrongToken() })),
  );
  const camera = await V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'door', token, localAddress: '127.0.0.5', connectTimeoutMs: 60_000 });
  t.teardown(() => camera.destroy());
  await Promise.all(peers.map((p) => p.closed));
  const codes = peers.map((p) => p.messages.find((m) => m.type === 'error')).map((m) => (m?.type === 'error' ? m.code : undefined));
  t.true(
    codes.every((c) => c === ErrorCode.Unauthorized || c === ErrorCode.ServerFull),
    `every flood HELLO is refused: a wrong token, or busy (${codes.join(',')})`,
  );
  const busy = codes.filter((c) => c === ErrorCode.ServerFull).length;
  t.is(refusals.filter((r) => r === 'checks-per-ip').length, busy, 'counted in crowdline_auth_refusals_total{cause="checks-per-ip"}');
  t.is(gate.checks.refused, busy);
  t.true(gate.checks.peakPerAddress <= 3);
  t.is(gate.checks.started, 12 - busy + 1, 'each HELLO not refused busy was checked once; the camera once');
  const busyReply = peers.map((p) => p.messages.find((m) => m.type === 'error' && m.code === ErrorCode.ServerFull)).find((m) => m !== undefined);
  if (busyReply?.type === 'error') t.regex(busyReply.reason, /too many authentications in progress from your address \(at most 3 at once\); retry shortly/);
});

test('crowdline serve: the check limits are options, positive whole numbers', async (t) => {
  for (const flag of ['--max-auth-checks', '--max-auth-checks-per-ip']) {
    const run = await runCli(['serve', '--port', '0', flag, '0']);
    t.not(run.code, 0, flag);
    t.regex(run.stderr, new RegExp(`${flag} must be a positive whole number`), flag);
  }
  const ok = await runCli(['serve', '--dry-run', '--max-auth-checks-per-ip', '16']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^max-auth-checks-per-ip: 16 {2}# command line$/m);
  t.regex(ok.stdout, /^max-auth-checks: 2 {2}# default$/m);
});
