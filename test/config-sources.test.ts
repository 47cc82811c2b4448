/**
 * Settings from flags, CROWDLINE_* variables and --config server.yaml:
 * precedence, genericity (an option nobody wrote env code for), the file's
 * checks, and `crowdline serve` refusing bad values before any model loads.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { envName, withConfigSources } from '../cli/config-sources.js';
import { runCli, type CliRun } from './helpers/cli.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

/** A yargs command line like serve's: options declared, then withConfigSources. */
async function parse(args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const y = yargs(args)
    .option('first-option', { type: 'number', default: 1 })
    .option('second-option', { type: 'number', default: 2 })
    .option('third-option', { type: 'string', default: 'three' })
    .option('fourth-option', { type: 'boolean', default: false })
    .option('words', { type: 'string', array: true });
  return await withConfigSources(y, { env, rawArgs: args })
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parse();
}

function yamlFile(text: string): string {
  const file = path.join(tempDir(), 'server.yaml');
  writeFileSync(file, text);
  return file;
}

test('any declared option is read from CROWDLINE_<NAME>, typed like its flag', async (t) => {
  t.is(envName('max-batch'), 'CROWDLINE_MAX_BATCH');
  const argv = await parse([], { CROWDLINE_SECOND_OPTION: '42', CROWDLINE_FOURTH_OPTION: 'true', CROWDLINE_WORDS: 'allow-from 10.0.0.0/8' });
  t.is(argv['second-option'], 42);
  t.is(argv['fourth-option'], true);
  t.deepEqual(argv.words, ['allow-from', '10.0.0.0/8'], 'a repeatable flag takes the words of its variable');
  t.is(argv['first-option'], 1);
});

test('precedence: flag > environment > config file > default', async (t) => {
  const file = yamlFile('first-option: 10\nsecond-option: 20\nthird-option: from-file\n');
  const env = { CROWDLINE_FIRST_OPTION: '100', CROWDLINE_SECOND_OPTION: '200' };
  const argv = await parse(['--config', file, '--first-option', '1000'], env);
  t.is(argv['first-option'], 1000, 'flag beats all');
  t.is(argv['second-option'], 200, 'environment beats the file');
  t.is(argv['third-option'], 'from-file', 'file beats the default');
  t.is(argv['fourth-option'], false, 'default');
  // The file can also be named by the environment.
  const viaEnv = await parse([], { CROWDLINE_CONFIG: file });
  t.is(viaEnv['first-option'], 10);
});

test('other CROWDLINE_* variables (CROWDLINE_TOKEN, CROWDLINE_FFMPEG) are not settings and do not fail the parse', async (t) => {
  const argv = await parse([], { CROWDLINE_TOKEN: 'secret', CROWDLINE_FFMPEG: '/usr/bin/ffmpeg' });
  t.false('token' in argv);
});

test('a config file is a flat mapping of known flag names; mistakes name the file and the key', async (t) => {
  const typo = yamlFile('frist-option: 3\n');
  await t.throwsAsync(parse(['--config', typo], {}), { message: /server\.yaml: unknown setting "frist-option"/ });
  const nested = yamlFile('first-option: { a: 1 }\n');
  await t.throwsAsync(parse(['--config', nested], {}), { message: /first-option: expected a flat mapping/ });
  const broken = yamlFile('first-option: [1\n');
  await t.throwsAsync(parse(['--config', broken], {}), { message: /not valid YAML/ });
  await t.throwsAsync(parse(['--config', '/nonexistent/server.yaml'], {}), { message: /cannot read it \(ENOENT\)/ });
  const empty = yamlFile('');
  t.is((await parse(['--config', empty], {}))['first-option'], 1);
});

function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runCli(['serve', ...args], { env, timeoutMs: 30_000 });
}

