/**
 * Client tokens: `cl1.<keyId>.<secret>`. The key id (8 hex digits) finds the
 * credentials entry without trying every hash; the secret (32 random bytes,
 * base64url) is stored only as an scrypt hash and compared in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PREFIX = 'cl1';
const TOKEN_PATTERN = /^cl1\.([0-9a-f]{8})\.([A-Za-z0-9_-]{43})$/;
/** N=2^14, r=8, p=1: ~16 MiB and tens of ms per check (hashed off the event loop, in libuv's pool). */
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

export interface ParsedToken {
  keyId: string;
  secret: string;
}

export function newToken(): { token: string; keyId: string; secret: string } {
  const keyId = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${PREFIX}.${keyId}.${secret}`, keyId, secret };
}

export function parseToken(token: string): ParsedToken | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { keyId: m[1], secret: m[2] } : undefined;
}

function scryptAsync(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_BYTES, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt:N:r:p:<salt b64>:<hash b64>`: the form stored in the credentials file. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, SCRYPT);
  return `scrypt:${SCRYPT.N}:${SCRYPT.r}:${SCRYPT.p}:${salt.toString('base64')}:${key.toString('base64')}`;
}

interface StoredHash {
  options: ScryptOptions;
  salt: Buffer;
  key: Buffer;
}

export function parseStoredHash(text: string): StoredHash {
  const parts = text.split(':');
  const [kind, n, r, p, salt, key] = parts;
  const options = { N: Number(n), r: Number(r), p: Number(p) };
  const valid =
    parts.length === 6 &&
    kind === 'scrypt' &&
    Number.isInteger(Math.log2(options.N)) &&
    options.N >= 2 &&
    options.r >= 1 &&
    options.p >= 1 &&
    options.p <= 16 &&
    // scrypt needs 128*N*r bytes: keep it under the 64 MiB we allow it, so a check can never fail for memory.
    128 * options.N * options.r <= 32 * 1024 * 1024;
  if (!valid) throw new Error('hash is not of the form scrypt:N:r:p:SALT:HASH (N a power of two, 128*N*r <= 32 MiB, p <= 16)');
  return { options, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
}

/** Constant-time check of a secret against a stored hash. */
export async function verifySecret(secret: string, stored: StoredHash): Promise<boolean> {
  const key = await scryptAsync(secret, stored.salt, stored.options);
  return key.length === stored.key.length && timingSafeEqual(key, stored.key);
}

/** A hash no secret matches: unknown key ids cost the same scrypt as known ones, so timing does not tell them apart. */
export const DECOY_HASH: StoredHash = { options: SCRYPT, salt: randomBytes(16), key: randomBytes(KEY_BYTES) };
