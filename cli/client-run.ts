/** Shared by `client` and `demo`: argv -> runClient, prints the summary, picks the exit status. Loaded lazily (needs OpenCV). */
import { whyNoDisplay } from '../client/display/display-probe.js';
import type { ClientReport } from '../client/run/options.js';
import { runClient } from '../client/run/run-client.js';
import { DENSITY_FORMAT_NAMES } from '../src/framing/index.js';
import type { ClientArgv } from './client-argv.js';
import type { ClientSetup } from './client-setup.js';

/** Exit statuses (documented in `crowdline client --help` and client/README.md). */
export const EXIT = {
  ok: 0,
  /** A source failed for good, or a live camera never gave a frame: this wins over stoppedEmpty. */
  sourceFailed: 1,
  usage: 2,
  /** Stopped (signal, window, abort) before the server answered any frame, no source having failed. */
  stoppedEmpty: 3,
} as const;

/** A failed source names a cause (1) and wins; 3 is left for runs where every source worked but nothing was answered. */
export function exitCodeFor(report: Pick<ClientReport, 'failedSources' | 'answered' | 'stoppedBy'>): number {
  if (report.failedSources > 0) return EXIT.sourceFailed;
  if (report.stoppedBy && report.answered === 0) return EXIT.stoppedEmpty;
  return EXIT.ok;
}

/** Runs the client to the end; returns the process exit code. */
export async function runClientFromArgv(argv: Omit<ClientArgv, 'server' | 'source'>, setup: ClientSetup): Promise<number> {
  if (argv.display) {
    const why = await whyNoDisplay();
    if (why) throw new Error(`${why}; run headless with --no-display --out DIR`);
  }
  const report = await runClient({
    host: setup.host,
    port: setup.port,
    cameras: setup.cameras,
    display: argv.display,
    outDir: setup.outDir,
    record: setup.record,
    stallTimeoutMs: setup.stallTimeoutMs,
    jpegQuality: argv['jpeg-quality'],
    maxWidth: argv['max-width'],
    window: argv.window,
    fps: argv.fps,
    maxFrames: argv['max-frames'],
    live: argv.live,
    densityFormat: DENSITY_FORMAT_NAMES[argv['density-format']],
    security: setup.security,
    zones: argv.zones,
    lines: argv.lines,
  });
  process.stdout.write(report.text + '\n');
  return exitCodeFor(report);
}
