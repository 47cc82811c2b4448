/**
 * `crowdline serve --dry-run`: everything a start checks before the model
 * loads (flags, environment, config file, model manifest, and every file an
 * option names, read by the start's own code: src/app/server-files.ts), then
 * the settings in effect, printed as a config file with where each came
 * from. Like `nginx -t`: safe to run before a restart.
 */
import { stringify } from 'yaml';
import { readServerFiles } from '../src/app/server-files.js';
import type { StartServerOptions } from '../src/app/start-server.js';
import { defaultModelName, serveModelPath } from '../src/app/default-model.js';
import { resolveModel } from '../src/workers/manifest.js';
import type { DeviceChoice } from '../src/workers/types.js';
import { currentSources } from './config-sources.js';

/** `start`: the options the start would get from these flags; their files are read as the start reads them. */
export async function printSettings(argv: Record<string, unknown>, start: StartServerOptions, out: NodeJS.WritableStream): Promise<void> {
  const device = (argv.device ?? 'auto') as DeviceChoice;
  const model = typeof argv.model === 'string' ? argv.model : undefined;
  const spec = resolveModel(serveModelPath(model, device)); // manifest and ONNX file present and consistent
  await readServerFiles(start);
  const sources = currentSources();
  const lines = [`# crowdline serve: settings in effect (flag > CROWDLINE_* > config file > default); model ${spec.manifest.name} OK`];
  for (const flag of sources?.declared ?? Object.keys(argv)) {
    if (flag === 'model' && model === undefined) {
      lines.push(`model: ${defaultModelName(device)}  # default for --device ${device}`);
      continue;
    }
    const value = argv[flag];
    if (value === undefined) continue;
    const origin = sources?.origin(flag) ?? { kind: 'default' };
    const from = origin.kind === 'env' ? origin.variable : origin.kind === 'file' ? origin.file : origin.kind === 'flag' ? 'command line' : 'default';
    lines.push(`${flag}: ${stringify(value, { collectionStyle: 'flow' }).trimEnd()}  # ${from}`);
  }
  out.write(lines.join('\n') + '\n');
}
