import fs from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_MODEL_PATH, MODEL_OPTION_HELP, SAMPLE_SITE, SAMPLE_VIDEO, SAMPLE_VIDEO_FPS, modelPath } from '../src/app/paths.js';
import type { ClientArgv } from './client-argv.js';
import { withClientOptions } from './client-command.js';
import { requireSiteForZoneEvents } from './server-options.js';
import { UsageError } from '../src/common/usage-error.js';
import { DEFAULT_CONSOLE_SETTINGS, type ConsoleVideo } from '../src/console/options.js';
import { defaultStateDir } from '../src/app/history-setup.js';

/** How long the server may take to shut down after the demo's video ended. */
const DEMO_EXIT_GRACE_MS = 20_000;

interface DemoArgv extends Omit<ClientArgv, 'server' | 'source' | 'display' | 'config' | 'stall-timeout'> {
  source: string[];
  model: string;
  display?: boolean;
  site?: string;
  'mqtt-url'?: string;
  'events-file'?: string;
  console: boolean;
  'console-port': number;
  'console-video': ConsoleVideo;
  history: 'on' | 'off';
  'history-dir'?: string;
}

/**
 * Where the demo keeps its history: its own folder beside the server's
 * (the sample video's "vtest" camera never mixes with a real site's), kept
 * between runs so the charts grow with each one.
 */
export function demoHistoryDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(defaultStateDir(env), 'demo-history');
}

/** Only the sample video alone gets the sample site (its zones are drawn for that picture). */
function usesSampleVideo(argv: Pick<DemoArgv, 'source'>): boolean {
  return argv.source.length === 1 && argv.source[0] === SAMPLE_VIDEO;
}

/**
 * The site file the demo's server loads: --site FILE, else the sample site
 * when the demo plays the sample video; --site none (or --no-zones) runs
 * without zones.
 */
export function demoSite(argv: Pick<DemoArgv, 'source' | 'site' | 'zones'>): string | undefined {
  if (argv.site === 'none' || argv.zones === false) return undefined;
  const site = argv.site ?? (usesSampleVideo(argv) ? SAMPLE_SITE : undefined);
  if (site !== undefined && !fs.existsSync(site)) throw new UsageError(`--site ${site}: no such file`);
  return site;
}

/** The sample video is played at its own rate (unless --fps says otherwise), so zone times follow the video. */
export function demoFps(argv: Pick<DemoArgv, 'source' | 'fps'>): number {
  return argv.fps > 0 || !usesSampleVideo(argv) ? argv.fps : SAMPLE_VIDEO_FPS;
}

