import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from './peers.js';

// A throwaway certificate authority and a server certificate for 127.0.0.1 and
// localhost, made with the openssl CLI. Go (docker-registry) ignores the CN and
// needs the SANs; skopeo and containerd read the CA from a certs.d-style dir.

export interface TestCa {
  readonly dir: string;
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly serverCertPath: string;
  readonly serverCertPem: string;
  readonly serverKeyPath: string;
  readonly serverKeyPem: string;
  /** A directory holding only `ca.crt`: skopeo's --cert-dir / containerd's certs.d layout. */
  readonly certDir: string;
  remove(): Promise<void>;
}

export async function createCa(parentDir?: string): Promise<TestCa> {
  const dir = await mkdtemp(join(parentDir ?? tmpdir(), 'ferry-rig-ca-'));
  const p = (name: string): string => join(dir, name);
  const days = ['-days', '2'];
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', ...days,
    '-keyout', p('ca.key'), '-out', p('ca.crt'), '-subj', '/CN=ferry-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await runOk('openssl', [
    'req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', p('server.key'), '-out', p('server.csr'),
    '-subj', '/CN=127.0.0.1',
  ]);
  await writeFile(
    p('server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await runOk('openssl', [
    'x509', '-req', '-sha256', ...days, '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-extfile', p('server.ext'), '-out', p('server.crt'),
  ]);
  const certDir = join(dir, 'certs.d');
  const caCertPem = await readFile(p('ca.crt'), 'utf8');
  await mkdir(certDir);
  await writeFile(join(certDir, 'ca.crt'), caCertPem);
  return {
    dir,
    caCertPath: p('ca.crt'),
    caCertPem,
    serverCertPath: p('server.crt'),
    serverCertPem: await readFile(p('server.crt'), 'utf8'),
    serverKeyPath: p('server.key'),
    serverKeyPem: await readFile(p('server.key'), 'utf8'),
    certDir,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface SelfSignedCert {
  readonly certPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A self-signed RSA certificate (the token issuer's signing key and its rootcertbundle). */
export async function createSelfSignedCert(dir: string, commonName: string): Promise<SelfSignedCert> {
  const certPath = join(dir, `${commonName}.crt`);
  const keyPath = join(dir, `${commonName}.key`);
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyPath, '-out', certPath, '-subj', `/CN=${commonName}`,
  ]);
  return { certPath, certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
}
