import type { Argv, CommandModule } from 'yargs';
import { DENSITY_FORMAT_NAMES, type DensityFormatName } from '../src/framing/index.js';
import type { ClientArgv } from './client-argv.js';
import { clientSecurityOptions } from './client-security.js';
import { UsageError } from '../src/common/usage-error.js';
import { withConfigSources } from './config-sources.js';

const NON_NEGATIVE = ['max-width', 'window', 'fps', 'max-frames'] as const;

/** Options shared by `client` and `demo` (demo picks its own server and sources). */
export function withClientOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('jpeg-quality', { type: 'number', default: 80, describe: 'JPEG quality of the frames sent (1-100)', group: 'Sending:' })
    .option('max-width', { type: 'number', default: 0, describe: 'scale frames down to at most this width before sending (0: as captured)', group: 'Sending:' })
    .option('window', {
      type: 'number',
      default: 0,
      describe: 'frames in flight per camera (0: 2 for live sources, the server default for files)',
      group: 'Sending:',
    })
    .option('fps', {
      type: 'number',
      default: 0,
      describe: 'send files and folders at this rate (0: as fast as the server answers); live cameras: at most this rate; with --live, the pace of files',
      group: 'Sending:',
    })
    .option('max-frames', { type: 'number', default: 0, describe: 'stop each source after this many frames (0: no limit)', group: 'Sending:' })
    .option('live', { type: 'boolean', default: false, describe: 'treat files like cameras: real-time pace, newest frame wins', group: 'Sending:' })
    .option('density-format', {
      choices: Object.keys(DENSITY_FORMAT_NAMES) as DensityFormatName[],
      default: 'f16',
      describe: 'how the server sends density maps (u8 is smallest; counts are exact in every format)',
      group: 'Sending:',
    })
    .option('zones', {
      type: 'boolean',
      default: true,
      describe:
        "ask the server for each camera's zones and draw them with their counts and alert states (--no-zones: don't; an older server ignores the request)",
      group: 'Output:',
    })
    .option('lines', {
      type: 'boolean',
      default: true,
      describe:
        "ask the server for each camera's counting lines and draw them with arrows and their in/out counts (--no-lines: don't; an older server ignores the request)",
      group: 'Output:',
    })
    .option('record', {
      choices: ['avi', 'mp4'] as const,
      describe: 'video format with --out: Motion-JPEG AVI (default), or H.264 MP4 segments (ffmpeg)',
      group: 'Output:',
    })
    .option('segment-seconds', { type: 'number', describe: 'MP4: length of each file (default 600)', group: 'Output:' })
    .option('keep-segments', {
      type: 'number',
      describe: 'MP4: keep at most this many files per camera, deleting the oldest (default: keep all)',
      group: 'Output:',
    })
    .check((argv) => {
      const quality = argv['jpeg-quality'];
      if (!(quality >= 1 && quality <= 100)) throw new UsageError(`--jpeg-quality ${String(quality)}: must be 1..100`);
      for (const option of NON_NEGATIVE) {
        const value = argv[option];
        if (!(value >= 0)) throw new UsageError(`--${option} ${String(value)}: must be a number >= 0`);
      }
      const seconds = argv['segment-seconds'];
      if (seconds !== undefined && !(seconds >= 1)) throw new UsageError(`--segment-seconds ${String(seconds)}: must be at least 1`);
      const keep = argv['keep-segments'];
      if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0)) throw new UsageError(`--keep-segments ${String(keep)}: must be a whole number >= 0`);
      return true;
    });
}

