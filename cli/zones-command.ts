/** `crowdline zones draw`: pick zone corners on a camera's first frame and print the site-file YAML (docs/zones.md). */
import fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../src/common/usage-error.js';

interface ZonesArgv {
  action: 'draw';
  source?: string;
  config?: string;
  camera?: string;
  snapshot?: string;
  out?: string;
  timeout: number;
}

export const zonesCommand: CommandModule<object, ZonesArgv> = {
  command: 'zones <action>',
  describe: "Draw a camera's zones on its first frame and print them as site-file YAML (or save the frame with a pixel grid)",
  builder: (yargs: Argv) =>
    yargs
      .positional('action', { choices: ['draw'] as const, demandOption: true })
      .option('source', {
        type: 'string',
        describe: "[NAME=]SOURCE as for `crowdline client`: video file, image folder, camera index or stream URL; NAME is the camera's name in the YAML",
      })
      .option('config', { type: 'string', describe: "the client's cameras.yaml: take the camera (URL, ffmpeg options, name) from it, with --camera" })
      .option('camera', { type: 'string', describe: 'with --config: the camera to draw (may be left out when the file has one camera)' })
      .check((argv) => {
        if ((argv.source === undefined) === (argv.config === undefined))
          throw new UsageError('give --source [NAME=]SOURCE or --config FILE (with --camera NAME)');
        if (argv.camera !== undefined && argv.config === undefined)
          throw new UsageError('--camera goes with --config (with --source, name the camera as NAME=SOURCE)');
        return true;
      })
      .option('snapshot', {
        type: 'string',
        describe: 'no window: save the first frame with a labelled pixel grid (every 50 px, labels every 100) to this PNG',
      })
      .option('out', { type: 'string', describe: 'write the YAML to this file instead of stdout' })
      .option('timeout', { type: 'number', default: 20, describe: 'seconds to wait for the first frame of a live camera' })
      .epilogue(
        'In the window: left click adds a corner, right click or Enter closes the zone (3 corners or more, not on one line, not crossing itself), ' +
          'Backspace or u takes back a corner (or reopens the last zone), q or Esc ends and prints the YAML. Zones are named zone-1, zone-2...: ' +
          "rename them and add capacity and alert rules before `crowdline serve --site FILE`. Coordinates are pixels of the source's own frame size, " +
          'which the YAML records (width, height), so the server scales them to whatever size the client sends.',
      )
      .example('$0 zones draw --source walkway=rtsp://10.0.0.21/stream1 --out site.yaml', "click the zones on the camera's picture")
      .example('$0 zones draw --config cameras.yaml --camera entrance --out entrance.yaml', "a camera of the client's config, with its ffmpeg options")
      .example('$0 zones draw --source clip.mp4 --snapshot grid.png', 'headless: read corners off the grid and write the YAML by hand'),
  handler: async (argv) => {
    if (!(argv.timeout > 0)) throw new UsageError(`--timeout ${String(argv.timeout)}: must be a number of seconds > 0`);
    const [{ loadOpenCV }, { readFirstFrame }, { drawPixelGrid, DEFAULT_GRID }, { nameCameras, parseSourceArg, redactUrl }, { loadConfig }] = await Promise.all(
      [
        import('../client/opencv.js'),
        import('../client/capture/first-frame.js'),
        import('../client/zones/pixel-grid.js'),
        import('../client/config/cameras.js'),
        import('../client/config/config-file.js'),
      ],
    );
    let camera;
    if (argv.config !== undefined) {
      const cameras = loadConfig(argv.config).cameras;
      camera = argv.camera === undefined && cameras.length === 1 ? cameras[0] : cameras.find((c) => c.name === argv.camera);
      if (!camera) {
        const names = cameras.map((c) => c.name).join(', ');
        throw new UsageError(
          argv.camera === undefined
            ? `--config ${argv.config} has ${cameras.length} cameras: pick one with --camera (${names})`
            : `--camera ${argv.camera}: not in --config ${argv.config} (${names})`,
        );
      }
    } else {
      [camera] = nameCameras([{ ...parseSourceArg(argv.source!), where: `--source ${argv.source}` }]);
    }
    const cv = await loadOpenCV();
    const frame = await readFirstFrame(cv, camera.source, { timeoutMs: argv.timeout * 1000, inputOptions: camera.inputOptions });
    if (argv.snapshot) {
      try {
        cv.imwrite(argv.snapshot, drawPixelGrid(cv, frame));
      } catch (err) {
        throw new Error(`cannot write ${argv.snapshot}: ${err instanceof Error ? err.message : String(err)}`);
      }
      process.stderr.write(
        `wrote ${argv.snapshot}: the first frame of ${redactUrl(camera.source)} (${frame.cols}x${frame.rows}) with lines every ${DEFAULT_GRID.minor} px, labelled every ${DEFAULT_GRID.major}; ` +
          `write the corners into a site file with width: ${frame.cols} and height: ${frame.rows} (docs/zones.md)\n`,
      );
      return;
    }
    const [{ whyNoDisplay }, { PythonZoneWindow }, { drawZonesInWindow }, { siteYaml }] = await Promise.all([
      import('../client/display/display-probe.js'),
      import('../client/zones/zone-window.js'),
      import('../client/zones/zone-draw-session.js'),
      import('../client/zones/site-yaml.js'),
    ]);
    const why = await whyNoDisplay();
    if (why) throw new UsageError(`${why}; use --snapshot FILE to save the frame with a pixel grid and write the zones by hand`);
    const window = new PythonZoneWindow(cv, `crowdline zones: ${camera.name}`);
    let draft;
    try {
      draft = await drawZonesInWindow(cv, frame, window, { log: (line) => process.stderr.write(`${line}\n`) });
    } finally {
      window.close();
    }
    if (window.failure && draft.zones.length === 0) throw new Error(`the zone window failed: ${window.failure}`);
    const yaml = siteYaml({ camera: camera.name, width: frame.cols, height: frame.rows, zones: draft.zones, source: redactUrl(camera.source) });
    if (argv.out) {
      fs.writeFileSync(argv.out, yaml);
      process.stderr.write(`wrote ${draft.zones.length} zone${draft.zones.length === 1 ? '' : 's'} to ${argv.out}\n`);
    } else process.stdout.write(yaml);
  },
};
