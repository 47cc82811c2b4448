/**
 * Every option of a command also from the environment and a YAML file, so a
 * deployment can version its settings (server.yaml) and override a few per
 * host or container (CROWDLINE_PORT=7879) without a long command line.
 *
 *   precedence: flag > CROWDLINE_* variable > --config file > default
 *
 * Generic: applied last in a command's builder, it covers every option
 * declared before it, so a new flag needs no extra code to be settable from
 * the environment or the file. The names follow the flag: --max-batch is
 * CROWDLINE_MAX_BATCH and `max-batch:` in the file. Values go through yargs'
 * own parsing, so the command's types, choices and checks apply to them too.
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import { z } from 'zod';
import { UsageError } from '../src/common/usage-error.js';
import { readYamlFile } from '../src/common/read-yaml-file.js';

export const ENV_PREFIX = 'CROWDLINE_';

/** yargs' own options: not settings. */
const NOT_SETTINGS = new Set(['help', 'version', 'config', 'dry-run']);

/** The environment variable for a flag: max-batch -> CROWDLINE_MAX_BATCH. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A settings file is one flat mapping: flag name -> value (a list for repeatable flags). */
const settingsFile = z.record(z.string(), z.union([scalar, z.array(scalar)]));

export type Origin = { kind: 'flag' } | { kind: 'env'; variable: string } | { kind: 'file'; file: string } | { kind: 'default' };

/** What the last parse took from where (for error messages and --dry-run). */
export class ConfigSources {
  readonly fromEnv = new Map<string, string>();
  readonly fromFile = new Map<string, unknown>();
  file: string | undefined;

  constructor(
    readonly declared: readonly string[],
    private readonly rawArgs: readonly string[],
  ) {}

  /** Where the value of `flag` came from. */
  origin(flag: string): Origin {
    if (this.onCommandLine(flag)) return { kind: 'flag' };
    if (this.fromEnv.has(flag)) return { kind: 'env', variable: envName(flag) };
    if (this.file !== undefined && this.fromFile.has(flag)) return { kind: 'file', file: this.file };
    return { kind: 'default' };
  }

  /** `--port`, or `--port (from CROWDLINE_PORT)` / `--port (from server.yaml)` when that is where it was set. */
  label(flag: string): string {
    const origin = this.origin(flag);
    if (origin.kind === 'env') return `--${flag} (from ${origin.variable})`;
    if (origin.kind === 'file') return `--${flag} (from ${origin.file})`;
    return `--${flag}`;
  }

  private onCommandLine(flag: string): boolean {
    const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    return this.rawArgs.some((arg) => [flag, camel, `no-${flag}`].some((name) => arg === `--${name}` || arg.startsWith(`--${name}=`)));
  }
}

let lastSources: ConfigSources | undefined;

/** Names the origin of a value in an error message that starts with `--flag` (the fail handler calls this). */
export function explainOrigin(message: string): string {
  const m = /^--([a-z0-9-]+)/.exec(message);
  if (!m || !lastSources) return message;
  const label = lastSources.label(m[1]);
  return label === `--${m[1]}` ? message : label + message.slice(m[0].length);
}

/** Reads and checks a settings file: a flat YAML mapping whose keys are flags of this command. */
export function loadSettingsFile(file: string, declared: readonly string[]): Record<string, unknown> {
  const doc = readYamlFile(file);
  if (doc === null || doc === undefined) return {};
  const parsed = settingsFile.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new UsageError(`--config ${file}: ${where}expected a flat mapping of settings (flag name: value, e.g. "max-batch: 4"); ${issue.message}`);
  }
  const known = new Set(declared);
  for (const key of Object.keys(parsed.data)) {
    if (key === 'config') throw new UsageError(`--config ${file}: a settings file cannot name another one (config:)`);
    if (!known.has(key)) throw new UsageError(`--config ${file}: unknown setting "${key}" (settings are the long flag names without "--", e.g. max-batch)`);
  }
  return parsed.data;
}

/**
 * Adds --config FILE (also CROWDLINE_CONFIG) and CROWDLINE_* variables for
 * every option declared so far on `yargs`. Call it last in a builder.
 * `file: false`: variables only (a command whose --config means something else).
 */
export function withConfigSources<T>(
  yargs: Argv<T>,
  options: { env?: NodeJS.ProcessEnv; rawArgs?: readonly string[]; group?: string; file?: boolean } = {},
): Argv<T & { config: string | undefined }> {
  const env = options.env ?? process.env;
  // yargs' typings omit getOptions(), which lists what the builder declared so far.
  const declaredOptions = (yargs as unknown as { getOptions(): { key: Record<string, unknown>; array: string[] } }).getOptions();
  const declared = Object.keys(declaredOptions.key).filter((k) => !NOT_SETTINGS.has(k));
  // A repeatable flag takes its words from one string: CROWDLINE_LEGACY="allow-from 10.0.0.0/8" is --legacy allow-from 10.0.0.0/8.
  const arrays = new Set(declaredOptions.array);
  const words = (flag: string, value: unknown): unknown => (arrays.has(flag) && typeof value === 'string' ? value.trim().split(/\s+/) : value);
  const sources = new ConfigSources(declared, options.rawArgs ?? process.argv.slice(2));
  lastSources = sources;
  const envValues: Record<string, unknown> = {};
  for (const flag of declared) {
    const value = env[envName(flag)];
    if (value === undefined || value === '') continue;
    envValues[flag] = words(flag, value);
    sources.fromEnv.set(flag, value);
  }
  if (options.file === false) return yargs.config(envValues) as unknown as Argv<T & { config: string | undefined }>;
  const fileDefault = env[envName('config')] || undefined;
  const describe = `YAML file of settings: long flag names without "--" (max-batch: 4). Every flag can also be set as ${ENV_PREFIX}NAME (CROWDLINE_MAX_BATCH=4). Precedence: flag > environment > file > default`;
  return yargs
    .option('config', {
      type: 'string',
      default: fileDefault,
      defaultDescription: fileDefault === undefined ? 'none; $CROWDLINE_CONFIG' : `$CROWDLINE_CONFIG`,
      describe,
      group: options.group ?? 'Configuration:',
    })
    .config('config', describe, (file: string) => {
      const settings = loadSettingsFile(file, declared);
      sources.file = path.basename(file);
      for (const [key, value] of Object.entries(settings)) {
        settings[key] = words(key, value);
        sources.fromFile.set(key, value);
      }
      // The environment beats the file: merged here, since yargs gives the file precedence over config objects.
      return { ...settings, ...envValues };
    })
    .config(envValues);
}

/** The sources of the current parse (for --dry-run's report). */
export function currentSources(): ConfigSources | undefined {
  return lastSources;
}
