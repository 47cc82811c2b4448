/** `crowdline serve` with --auth and TLS as a process: SIGHUP revokes tokens and swaps certificates, open connections carry on. */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import test from 'ava';
import { makePki } from '../bench/throwaway-pki.js';
import { ServerRefusedError, V1Connection, type ClientSecurity } from '../client/connection/connection.js';
import { ErrorCode, FrameStatus } from '../src/framing/index.js';
import { writeCredentials } from './helpers/auth.js';
import { runCli, oneWorkerServeArgs, startServeProcess, waitForLog } from './helpers/cli.js';
import { blockPatternJpeg } from './helpers/images.js';
import { collectResults } from './helpers/results.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const jpeg = blockPatternJpeg(64, 48, 8);

async function answered(conn: V1Connection): Promise<boolean> {
  const results = collectResults(conn, 1);
  conn.send(jpeg);
  return (await results)[0].status === FrameStatus.Ok;
}

test('SIGHUP: a removed token stops working, new certificates are served, open connections keep going', async (t) => {
  const dir = tempDir('crowdline-reload-');
  const creds = await writeCredentials([{ name: 'keep' }, { name: 'revoke' }], dir);
  const first = await makePki(tempDir('crowdline-pki-'));
  const second = await makePki(tempDir('crowdline-pki-'));
  const cert = `${dir}/server.pem`;
  const key = `${dir}/server-key.pem`;
  copyFileSync(first.serverCert, cert);
  copyFileSync(first.serverKey, key);
  const model = knownAnswerModel();
  const { child, port, log } = await startServeProcess([...oneWorkerServeArgs(model.onnxPath), '--auth', creds.file, '--tls-cert', cert, '--tls-key', key]);
  t.teardown(() => child.kill('SIGKILL'));
  const connect = (token: string, ca: string): Promise<V1Connection> =>
    V1Connection.connect({ host: '127.0.0.1', port, cameraName: 'c', token, tls: { ca: readFileSync(ca) } satisfies ClientSecurity['tls'] });

  const open = await connect(creds.tokens.revoke, first.caCert);
  t.teardown(() => open.destroy());
  t.true(await answered(open));

  const removed = await runCli(['auth', 'remove', 'revoke', '--file', creds.file]);
  t.is(removed.code, 0, removed.stderr);
  child.kill('SIGHUP');
  await waitForLog(log, /SIGHUP: credentials reloaded \(1 client\(s\)\); TLS certificate reloaded/);
  const refused = await connect(creds.tokens.revoke, first.caCert).catch((e: unknown) => e);
  t.true(refused instanceof ServerRefusedError && refused.code === ErrorCode.Unauthorized, String(refused));
  const kept = await connect(creds.tokens.keep, first.caCert);
  t.true(await answered(kept));
  kept.destroy();
  t.true(await answered(open), "the revoked identity's open connection was not dropped");

  copyFileSync(second.serverCert, cert);
  copyFileSync(second.serverKey, key);
  child.kill('SIGHUP');
  await waitForLog(log, /SIGHUP: credentials reloaded/, 2);
  const oldCa = await connect(creds.tokens.keep, first.caCert).catch((e: unknown) => e);
  t.regex(String(oldCa), /certificate|verify/i);
  const newCa = await connect(creds.tokens.keep, second.caCert);
  t.true(await answered(newCa));
  newCa.destroy();
  t.true(await answered(open));

  // A broken file is refused on reload; the server keeps the previous credentials.
  writeFileSync(creds.file, 'clients: [ {name: "bad name!"} ]');
  child.kill('SIGHUP');
  await waitForLog(log, /reload failed, keeping the previous settings/);
  const still = await connect(creds.tokens.keep, second.caCert);
  t.true(await answered(still));
  still.destroy();

  for (const token of Object.values(creds.tokens)) t.false(log().includes(token.split('.')[2]), 'no secret in the server log');
  t.regex(log(), /refused \(bad-token\)/);
});
