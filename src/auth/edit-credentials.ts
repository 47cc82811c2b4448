/** `crowdline auth add/remove/list`: edits the credentials file; the token itself is never written. */
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { Credentials, NAME_PATTERN, readStored, type CredentialsFile, type Role } from './credentials.js';
import { hashSecret, newToken } from './token.js';

function load(file: string): CredentialsFile {
  return existsSync(file) ? readStored(readFileSync(file, 'utf8')) : { clients: [] };
}

function save(file: string, doc: CredentialsFile): void {
  const text = file.endsWith('.json')
    ? JSON.stringify(doc, null, 2) + '\n'
    : '# crowdline credentials: tokens are stored only as scrypt hashes (crowdline auth add NAME)\n' + toYaml(doc);
  // Check the result parses as the server will read it before replacing the file.
  Credentials.parse(text, file);
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Adds a token identity; returns the token (shown once, never stored). Cameras are written without a role, as before roles existed. */
export async function addClient(file: string, name: string, cameras?: string[], role: Role = 'camera'): Promise<string> {
  if (!NAME_PATTERN.test(name)) throw new Error(`name "${name}" must be 1-64 of A-Z a-z 0-9 . _ - and start with a letter or digit`);
  if (role !== 'camera' && cameras && cameras.length > 0) throw new Error(`--camera applies to camera identities only, not to a ${role}`);
  const doc = load(file);
  if (doc.clients.some((c) => c.name === name)) throw new Error(`"${name}" is already in ${file} (remove it first to issue a new token)`);
  let token = newToken();
  while (doc.clients.some((c) => c.key === token.keyId)) token = newToken();
  doc.clients.push({
    name,
    ...(role !== 'camera' ? { role } : {}),
    key: token.keyId,
    hash: await hashSecret(token.secret),
    ...(cameras && cameras.length > 0 ? { cameras } : {}),
  });
  save(file, doc);
  return token.token;
}

export function removeClient(file: string, name: string): void {
  const doc = load(file);
  const kept = doc.clients.filter((c) => c.name !== name);
  if (kept.length === doc.clients.length) throw new Error(`"${name}" is not in ${file}`);
  save(file, { clients: kept });
}

export function listClients(file: string): string[] {
  return load(file).clients.map((c) => {
    const role = c.role ?? 'camera';
    const scope = role === 'camera' ? (c.cameras ? c.cameras.join(',') : 'any camera') : 'console';
    // The role comes last: scripts that read the first three columns keep working.
    return `${c.name}\t${c.key ? `token ${c.key}` : 'certificate'}\t${scope}\t${role}`;
  });
}
