/** Runs the built `crowdline` CLI in a child process, without a display. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/app/paths.js';

export const CLI = path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  /** The signal that ended the process, when one did (code is null then). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The test's environment without a display and without the developer's own CROWDLINE_* settings, plus `extra`.
 * State (the history a demo or serve keeps by default) goes to a fresh folder, never the developer's own.
 */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDLINE_') && k !== 'STATE_DIRECTORY'));
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  env.XDG_STATE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'crowdline-cli-state-'));
  return { ...env, ...extra };
}

export function runCli(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crowdline ${args[0]} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    // 'close', not 'exit': the pipes may still hold output when the process has exited.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

/** The small server most process tests start: the model given, any free port, one CPU worker on one thread. */
export function oneWorkerServeArgs(modelPath: string, port = 0): string[] {
  return ['--model', modelPath, '--port', String(port), '--device', 'cpu', '--workers', '1', '--intra-op-threads', '1'];
}

/**
 * `crowdline serve ARGS` in a child process (so it can really be killed); resolves once it listens.
 * `env`, when given, is the child's whole environment (default: the test's own).
 */
/**
 * `serve` args that leave the console off unless they choose console options:
 * the console listens on a fixed port (127.0.0.1:7880) by default, and test
 * processes running side by side would contend for it.
 */
export function withoutConsole(args: readonly string[]): string[] {
  return args.some((a) => /^--(no-)?console(\b|-|=)/.test(a)) ? [...args] : [...args, '--no-console'];
}

export function startServeProcess(
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', ...withoutConsole(args)], {
    env: options.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${log}`)), 30_000);
    child.stderr.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), log: () => log });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${log}`)));
  });
}

/** Waits until `pattern` occurs `times` times in the server log. */
export function waitForLog(log: () => string, pattern: RegExp, times = 1, timeoutMs = 20_000): Promise<void> {
  const global = new RegExp(pattern.source, 'g');
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = (): void => {
      if ((log().match(global)?.length ?? 0) >= times) resolve();
      else if (Date.now() > deadline) reject(new Error(`no ${pattern} in the log:\n${log()}`));
      else setTimeout(poll, 50);
    };
    poll();
  });
}

/** `crowdline ARGS` running in a child process, its output watched as it runs; killed when the test ends. */
export class RunningCli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(t: ExecutionContext, args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    t.teardown(() => this.child.kill('SIGKILL'));
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Resolves once `ready()` holds (polled), or fails after a generous minute naming `what`. */
  async until(what: string, ready: () => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves once stderr matches. */
  untilLog(pattern: RegExp): Promise<void> {
    return this.until(String(pattern), () => pattern.test(this.stderr));
  }
}
