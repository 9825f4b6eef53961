import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type TestCa } from '../rig/ca.js';
import { rigContext } from '../rig/context.js';
import { requirePeer, runOk } from '../rig/peers.js';
import { serve, type Served } from './harness.js';

// TLS 1.2 minimum: a TLS 1.1 client is refused at the handshake, 1.2 and 1.3
// clients are served, and real skopeo verifies the server through the private CA.

function handshake(port: number, ca: string, version: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      ca,
      servername: 'localhost',
      minVersion: version === 'TLSv1.1' ? 'TLSv1' : version,
      maxVersion: version,
      // OpenSSL 3 will not even offer TLS 1.1 at its default security level.
      ...(version === 'TLSv1.1' ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    socket.once('secureConnect', () => {
      const protocol = socket.getProtocol() ?? '';
      socket.end();
      resolve(protocol);
    });
    socket.once('error', reject);
  });
}

describe.skipIf(!requirePeer('openssl', 'openssl'))('TLS', () => {
  let ca: TestCa;
  let s: Served;
  beforeAll(async () => {
    ca = await createCa();
    s = await serve({ tls: { certFile: ca.serverCertPath, keyFile: ca.serverKeyPath }, caCert: ca.caCertPem });
  });
  afterAll(async () => {
    await s?.stop();
    await ca?.remove();
  });

  it('serves https and says so', async () => {
    expect(s.server.secure).toBe(true);
    expect(s.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(s.server.banner.join('\n')).not.toMatch(/plain HTTP/i);
    expect((await s.send('GET', '/v2/')).status).toBe(200);
  });

  it('refuses a TLS 1.1 client at the handshake and accepts TLS 1.2 and 1.3', async () => {
    await expect(handshake(s.server.port, ca.caCertPem, 'TLSv1.1')).rejects.toThrow(/version|protocol|alert/i);
    expect(await handshake(s.server.port, ca.caCertPem, 'TLSv1.2')).toBe('TLSv1.2');
    expect(await handshake(s.server.port, ca.caCertPem, 'TLSv1.3')).toBe('TLSv1.3');
    expect((await s.send('GET', '/v2/')).status).toBe(200);
  });

  it.skipIf(!rigContext().available)('skopeo verifies the certificate through --cert-dir', async () => {
    const out = await runOk('skopeo', ['inspect', '--raw', '--cert-dir', ca.certDir, `docker://${s.server.address}/none/here:1`]).catch((e: Error) => e.message);
    // Reaching the registry over verified TLS and being told the manifest is unknown proves the handshake.
    expect(out).toMatch(/manifest unknown/i);
    const unverified = await runOk('skopeo', ['inspect', '--raw', `docker://${s.server.address}/none/here:1`]).catch((e: Error) => e.message);
    expect(unverified).toMatch(/certificate|x509/i);
  });

  it('a certificate and key that do not belong together are refused at start-up', async () => {
    const other = await createCa();
    try {
      await expect(serve({ tls: { certFile: ca.serverCertPath, keyFile: other.serverKeyPath } })).rejects.toThrow(/not usable/);
      await expect(serve({ tls: { certFile: '/nonexistent/cert.pem', keyFile: other.serverKeyPath } })).rejects.toThrow(/cannot read TLS certificate/);
    } finally {
      await other.remove();
    }
  });
});

describe('plain HTTP', () => {
  it('is labelled loudly in the banner', async () => {
    const s = await serve();
    try {
      expect(s.server.secure).toBe(false);
      expect(s.server.open).toBe(true);
      expect(s.server.banner.join('\n')).toMatch(/WARNING: plain HTTP/);
      expect(s.server.banner.join('\n')).toMatch(/no users file/);
    } finally {
      await s.stop();
    }
  });
});