export const demoCommand: CommandModule<object, DemoArgv> = {
  command: 'demo',
  describe: 'Laptop mode: a CPU server on loopback and a client on the sample video, shown in a window or recorded',
  builder: (yargs: Argv) =>
    withClientOptions(yargs)
      .option('display', {
        type: 'boolean',
        describe: 'live window (default: when a display is available; otherwise records to --out)',
        group: 'Output:',
      })
      .option('out', { type: 'string', default: 'crowdline-demo', describe: 'folder for the recording when there is no window', group: 'Output:' })
      .option('source', { type: 'string', array: true, default: [SAMPLE_VIDEO], describe: 'video file, camera index, stream URL or image folder (repeatable)' })
      .option('model', { type: 'string', default: DEFAULT_MODEL_PATH, coerce: modelPath, describe: MODEL_OPTION_HELP })
      .option('site', {
        type: 'string',
        describe: 'site file with zones and alert rules for the server (default with the sample video: deploy/sites/vtest.yaml; none: no zones)',
      })
      .option('mqtt-url', { type: 'string', describe: "publish the zones' counts and alerts to this MQTT broker (docs/zones.md), e.g. mqtt://127.0.0.1:1883" })
      .option('events-file', { type: 'string', describe: "write the zones' counts and alerts as JSON lines to this file ('-': stdout)" })
      .option('console', {
        type: 'boolean',
        default: true,
        describe: 'open the operator console (live wall in a browser) on 127.0.0.1 and print its URL; --no-console: none',
      })
      .option('console-port', { type: 'number', default: DEFAULT_CONSOLE_SETTINGS.port, describe: 'console port (taken: any free port)' })
      .option('console-video', {
        choices: ['on', 'off'] as const,
        default: DEFAULT_CONSOLE_SETTINGS.video,
        describe: 'off: privacy mode, density without camera pixels',
      })
      .option('history', {
        choices: ['on', 'off'] as const,
        default: 'on' as const,
        describe: "keep the zones' counts and alerts (docs/history.md), for the console's charts, site view and alert history",
      })
      .option('history-dir', { type: 'string', describe: `directory of the demo's history.db (default: ${demoHistoryDir()})` })
      .example('$0 demo', 'count people in the sample video, with two zones on its walkway')
      .example('$0 demo --source walkway=clip.mp4 --site site.yaml --live', 'your video and your zones (crowdline zones draw), at its real pace')
      .example('$0 demo --source 0', 'your webcam') as unknown as Argv<DemoArgv>,
  handler: async (argv) => {
    if (!fs.existsSync(argv.model)) throw new Error(`model not found: ${argv.model} (train one with models/train.py, or pass --model)`);
    const [{ startServer }, { runClientFromArgv }, { whyNoDisplay }, { resolveClientSetup }] = await Promise.all([
      import('../src/app/start-server.js'),
      import('./client-run.js'),
      import('../client/display/display-probe.js'),
      import('./client-setup.js'),
    ]);
    let display = argv.display;
    if (display === undefined) {
      const why = await whyNoDisplay();
      display = why === undefined;
      if (why) process.stderr.write(`crowdline demo: ${why}; recording to ${path.resolve(argv.out!)} instead\n`);
    }
    // Usage errors first, before a server is started (the port is filled in below).
    const setup = resolveClientSetup({ ...argv, server: '127.0.0.1:1', out: display ? undefined : argv.out });
    const sitePath = demoSite(argv);
    requireSiteForZoneEvents({ ...argv, site: sitePath });
    // History needs zones (the sample site has two).
    const historyDir = argv.history === 'on' && sitePath !== undefined ? (argv['history-dir'] ?? demoHistoryDir()) : undefined;
    const running = await startServer({
      sitePath,
      zoneEvents: { eventsFile: argv['events-file'], mqtt: argv['mqtt-url'] === undefined ? undefined : { url: argv['mqtt-url'] } },
      modelPath: argv.model,
      device: 'cpu',
      maxBatch: 1,
      maxBatchDelayMs: 0,
      server: { host: '127.0.0.1', port: 0 },
      history: historyDir === undefined ? undefined : { dir: historyDir },
      console: argv.console
        ? { settings: { ...DEFAULT_CONSOLE_SETTINGS, port: argv['console-port'], video: argv['console-video'] }, anyPortIfTaken: true }
        : undefined,
    });
    if (running.console) process.stderr.write(`crowdline demo: the console is at ${running.console.url} (open it in a browser while the video plays)\n`);
    if (running.history) {
      process.stderr.write(`crowdline demo: history in ${running.history.file} (the console's Site, History and zone charts; --history off: none)\n`);
    }
    let exitCode = 1;
    try {
      exitCode = await runClientFromArgv({ ...argv, display, fps: demoFps(argv) }, { ...setup, port: running.address.port });
    } finally {
      // The demo is over when its video is: if shutting the server down (or something it leaves open) keeps the
      // process alive, say what is still open and go, rather than leave a laptop user with a hung terminal.
      setTimeout(() => {
        process.stderr.write(
          `crowdline demo: still open ${DEMO_EXIT_GRACE_MS / 1000} s after the video ended: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`,
        );
        process.exit(exitCode);
      }, DEMO_EXIT_GRACE_MS).unref();
      await running.close();
    }
    process.exitCode = exitCode;
  },
};
