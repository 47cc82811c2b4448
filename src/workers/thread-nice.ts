/**
 * Worker threads below the main thread. On a CPU server the inference
 * workers (and ONNX Runtime's intra-op threads) and the decode threads
 * compete with the main thread for the same cores; the main thread's work
 * (accept, socket reads, framing, replies, the health probes) is small and
 * latency-critical, theirs is bulk. Each of them raises its own nice value
 * at its start, before it creates its ONNX Runtime session, so the threads
 * it creates inherit it (native/thread-nice.c); the main thread and libuv's
 * threadpool (token checks, file reads) keep the process's priority. The
 * value is relative: a service started at Nice=5 runs its workers at
 * 5 + this, at most 19.
 */
import { nativeAddon, nativeResizeStatus } from './native-resize.js';

/** Nice added to the worker and decode threads by default (--worker-nice); 0 leaves them at the main thread's priority. */
export const DEFAULT_WORKER_NICE = 10;
/** What --worker-nice may be: Linux's nice values run from -20 to 19, and a thread may only lower its own priority. */
export const WORKER_NICE_RANGE = { min: 0, max: 19 } as const;

/** Adds 0-19 to the calling thread's nice; its nice before and after. */
export type LowerThreadPriority = (increment: number) => { before: number; after: number };

/** The addon's call, or why there is none here. */
export function threadPriorityCall(): LowerThreadPriority | string {
  if (process.platform !== 'linux') return `per-thread priorities are Linux's (this is ${process.platform})`;
  const fn = nativeAddon()?.lowerThreadPriority;
  if (fn) return fn;
  return nativeAddon() ? 'the native addon was built before thread priorities (npm run build:native)' : `the native addon is ${nativeResizeStatus()}`;
}

export function checkWorkerNice(value: number): void {
  if (!Number.isInteger(value) || value < WORKER_NICE_RANGE.min || value > WORKER_NICE_RANGE.max) {
    throw new RangeError(`worker nice must be a whole number from ${WORKER_NICE_RANGE.min} (off) to ${WORKER_NICE_RANGE.max}, got ${value}`);
  }
}

export interface WorkerNicePlan {
  /** What each worker and decode thread adds to its nice at start: the option, or 0 where it cannot be applied here. */
  increment: number;
  /** Nice of the main thread (the process's); undefined where it could not be read. */
  mainNice?: number;
  /** Nice the workers will have (clamped at 19). */
  workerNice?: number;
  /** One line for the log: what the workers will run at, or why they stay where they are. */
  line: string;
  applied: boolean;
}

/**
 * On the main thread, before any worker starts: whether its workers can
 * lower their priority here, and to what. Asks the kernel once with an
 * increment of 0 (changes nothing), so a host where it is refused (no
 * addon, not Linux, a seccomp filter) says so once, here, and the workers
 * do nothing.
 */
export function planWorkerNice(requested: number, lower: LowerThreadPriority | string = threadPriorityCall()): WorkerNicePlan {
  checkWorkerNice(requested);
  if (requested === 0) return { increment: 0, line: "worker threads at the main thread's priority (--worker-nice 0)", applied: false };
  if (typeof lower === 'string')
    return { increment: 0, line: `worker threads at the main thread's priority, --worker-nice ${requested} not applied: ${lower}`, applied: false };
  let mainNice: number;
  try {
    mainNice = lower(0).after;
  } catch (err) {
    return {
      increment: 0,
      line: `worker threads at the main thread's priority, --worker-nice ${requested} not applied: ${(err as Error).message}`,
      applied: false,
    };
  }
  const workerNice = Math.min(WORKER_NICE_RANGE.max, mainNice + requested);
  const clamped = workerNice < mainNice + requested ? ` (clamped: ${WORKER_NICE_RANGE.max} is the lowest priority)` : '';
  return {
    increment: requested,
    mainNice,
    workerNice,
    line: `worker threads at nice ${workerNice}: the process's ${mainNice} + --worker-nice ${requested}${clamped}; the main thread stays at ${mainNice}`,
    applied: true,
  };
}

/**
 * In a worker or decode thread, first thing, before it creates its ONNX
 * Runtime session: lowers this thread (and every thread it creates from
 * now on) by `increment`. Returns what went wrong, for the caller to log;
 * undefined when done (or when there was nothing to do).
 */
export function lowerThisThread(increment: number, lower: LowerThreadPriority | string = threadPriorityCall()): string | undefined {
  if (increment === 0) return undefined;
  if (typeof lower === 'string') return `priority not lowered: ${lower}`;
  try {
    lower(increment);
    return undefined;
  } catch (err) {
    return `priority not lowered: ${(err as Error).message}`;
  }
}
