/**
 * scripts/setup.sh: when the optional OpenCV binding fails to build, setup
 * stops with a plain message naming it, before the TypeScript build whose
 * errors would not say why.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/app/paths.js';

const CHECK = path.join(PACKAGE_ROOT, 'scripts', 'check-opencv-binding.sh');

function check(appDir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [CHECK, appDir], { timeout: 10_000 }, (err, _out, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }));
  });
}

test('a missing OpenCV binding is reported plainly, with what to install', async (t) => {
  const app = mkdtempSync(path.join(os.tmpdir(), 'crowdline-setup-'));
  mkdirSync(path.join(app, 'node_modules', '@u4', 'opencv4nodejs'), { recursive: true }); // npm left the package, not the build
  const missing = await check(app);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /the OpenCV binding \(@u4\/opencv4nodejs\) did not build/);
  t.regex(missing.stderr, /libopencv-dev/);
  const release = path.join(app, 'node_modules', '@u4', 'opencv4nodejs', 'build', 'Release');
  mkdirSync(release, { recursive: true });
  writeFileSync(path.join(release, 'opencv4nodejs.node'), '');
  t.deepEqual(await check(app), { code: 0, stderr: '' });
});

test('setup.sh runs the check after npm ci and before the TypeScript build', (t) => {
  const setup = readFileSync(path.join(PACKAGE_ROOT, 'scripts', 'setup.sh'), 'utf8');
  const npmCi = setup.indexOf('npm ci --no-audit');
  const checkAt = setup.indexOf('scripts/check-opencv-binding.sh');
  const build = setup.indexOf('npm run --silent build');
  t.true(npmCi > 0 && checkAt > npmCi && build > checkAt, `order: npm ci ${npmCi}, check ${checkAt}, build ${build}`);
});