test('serve refuses bad values before loading the model, naming the flag (and the variable or file that set it)', async (t) => {
  // A model path that does not exist: if the model were loaded first, that would be the error.
  const missing = ['--model', '/nonexistent/model.onnx'];
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['--port', '99999'], {}, /^crowdline: --port must be a port number 0\.\.65535.*got 99999$/m],
    [['--workers', '0'], {}, /^crowdline: --workers must be a positive whole number, got 0$/m],
    [['--max-batch', '0'], {}, /^crowdline: --max-batch must be a positive whole number, got 0$/m],
    [['--metrics-port', '-1'], {}, /--metrics-port must be a port number/],
    [['--input-size', '640by480'], {}, /--input-size: expected WIDTHxHEIGHT/],
    [['--tls-cert', 'cert.pem'], {}, /--tls-cert and --tls-key go together/],
    [[], { CROWDLINE_MAX_BATCH: '0' }, /--max-batch \(from CROWDLINE_MAX_BATCH\) must be a positive whole number, got 0/],
    [[], { CROWDLINE_WORKERS: 'many' }, /--workers \(from CROWDLINE_WORKERS\) must be a positive whole number/],
  ];
  for (const [args, env, expected] of cases) {
    const run = await serve([...missing, ...args], env);
    t.is(run.code, 2, `${args.join(' ')} ${JSON.stringify(env)}: usage error\n${run.stderr}`);
    t.regex(run.stderr, expected);
    t.notRegex(run.stderr, /model|at .*\.js:\d+/, 'no model error, no stack trace');
  }
  const file = yamlFile('max-batch: 0\n');
  const fromFile = await serve([...missing, '--config', file]);
  t.is(fromFile.code, 2);
  t.regex(fromFile.stderr, /--max-batch \(from server\.yaml\) must be a positive whole number, got 0/);
});

test('serve without --model: crowdline-v2 on --device cuda, crowdline-v1 on cpu; dry-run says which and why', async (t) => {
  const cuda = await serve(['--dry-run', '--device', 'cuda']);
  t.is(cuda.code, 0, cuda.stderr);
  t.regex(cuda.stdout, /model crowdline-v2 OK/);
  t.regex(cuda.stdout, /^model: crowdline-v2 {2}# default for --device cuda$/m);
  const cpu = await serve(['--dry-run', '--device', 'cpu']);
  t.is(cpu.code, 0, cpu.stderr);
  t.regex(cpu.stdout, /model crowdline-v1 OK/);
  t.regex(cpu.stdout, /^model: crowdline-v1 {2}# default for --device cpu$/m);
  // An explicit choice wins over the device's default.
  const chosen = await serve(['--dry-run', '--device', 'cuda', '--model', 'crowdline-v1']);
  t.regex(chosen.stdout, /model crowdline-v1 OK/);
});

test('serve --dry-run prints the settings in effect and where each came from, without serving', async (t) => {
  const model = knownAnswerModel();
  const file = yamlFile(`model: ${model.onnxPath}\nport: 7000\nmax-batch: 4\nlegacy: allow-from 10.0.0.0/8\n`);
  const run = await serve(['--config', file, '--dry-run', '--max-batch', '2'], { CROWDLINE_PORT: '7001', CROWDLINE_LOG_LEVEL: 'warn' });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /model known-answer OK/);
  t.regex(run.stdout, /^port: 7001 {2}# CROWDLINE_PORT$/m);
  t.regex(run.stdout, /^max-batch: 2 {2}# command line$/m);
  t.regex(run.stdout, /^log-level: warn {2}# CROWDLINE_LOG_LEVEL$/m);
  t.regex(run.stdout, /^legacy: \[ allow-from, 10\.0\.0\.0\/8 \] {2}# server\.yaml$/m);
  t.regex(run.stdout, /^window: 4 {2}# default$/m);
  t.notRegex(run.stderr, /serving/);
  // The printout is itself a config file that gives the same settings.
  const again = await serve(['--config', yamlFile(run.stdout), '--dry-run']);
  t.is(again.code, 0, again.stderr);
  const values = (text: string): string[] =>
    text
      .split('\n')
      .slice(1)
      .map((l) => l.replace(/ {2}#.*$/, ''));
  t.deepEqual(values(again.stdout), values(run.stdout));
  const bad = await serve(['--dry-run', '--model', '/nonexistent/model.onnx']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /model file not found/);
});

test('the client takes CROWDLINE_* too (over cameras.yaml), its --config staying the cameras file', async (t) => {
  const cameras = path.join(tempDir(), 'cameras.yaml');
  writeFileSync(cameras, 'server: 127.0.0.1:7878\ncameras:\n  - name: door\n    url: rtsp://door.local/stream\n');
  const client = (env: NodeJS.ProcessEnv): Promise<CliRun> => runCli(['client', '--config', cameras, '--dry-run'], { env });
  const fromFile = await client({});
  t.is(fromFile.code, 0, fromFile.stderr);
  t.regex(fromFile.stdout, /^server 127\.0\.0\.1:7878; 1 camera\(s\): door/);
  const fromEnv = await client({ CROWDLINE_SERVER: '10.0.0.9:7000' });
  t.regex(fromEnv.stdout, /^server 10\.0\.0\.9:7000;/);
  const bad = await client({ CROWDLINE_JPEG_QUALITY: '0' });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--jpeg-quality \(from CROWDLINE_JPEG_QUALITY\) 0: must be 1\.\.100/);
});
