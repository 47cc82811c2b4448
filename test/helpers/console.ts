/**
 * For the console tests: cameras that stream JPEG files over protocol v1
 * and keep every RESULT by frame number (so the page can be checked against
 * what the camera got for the same frame), the sample video as JPEG frames,
 * a server with the console on, and Debian's Chromium driven by
 * playwright-core (the tests skip only when /usr/bin/chromium is missing).
 */
import fs from 'node:fs';
import type { ExecutionContext } from 'ava';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { StartServerOptions, RunningServer } from '../../src/app/start-server.js';
import { startServer } from '../../src/app/start-server.js';
import { DEFAULT_CONSOLE_LIMITS, DEFAULT_CONSOLE_SETTINGS, type ConsoleSettings } from '../../src/console/options.js';

export { FileCamera, sampleFrames } from '../../bench/file-camera.js';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = fs.existsSync(CHROMIUM);

export function consoleSettings(overrides: Partial<ConsoleSettings> = {}, limits: Partial<ConsoleSettings['limits']> = {}): ConsoleSettings {
  return { ...DEFAULT_CONSOLE_SETTINGS, port: 0, staleAfterMs: 2_000, ...overrides, limits: { ...DEFAULT_CONSOLE_LIMITS, ...limits } };
}

/** A real server (the given model, CPU, one worker) with the console on any free port. */
export async function startConsoleServer(
  t: ExecutionContext,
  options: {
    modelPath: string;
    console?: ConsoleSettings;
    sitePath?: string;
    security?: StartServerOptions['security'];
    log?: StartServerOptions['log'];
    /** History on (with a site file): where and how; absent: none. */
    history?: StartServerOptions['history'];
  },
): Promise<RunningServer & { console: NonNullable<RunningServer['console']> }> {
  const running = await startServer({
    modelPath: options.modelPath,
    device: 'cpu',
    workers: 1,
    intraOpThreads: 1,
    maxBatch: 1,
    maxBatchDelayMs: 0,
    server: { host: '127.0.0.1', port: 0 },
    log: options.log ?? (() => undefined),
    sitePath: options.sitePath,
    security: options.security,
    console: { settings: options.console ?? consoleSettings() },
    history: options.history,
  });
  t.teardown(() => running.close());
  if (!running.console) throw new Error('the console did not start');
  return running as RunningServer & { console: NonNullable<RunningServer['console']> };
}

/** Debian's Chromium, headless, closed after the test. */
export async function launchChromium(t: ExecutionContext): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());
  return browser;
}

export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(url);
  return { context, page, errors };
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
