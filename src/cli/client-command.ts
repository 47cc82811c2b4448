import type { Argv, CommandModule } from 'yargs';
import { DENSITY_FORMAT_NAMES, type DensityFormatName } from '../framing/index.js';
import { clientSecurityFromArgv, clientSecurityOptions, type ClientSecurityArgv } from './client-security.js';
import { parseHostPort } from './parse.js';

export interface ClientArgv extends Partial<ClientSecurityArgv> {
  server: string;
  source: string[];
  display: boolean;
  out?: string;
  'jpeg-quality': number;
  'max-width': number;
  window: number;
  fps: number;
  'max-frames': number;
  live: boolean;
  'density-format': DensityFormatName;
}

/** Options shared by `client` and `demo` (demo picks its own server and sources). */
export function withClientOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('jpeg-quality', { type: 'number', default: 80, describe: 'JPEG quality of the frames sent (1-100)', group: 'Sending:' })
    .option('max-width', { type: 'number', default: 0, describe: 'scale frames down to at most this width before sending (0: as captured)', group: 'Sending:' })
    .option('window', { type: 'number', default: 0, describe: 'frames in flight per camera (0: 2 for live sources, the server default for files)', group: 'Sending:' })
    .option('fps', { type: 'number', default: 0, describe: 'send files and folders at this rate (0: as fast as the server answers); with --live, the pace of files', group: 'Sending:' })
    .option('max-frames', { type: 'number', default: 0, describe: 'stop each source after this many frames (0: no limit)', group: 'Sending:' })
    .option('live', { type: 'boolean', default: false, describe: 'treat files like cameras: real-time pace, newest frame wins', group: 'Sending:' })
    .option('density-format', {
      choices: Object.keys(DENSITY_FORMAT_NAMES) as DensityFormatName[],
      default: 'f16' as DensityFormatName,
      describe: 'how the server sends density maps (u8 is smallest; counts are exact in every format)',
      group: 'Sending:',
    })
    .check((argv) => {
      const quality = argv['jpeg-quality'] as number;
      if (!(quality >= 1 && quality <= 100)) throw new Error('--jpeg-quality must be 1..100');
      return true;
    });
}

export const clientCommand: CommandModule<object, ClientArgv> = {
  command: 'client',
  describe: 'Stream cameras, video files, streams or image folders to a server; show or record density maps and counts',
  builder: (yargs: Argv) =>
    withClientOptions(yargs)
      .option('display', { type: 'boolean', default: true, describe: 'live window with one tile per camera (q or Esc quits); --no-display for headless', group: 'Output:' })
      .option('out', { type: 'string', describe: 'folder for a video with the overlay and a CSV, one of each per camera', group: 'Output:' })
      .option('server', { type: 'string', default: '127.0.0.1:7878', describe: 'crowdline server HOST:PORT' })
      .options(clientSecurityOptions())
      .option('source', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'repeat for each camera: camera index (0), video file, stream URL (rtsp://, http://) or folder of images',
      })
      .epilogue(
        'Live sources (camera indexes and stream URLs, or files with --live) run in real time: when the server cannot keep up, ' +
          'the client sends the newest frame and skips older ones instead of building a backlog. ' +
          'Files and image folders are sent in full and in order, as fast as the server answers (or at --fps). ' +
          'If the server goes away, each camera retries with backoff and resumes; a source that cannot be opened is reported and the others go on.',
      )
      .example('$0 client --server gpu-box:7878 --source 0 --source rtsp://cam2/stream', 'two live cameras in one window')
      .example('$0 client --source clip.mp4 --source frames/ --no-display --out results/', 'headless: video + CSV per source') as unknown as Argv<ClientArgv>,
  handler: async (argv) => {
    const { runClientFromArgv } = await import('../../client/cli-run.js');
    const server = parseHostPort(argv.server);
    const security = clientSecurityFromArgv({ ...argv, tls: argv.tls ?? false });
    process.exitCode = await runClientFromArgv(argv, server.host, server.port, argv.source, security);
  },
};
