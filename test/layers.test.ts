/**
 * The layer rules of .dependency-cruiser.cjs catch what they say they catch:
 * dependency-cruiser, with the project's own config, runs over a small tree
 * that breaks each rule once (and over one that breaks none), so a rule that
 * stopped matching (a typo in a path pattern, a moved folder) fails here
 * rather than letting wrong imports through `npm run lint`.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/app/paths.js';
import { tempDir } from './helpers/server.js';

const CONFIG = path.join(PACKAGE_ROOT, '.dependency-cruiser.cjs');
// The package's exports do not include its bin, so it is found by path.
const DEPCRUISE = path.join(PACKAGE_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

const TSCONFIG = JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['**/*.ts'] });

/** Writes `files` (path -> source) under a new folder with a NodeNext tsconfig.json. */
function tree(files: Record<string, string>): string {
  const root = tempDir('crowdline-layers-');
  writeFileSync(path.join(root, 'tsconfig.json'), TSCONFIG);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

function depcruise(cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'err', 'src', 'client', 'cli'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The layers as they should be: cli on top, client on src/framing and src/common, src on itself. */
const GOOD = {
  'src/framing/codec.ts': 'export const MAGIC = 1;\n',
  'src/common/usage-error.ts': 'export class UsageError extends Error {}\n',
  'src/accept/server.ts': "import net from 'node:net';\nimport { MAGIC } from '../framing/codec.js';\nexport const serve = (): unknown => [net, MAGIC];\n",
  'client/connection/connection.ts':
    "import { MAGIC } from '../../src/framing/codec.js';\nimport { UsageError } from '../../src/common/usage-error.js';\nexport const connect = (): unknown => [MAGIC, UsageError];\n",
  'cli/main.ts':
    "import { serve } from '../src/accept/server.js';\nimport { connect } from '../client/connection/connection.js';\nexport const main = (): unknown => [serve, connect];\n",
};

test('a tree that keeps the layers passes', async (t) => {
  const { code, output } = await depcruise(tree(GOOD));
  t.is(code, 0, output);
});

test('each wrong import fails with the name of the rule it breaks', async (t) => {
  const bad = {
    ...GOOD,
    // src/ importing client/ (the issue's own example), the command and bench.
    'src/app/uses-client.ts': "import { connect } from '../../client/connection/connection.js';\nexport const x = connect;\n",
    'src/app/uses-cli.ts': "import { main } from '../../cli/main.js';\nexport const y = main;\n",
    // The client reaching past the protocol into the server, and up into the command.
    'client/run/uses-server.ts': "import { serve } from '../../src/accept/server.js';\nexport const z = serve;\n",
    'client/run/uses-cli.ts': "import { main } from '../../cli/main.js';\nexport const w = main;\n",
    // Framing with a socket.
    'src/framing/socket.ts': "import net from 'node:net';\nexport const s = net;\n",
    // A cycle.
    'src/zones/a.ts': "import { b } from './b.js';\nexport const a = (): unknown => b;\n",
    'src/zones/b.ts': "import { a } from './a.js';\nexport const b = (): unknown => a;\n",
    // A path that does not exist.
    'src/zones/missing.ts': "import { nothing } from './not-there.js';\nexport const m = nothing;\n",
  };
  const { code, output } = await depcruise(tree(bad));
  t.not(code, 0, output);
  for (const rule of [
    'src-not-to-client',
    'src-not-to-cli',
    'client-only-protocol-from-src',
    'client-not-to-cli',
    'framing-no-net',
    'no-circular',
    'not-to-unresolvable',
  ]) {
    t.regex(output, new RegExp(`\\b${rule}\\b`), `${rule} not reported:\n${output}`);
  }
  t.regex(output, /src\/app\/uses-client\.ts → client\/connection\/connection\.ts|src\/app\/uses-client\.ts/);
});
