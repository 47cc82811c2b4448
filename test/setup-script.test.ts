/**
 * scripts/setup.sh: when the optional OpenCV binding fails to build, setup
 * stops with a plain message naming it, before the TypeScript build whose
 * errors would not say why. And npm 12, which skips the install scripts of
 * dependencies not approved in package.json's allowScripts, still builds
 * every native dependency.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

interface InstalledPackage {
  name: string;
  version: string;
  /** What npm runs at install time, or undefined when nothing. */
  installScript: string | undefined;
}

interface PackageJson {
  name?: string;
  version?: string;
  scripts?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

function readPackageJson(file: string): PackageJson {
  return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
}

/** Every package under node_modules (scoped and nested ones too), with the script npm would run when installing it. */
function installedPackages(modules: string): InstalledPackage[] {
  const found: InstalledPackage[] = [];
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(path.join(modules, entry)).map((n) => path.join(modules, entry, n)) : [path.join(modules, entry)];
    for (const dir of dirs) {
      const manifest = path.join(dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = readPackageJson(manifest);
      const scripts = pkg.scripts ?? {};
      // npm runs `node-gyp rebuild` for a package with a binding.gyp and no install script of its own.
      const implicitGyp = !scripts.install && !scripts.preinstall && existsSync(path.join(dir, 'binding.gyp')) ? 'node-gyp rebuild' : undefined;
      const installScript = scripts.preinstall ?? scripts.install ?? scripts.postinstall ?? implicitGyp;
      found.push({ name: pkg.name ?? path.basename(dir), version: pkg.version ?? '', installScript });
      found.push(...installedPackages(path.join(dir, 'node_modules')));
    }
  }
  return found;
}

test('every installed dependency with an install script is approved in allowScripts (npm 12 skips the others)', (t) => {
  const allow = readPackageJson(path.join(PACKAGE_ROOT, 'package.json')).allowScripts ?? {};
  const withScripts = installedPackages(path.join(PACKAGE_ROOT, 'node_modules')).filter((p) => p.installScript !== undefined);
  // The native ones the server and client cannot run without must be among them, or this test looks at nothing.
  const names = withScripts.map((p) => p.name);
  for (const needed of ['@u4/opencv4nodejs', '@julusian/jpeg-turbo']) t.true(names.includes(needed), `${needed} has an install script`);
  const unapproved = withScripts.filter((p) => allow[p.name] !== true && allow[`${p.name}@${p.version}`] !== true);
  t.deepEqual(
    unapproved.map((p) => `${p.name}@${p.version} (${p.installScript})`),
    [],
    'add them to allowScripts in package.json (npm install-scripts approve <name>) after reviewing what they run',
  );
});
