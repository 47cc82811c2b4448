/**
 * `crowdline serve --dry-run`: everything a start checks before the model
 * loads (flags, environment, config file, model manifest, files named by
 * security options), then the settings in effect, printed as a config file
 * with where each came from. Like `nginx -t`: safe to run before a restart.
 */
import fs from 'node:fs';
import { stringify } from 'yaml';
import { defaultModelName, serveModelPath } from '../src/app/default-model.js';
import { resolveModel } from '../src/workers/manifest.js';
import type { DeviceChoice } from '../src/workers/types.js';
import { currentSources } from './config-sources.js';
import { UsageError } from '../src/common/usage-error.js';

const FILE_OPTIONS = ['auth', 'tls-cert', 'tls-key', 'tls-client-ca'] as const;

export function printSettings(argv: Record<string, unknown>, out: NodeJS.WritableStream): void {
  const device = (argv.device ?? 'auto') as DeviceChoice;
  const model = typeof argv.model === 'string' ? argv.model : undefined;
  const spec = resolveModel(serveModelPath(model, device)); // manifest and ONNX file present and consistent
  for (const option of FILE_OPTIONS) {
    const file = argv[option];
    if (typeof file !== 'string') continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (err) {
      throw new UsageError(`--${option} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
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
