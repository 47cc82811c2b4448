/** The credentials file's YAML: values YAML reads as numbers where the file means text. */
import test from 'ava';
import { stringify } from 'yaml';
import { Credentials, readStored } from '../src/auth/credentials.js';
import { hashSecret, parseToken, verifySecret } from '../src/auth/token.js';

const entry = (key: string, hash: string, extra = ''): string => `clients:\n  - name: gate-cam\n    key: ${key}\n    hash: "${hash}"\n${extra}`;

test('an unquoted all-digit key id is the digits written (leading zeros kept), and a token with it signs in', async (t) => {
  const secret = 'A'.repeat(43);
  const hash = await hashSecret(secret);
  const creds = Credentials.parse(entry('12345678', hash), 'creds.yaml');
  const token = parseToken(`cl1.12345678.${secret}`);
  t.truthy(token);
  const found = creds.withKey(token?.keyId ?? '');
  t.is(found?.name, 'gate-cam');
  t.true(found?.hash !== undefined && (await verifySecret(token?.secret ?? '', found.hash)));
  t.is(Credentials.parse(entry('00012345', hash), 'creds.yaml').named('gate-cam')?.keyId, '00012345');
  // Camera names and identities of plain digits too; written back (crowdline auth add) they are quoted.
  const stored = readStored(`clients:\n  - name: 4711\n    key: 12345678\n    hash: "${hash}"\n    cameras: [1042, gate]\n`);
  t.deepEqual(stored.clients[0].cameras, ['1042', 'gate']);
  t.is(stored.clients[0].name, '4711');
  t.regex(stringify(stored), /key: "12345678"/);
});

test('a key id YAML reads as a float, a boolean or a list is refused, saying to quote it', async (t) => {
  const hash = await hashSecret('A'.repeat(43));
  t.throws(() => Credentials.parse(entry('1234e567', hash), 'creds.yaml'), {
    message: /credentials creds\.yaml: clients\[0\]\.key must be a string \(1234e567 was read as number\): put it in quotes/,
  });
  t.throws(() => Credentials.parse(entry('1234.567', hash), 'creds.yaml'), { message: /clients\[0\]\.key must be a string .*quotes/ });
  t.throws(() => Credentials.parse(entry('true', hash), 'creds.yaml'), { message: /clients\[0\]\.key must be a string \(true was read as boolean\)/ });
  t.throws(() => Credentials.parse(entry('[1, 2]', hash), 'creds.yaml'), { message: /clients\[0\]\.key must be a string: put it in quotes/ });
  // Past a safe integer the digits are not a number YAML kept exactly; and 9 digits are no key id anyway.
  t.throws(() => Credentials.parse(entry('123456789', hash), 'creds.yaml'), { message: /key must be 8 hex digits/ });
  t.throws(() => Credentials.parse(entry('99999999999999999999', hash), 'creds.yaml'), { message: /key must be a string/ });
  t.throws(() => readStored('clients:\n  - name: a\n    cameras: [1.5]\n'), { message: /clients\[0\]\.cameras\[0\] must be a string/ });
});
