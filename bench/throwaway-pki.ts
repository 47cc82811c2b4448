/**
 * A throwaway certificate authority for tests and `crowdline bench --tls`:
 * a CA, a server certificate for 127.0.0.1/localhost, and client
 * certificates (CN = identity), written as PEM files. Uses `selfsigned`, a
 * development dependency: loaded only when asked for.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate and key files by CN. */
  clients: Record<string, { cert: string; key: string }>;
}

const EC = { keyType: 'ec', algorithm: 'sha256' } as const;

export async function makePki(dir: string, clientNames: string[] = []): Promise<Pki> {
  let selfsigned: typeof import('selfsigned');
  try {
    selfsigned = await import('selfsigned');
  } catch {
    throw new Error('generating a throwaway certificate needs the dev dependency "selfsigned" (npm install); or pass your own certificate files');
  }
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'crowdline throwaway CA' }], {
    ...EC,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const signer = { key: ca.private, cert: ca.cert };
  const server = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    ...EC,
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const clients: Pki['clients'] = {};
  for (const cn of clientNames) {
    const client = await selfsigned.generate([{ name: 'commonName', value: cn }], {
      ...EC,
      ca: signer,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    });
    clients[cn] = { cert: write(`client-${cn}.pem`, client.cert), key: write(`client-${cn}-key.pem`, client.private) };
  }
  return {
    caCert: write('ca.pem', ca.cert),
    serverCert: write('server.pem', server.cert),
    serverKey: write('server-key.pem', server.private),
    clients,
  };
}
