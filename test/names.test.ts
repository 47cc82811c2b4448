/**
 * One rule for camera (and zone) names on both sides: a name the server's
 * site file accepts, the client accepts as a camera name, and the reverse.
 * Letters of any script count as letters (docs/zones.md, client/README.md).
 */
import test from 'ava';
import { checkCameraName } from '../client/config/cameras.js';
import { NAME_RULE } from '../src/common/camera-name.js';
import { parseSiteFile } from '../src/zones/site-file.js';
import { runCli } from './helpers/cli.js';

const site = (name: string): string =>
  `cameras:\n  ${JSON.stringify(name)}:\n    zones:\n      - name: ${JSON.stringify(name)}\n        polygon: [[0, 0], [10, 0], [10, 10]]\n`;
const clientAccepts = (name: string): boolean => {
  try {
    checkCameraName(name, '--source');
    return true;
  } catch (err) {
    if (!(err as Error).message.includes(NAME_RULE)) throw err;
    return false;
  }
};
const siteAccepts = (name: string): boolean => {
  try {
    const parsed = parseSiteFile(site(name), 'site.yaml');
    return parsed.cameras.get(name)?.zones[0].name === name;
  } catch (err) {
    if (!(err as Error).message.includes(NAME_RULE)) throw err;
    return false;
  }
};

const good = ['Süd-Eingang', 'Gate 3', '東口', 'entrée', 'Su\u0308d-Eingang', 'Київ-1', 'cam:1', 'door@north', 'v1.2_west', '7', 'x'.repeat(64)];
const bad = ['', 'a/b', 'x#', 'y+1', '50%', ' lead', 'trail ', '_x', '.hidden', '-opt', 'x'.repeat(65), 'a\tb', '"q"', 'tab\u0000', '𝔸'.repeat(64)];

test('names: letters of any script, digits, spaces and _ . - : @ are accepted by the client and the site file alike', (t) => {
  for (const name of good) {
    t.true(clientAccepts(name), `client refuses ${JSON.stringify(name)}`);
    t.true(siteAccepts(name), `site file refuses ${JSON.stringify(name)}`);
  }
});

test('names: what either side refuses, the other refuses too, with the same rule in the message', (t) => {
  for (const name of bad) {
    t.false(clientAccepts(name), `client accepts ${JSON.stringify(name)}`);
    t.false(siteAccepts(name), `site file accepts ${JSON.stringify(name)}`);
  }
  // 64 letters of 4 bytes each would not fit HELLO's 255-byte name.
  t.is(Buffer.byteLength('𝔸'.repeat(64)), 256);
});

test('names: the client takes a Unicode name with a space on the command line', async (t) => {
  const run = await runCli(['client', '--no-display', '--source', 'Süd Eingang=rtsp://10.0.0.5/stream', '--dry-run']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /Süd Eingang/);
  const refused = await runCli(['client', '--no-display', '--source', 'Süd#1=rtsp://10.0.0.5/stream', '--dry-run']);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /camera name "Süd#1" must be 1-64 letters \(any script\)/);
});
