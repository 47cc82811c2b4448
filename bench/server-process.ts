/**
 * Starts `crowdline serve` as a child process, so the server's event loop
 * and CPU time are its own, not shared with the load generator. Readiness
 * comes from its /readyz; its metrics endpoint is how the bench sees inside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';

export interface ChildServerOptions {
  model: string;
  device: string;
  workers?: number;
  intraOpThreads?: number;
  decodeThreads?: number;
  inputSize?: string;
  maxBatch: number;
  maxBatchDelayMs: number;
  overload: 'queue' | 'drop-oldest';
  window: number;
  readyTimeoutMs?: number;
  /** --drain-delay-ms; default 0: a bench has no balancer to wait for, so stop() is not slowed by the drain. */
  drainDelayMs?: number;
  /** More `crowdline serve` arguments (limits for the fuzzer and the soak, --tls-cert/--tls-key...). */
  extraArgs?: string[];
  /** The CLI to start (default: this build's dist/cli/main.js); another build's, to compare builds. */
  mainJs?: string;
  /**
   * Start it in a session of its own (setsid), as a service manager does: with the kernel's
   * autogroups (or a service's cgroup) the server is then a scheduling group of its own, and
   * the bench's load generators on this machine weigh on it as a whole, as remote peers' would
   * not at all, instead of competing with its threads one by one. Default false.
   */
  ownSession?: boolean;
}

export interface ChildServer {
  host: string;
  port: number;
  metricsPort: number;
  metricsUrl: string;
  /** How the process ended (e.g. "SIGSEGV", "exit 1"), or undefined while it runs. */
  exitStatus(): string | undefined;
  /** The last lines it wrote to stderr. */
  stderrTail(): string[];
  /** How many lines it has written to stderr (its log) so far. */
  stderrLineCount(): number;
  /** Graceful stop (SIGTERM), then SIGKILL if it hangs. */
  stop(): Promise<void>;
  /** Sends a signal and returns at once (the scale-out test's SIGTERM and SIGKILL). */
  signal(name: NodeJS.Signals): void;
  /** Resolves with exitStatus() once the process has ended. */
  exited: Promise<string>;
  /** CPU seconds (user + system) its main thread has used so far, from /proc (Linux); undefined elsewhere or once it ended. */
  mainThreadCpuSeconds(): number | undefined;
  /** Seconds its main thread has spent runnable but waiting for a core so far (/proc schedstat, Linux); undefined elsewhere or once it ended. */
  mainThreadWaitSeconds(): number | undefined;
}

const MAIN_JS = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const HOST = '127.0.0.1';

/** The attack and fairness benches' server: the CPU model, one frame per batch, queueing, a window of 4. */
export const CPU_BENCH_SERVER = {
  model: DEFAULT_MODEL_PATH,
  device: 'cpu',
  maxBatch: 1,
  maxBatchDelayMs: 2,
  overload: 'queue',
  window: 4,
} as const satisfies Partial<ChildServerOptions>;

export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [
    options.mainJs ?? MAIN_JS,
    'serve',
    '--host',
    HOST,
    '--port',
    String(port),
    '--metrics-port',
    String(metricsPort),
    '--model',
    options.model,
    '--device',
    options.device,
    '--max-batch',
    String(options.maxBatch),
    '--max-batch-delay-ms',
    String(options.maxBatchDelayMs),
    '--overload',
    options.overload,
    '--window',
    String(options.window),
    '--drain-delay-ms',
    String(options.drainDelayMs ?? 0),
  ];
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  if (options.intraOpThreads !== undefined) args.push('--intra-op-threads', String(options.intraOpThreads));
  if (options.decodeThreads !== undefined) args.push('--decode-threads', String(options.decodeThreads));
  if (options.inputSize) args.push('--input-size', options.inputSize);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownSession === true });
  const tail: string[] = [];
  let lines = 0;
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    const added = text.split('\n').filter(Boolean);
    lines += added.length;
    tail.push(...added);
    tail.splice(0, Math.max(0, tail.length - 40));
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  const metricsBase = `http://${HOST}:${metricsPort}`;
  try {
    await waitReady(child, `${metricsBase}/readyz`, options.readyTimeoutMs ?? 120_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- server stderr ---\n${tail.join('\n')}`);
  }
  return {
    host: HOST,
    port,
    metricsPort,
    metricsUrl: `${metricsBase}/metrics`,
    exitStatus: () => (child.signalCode ? child.signalCode : child.exitCode !== null ? `exit ${child.exitCode}` : undefined),
    stderrTail: () => [...tail],
    stderrLineCount: () => lines,
    stop: () => stopChild(child),
    signal: (name) => void child.kill(name),
    exited,
    mainThreadCpuSeconds: () => (child.pid === undefined ? undefined : threadCpuSeconds(child.pid, child.pid)),
    mainThreadWaitSeconds: () => (child.pid === undefined ? undefined : threadWaitSeconds(child.pid, child.pid)),
  };
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux ABI Node supports). */
const USER_HZ = 100;

/** utime + stime of thread `tid` of process `pid` (the main thread's tid is the pid). */
function threadCpuSeconds(pid: number, tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces), from field 3 (state): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** Time thread `tid` of process `pid` has spent on a run queue waiting for a CPU: /proc/PID/task/TID/schedstat's second field, in ns. */
function threadWaitSeconds(pid: number, tid: number): number | undefined {
  try {
    const waitNs = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
    return Number.isFinite(waitNs) ? waitNs / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

async function waitReady(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port free right now on localhost (the child binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
