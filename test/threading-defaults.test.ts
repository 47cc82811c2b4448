/** Decode threads and sessions: the defaults derived from the core count and the device. */
import test from 'ava';
import { defaultThreading } from '../src/workers/pool.js';

test('CPU: one single-threaded session per core, each decoding its own frames', (t) => {
  t.deepEqual(defaultThreading('cpu', 16), { workers: 16, intraOpThreads: 1, decodeThreads: 0 });
  t.deepEqual(defaultThreading('auto', 2), { workers: 2, intraOpThreads: 1, decodeThreads: 0 });
  t.deepEqual(defaultThreading('cpu', 1), { workers: 1, intraOpThreads: 1, decodeThreads: 0 });
});

test('CUDA: two sessions, decode on every core but two (at least one)', (t) => {
  t.deepEqual(defaultThreading('cuda', 16), { workers: 2, intraOpThreads: 1, decodeThreads: 14 });
  t.deepEqual(defaultThreading('cuda', 64), { workers: 2, intraOpThreads: 1, decodeThreads: 62 });
  t.is(defaultThreading('cuda', 2).decodeThreads, 1);
  t.is(defaultThreading('cuda', 1).decodeThreads, 1);
});
