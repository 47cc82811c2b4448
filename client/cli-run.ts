/** Shared by `client` and `demo`: argv -> runClient, prints the summary. Loaded lazily (needs OpenCV). */
import { whyNoDisplay } from './display-probe.js';
import { runClient } from './run-client.js';
import { DENSITY_FORMAT_NAMES } from '../src/framing/index.js';
import type { ClientArgv } from '../src/cli/client-command.js';
import type { ClientSecurity } from './connection.js';

/** Runs the client to the end; returns the process exit code. */
export async function runClientFromArgv(argv: Omit<ClientArgv, 'server' | 'source'>, host: string, port: number, sources: string[], security?: ClientSecurity): Promise<number> {
  if (argv.display) {
    const why = await whyNoDisplay();
    if (why) throw new Error(`${why}; run headless with --no-display --out DIR`);
  }
  const report = await runClient({
    host,
    port,
    sources,
    display: argv.display,
    outDir: argv.out,
    jpegQuality: argv['jpeg-quality'],
    maxWidth: argv['max-width'],
    window: argv.window,
    fps: argv.fps,
    maxFrames: argv['max-frames'],
    live: argv.live,
    densityFormat: DENSITY_FORMAT_NAMES[argv['density-format']],
    security,
  });
  process.stdout.write(report.text + '\n');
  return report.failedSources > 0 ? 1 : 0;
}