export const clientCommand: CommandModule<object, ClientArgv> = {
  command: 'client',
  describe: 'Stream cameras, video files, streams or image folders to a server; show or record density maps and counts',
  // Every option also from CROWDLINE_<NAME> (flag > environment > cameras.yaml > default); --config stays the cameras file.
  builder: (yargs: Argv) =>
    withConfigSources(
      withClientOptions(yargs)
        .option('display', {
          type: 'boolean',
          default: true,
          describe: 'live window with one tile per camera (q or Esc quits); --no-display for headless',
          group: 'Output:',
        })
        .option('out', { type: 'string', describe: 'folder for a video with the overlay and a CSV, one of each per camera', group: 'Output:' })
        .option('server', { type: 'string', describe: "crowdline server HOST:PORT (default: the config file's, else 127.0.0.1:7878)" })
        .options(clientSecurityOptions())
        .option('source', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'repeat for each camera: [NAME=]SOURCE, SOURCE a camera index (0), stream URL (rtsp://, http://), video file or folder of images',
        })
        .option('config', { type: 'string', describe: 'YAML file with the server and the cameras (name, url, fps, max_width, options); see client/README.md' })
        .option('stall-timeout', { type: 'number', describe: 'seconds without a frame before a live camera is restarted (default 10)' })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'check the options and the config file (cameras, server, token and TLS files), print what would run and exit',
        })
        .check((argv) => {
          const stall = argv['stall-timeout'];
          if (stall !== undefined && !(stall > 0)) throw new UsageError(`--stall-timeout ${String(stall)}: must be a number of seconds > 0`);
          if (argv.source.length === 0 && !argv.config) throw new UsageError('--source: give at least one camera (or --config FILE)');
          return true;
        })
        .epilogue(
          'Live cameras (camera indexes and stream URLs) are each read by an ffmpeg process; one that cannot be opened, ends, or gives no frame ' +
            'for --stall-timeout seconds is restarted with backoff, for ever. When the server cannot keep up, the client sends the newest frame ' +
            'and skips older ones instead of building a backlog. Files and image folders are sent in full and in order (or in real time with --live). ' +
            'If the server goes away, each camera retries with backoff and resumes. SIGINT or SIGTERM stops gracefully; a second one stops at once. ' +
            'Exit status: 0 done; 1 a source failed or a live camera never gave a frame (wins over 3); 2 usage or config error; 3 stopped before any frame was answered, no source having failed.',
        )
        .example('$0 client --server gpu-box:7878 --source entrance=rtsp://10.0.0.21/stream1 --source 0', 'two live cameras in one window')
        .example(
          '$0 client --config cameras.yaml --no-display --out /var/lib/crowdline --record mp4 --keep-segments 144',
          'a site, headless, one day of 10-minute MP4s',
        )
        .example('$0 client --source clip.mp4 --source frames/ --no-display --out results/', 'headless: video + CSV per source'),
      { file: false },
    ) as unknown as Argv<ClientArgv>,
  handler: async (argv) => {
    if (argv['dry-run']) {
      // Before cli-run, which loads OpenCV: a dry run needs nothing but the settings.
      const { resolveClientSetup } = await import('./client-setup.js');
      const setup = resolveClientSetup(argv);
      process.stdout.write(
        `server ${setup.host}:${setup.port}${setup.security.tls ? ' (TLS)' : ''}; ${setup.cameras.length} camera(s): ${setup.cameras.map((c) => c.name).join(', ')}` +
          `${setup.outDir ? `; recording ${setup.record.format} to ${setup.outDir}` : ''}\n`,
      );
      return;
    }
    // The settings first: a usage or config error exits 2 at once, before client-run loads OpenCV
    // (which took 7-40 s on a loaded 2-core machine).
    const { resolveClientSetup } = await import('./client-setup.js');
    const setup = resolveClientSetup(argv);
    const { runClientFromArgv } = await import('./client-run.js');
    const code = await runClientFromArgv(argv, setup);
    process.exitCode = code;
    exitIfStillRunning(code);
  },
};

/** How long the client may take to exit by itself once its summary is out. */
const EXIT_GRACE_MS = 10_000;

/**
 * Everything is recorded and summarised when the run returns, so the process should end by itself. Should
 * anything still hold the event loop (a socket or timer some path forgot to close), it must not keep a finished
 * client, a cron job or a test waiting: after a grace period it names what was open and exits with the run's code.
 */
function exitIfStillRunning(code: number): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    process.stderr.write(`crowdline client: still running ${EXIT_GRACE_MS / 1000} s after the end (open: ${open.join(', ') || 'none'}); exiting\n`);
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}
