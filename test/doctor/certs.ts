import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { runOk } from '../rig/peers.js';

// Certificates the rig does not make, with the openssl CLI: an expired server
// certificate (openssl ca can set past dates; `req -days` cannot), signed by a
// CA of its own so "expired but trusted" and "expired and untrusted" both exist.

export interface ExpiredCert {
  readonly caCertPath: string;
  readonly certPem: string;
  readonly keyPem: string;
  remove(): Promise<void>;
}

const CA_CONFIG = `[ ca ]
default_ca = doctor
[ doctor ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
[ server ]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth
`;

export async function createExpiredCert(): Promise<ExpiredCert> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-doctor-cert-'));
  const p = (name: string): string => join(dir, name);
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-keyout', p('ca.key'), '-out', p('ca.crt'),
    '-subj', '/CN=ferry-doctor-expired-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await runOk('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(p('ca.cnf'), CA_CONFIG);
  await writeFile(p('index.txt'), '');
  await writeFile(p('serial'), '01\n');
  await runOk('openssl', [
    'ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', 'server.csr', '-out', 'server.crt',
    '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extensions', 'server', '-notext',
  ], { cwd: dir });
  return {
    caCertPath: p('ca.crt'),
    certPem: await readFile(p('server.crt'), 'utf8'),
    keyPem: await readFile(p('server.key'), 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface HttpsFixture {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** An HTTPS "registry" answering /v2/ with 200, with the given certificate and protocol range. */
export async function startHttpsRegistry(opts: { certPem: string; keyPem: string; minVersion?: SecureVersion }): Promise<HttpsFixture> {
  const legacy = opts.minVersion !== undefined && opts.minVersion !== 'TLSv1.2' && opts.minVersion !== 'TLSv1.3';
  const server: Server = createServer(
    {
      cert: opts.certPem,
      key: opts.keyPem,
      ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
      // OpenSSL 3 refuses TLS < 1.2 at its default security level.
      ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    },
    (req, res) => {
      res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
