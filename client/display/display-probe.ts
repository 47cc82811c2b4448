/**
 * Can this process open an OpenCV window? Qt aborts the whole process when it
 * cannot reach the display, so the check runs in a throwaway child process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadOpenCV } from '../opencv.js';

/**
 * Two clocks: loading OpenCV takes 1-2 s on an idle laptop but was measured at
 * 7-40 s on a 2-core machine at load 20, so the load gets a generous limit of
 * its own; once loaded, opening a window must not take long (Qt can hang on a
 * display that accepts the connection and never answers).
 */
const LOAD_TIMEOUT_MS = 120_000;
const WINDOW_TIMEOUT_MS = 15_000;
const LOADED = 'loaded\n';

/** Resolves with undefined when a window can be opened, else with the reason it cannot. */
export function whyNoDisplay(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return Promise.resolve('no display (DISPLAY is not set)');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--probe'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let timedOut: string | undefined;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killAfter = (ms: number, what: string): NodeJS.Timeout =>
      setTimeout(() => {
        timedOut = `${what} took over ${ms / 1000} s`;
        child.kill('SIGKILL');
      }, ms);
    let timer = killAfter(LOAD_TIMEOUT_MS, 'loading OpenCV');
    child.stdout.on('data', (chunk: Buffer) => {
      const before = stdout;
      stdout += chunk.toString();
      if (!before.includes(LOADED) && stdout.includes(LOADED)) {
        clearTimeout(timer);
        timer = killAfter(WINDOW_TIMEOUT_MS, 'opening a window');
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(`cannot run the display check: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(undefined);
      else {
        // Qt says the useful part first ("could not connect to display :0"), then pages of advice.
        const lines = stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('QStandardPaths'));
        const detail = timedOut ?? lines[0] ?? `exit ${code ?? signal}`;
        resolve(`cannot open a window on display ${env.DISPLAY ?? env.WAYLAND_DISPLAY} (${detail})`);
      }
    });
  });
}

if (process.argv[2] === '--probe' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const cv = await loadOpenCV();
  process.stdout.write(LOADED);
  cv.namedWindow('crowdline-probe', cv.WINDOW_AUTOSIZE);
  cv.imshow('crowdline-probe', new cv.Mat(8, 8, cv.CV_8UC3, [0, 0, 0]));
  cv.waitKey(1);
  cv.destroyAllWindows();
  cv.waitKey(1);
  process.exit(0);
}
