import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createSelfSignedCert, type TestCa } from '../rig/ca.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { startTls11Server, type Tls11Server } from '../rig/tls11-server.js';
import { createExpiredCert, startHttpsRegistry, type ExpiredCert, type HttpsFixture } from './certs.js';
import { startHttp, type HttpFixture } from './fake-registries.js';
import { check, doctor, statuses } from './helpers.js';

// TLS as it really is on 127.0.0.1: a docker-registry behind a throwaway CA, a
// TLS-1.1-only server, a server that still accepts 1.0/1.1, an expired and a
// wrongly named certificate (made with openssl here), and plain HTTP on a TLS port.

describe.skipIf(!rigContext().available)('doctor: TLS', () => {
  let registry: Registry;
  let ca: TestCa;
  let tls11: Tls11Server;
  let legacy: HttpsFixture;
  let expired: ExpiredCert;
  let expiredServer: HttpsFixture;
  let wrongDir: string;
  let wrongCertPath: string;
  let wrongServer: HttpsFixture;
  let plain: HttpFixture;

  beforeAll(async () => {
    registry = await startRegistry({ tls: true });
    ca = await createCa();
    tls11 = await startTls11Server(ca);
    legacy = await startHttpsRegistry({ certPem: ca.serverCertPem, keyPem: ca.serverKeyPem, minVersion: 'TLSv1' });
    expired = await createExpiredCert();
    expiredServer = await startHttpsRegistry({ certPem: expired.certPem, keyPem: expired.keyPem });
    wrongDir = await mkdtemp(join(tmpdir(), 'ferry-doctor-wrong-'));
    const wrong = await createSelfSignedCert(wrongDir, 'wrong.example');
    wrongCertPath = wrong.certPath;
    wrongServer = await startHttpsRegistry({ certPem: wrong.certPem, keyPem: wrong.keyPem });
    plain = await startHttp((_req, res) => {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await tls11?.stop();
    await legacy?.stop();
    await expiredServer?.stop();
    await wrongServer?.stop();
    await plain?.stop();
    await expired?.remove();
    await ca?.remove();
    if (wrongDir) await rm(wrongDir, { recursive: true, force: true });
  });

  it('a TLS registry with --ca-cert: TLS 1.3, legacy refused, trusted, name matches; the 2-day rig cert warns', async () => {
    const report = await doctor({ registry: registry.host, caCert: registry.caCertPath ?? '', pushTest: 'doctor/tls-push' });
    expect(statuses(report)).toEqual({
      name: 'ok', dns: 'ok', tcp: 'ok',
      'tls-version': 'ok', 'tls-legacy': 'ok', 'certificate-trust': 'ok', 'certificate-name': 'ok', 'certificate-expiry': 'warn',
      ping: 'ok', auth: 'ok', push: 'ok', redirect: 'skip', clock: 'ok',
    });
    expect(check(report, 'tls-version').detail).toMatch(/^TLSv1\.3, cipher TLS_/);
    expect(check(report, 'tls-legacy').detail).toBe('TLS 1.0 and 1.1 refused');
    expect(check(report, 'certificate-trust').detail).toBe(`issued by CN=ferry-test-ca to CN=127.0.0.1; trusted (--ca-cert ${registry.caCertPath ?? ''})`);
    expect(check(report, 'certificate-name').detail).toBe('127.0.0.1 matches IP:127.0.0.1, DNS:localhost');
    expect(check(report, 'certificate-expiry').detail).toMatch(/^expires on \d{4}-\d\d-\d\d \(in (4[0-8] hours|2 days)\)$/);
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
  });

  it('without --ca-cert the private CA is not trusted: fail with a --ca-cert hint, HTTP checks skipped (exit 6)', async () => {
    const report = await doctor({ registry: registry.host });
    const trust = check(report, 'certificate-trust');
    expect(trust).toMatchObject({ status: 'fail', code: 'ERR_TLS', exitCode: 6 });
    expect(trust.detail).toBe('issued by CN=ferry-test-ca to CN=127.0.0.1; not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(trust.hint).toContain('--ca-cert');
    expect(check(report, 'certificate-name').status).toBe('ok');
    expect(statuses(report)).toMatchObject({ ping: 'skip', auth: 'skip', clock: 'skip' });
    expect(check(report, 'ping').detail).toBe('skipped: TLS failed');
    expect(report.exitCode).toBe(6);
  });

  it('--tls-verify=false turns the trust failure into a warning and the registry answers', async () => {
    const report = await doctor({ registry: registry.host, tlsVerify: false });
    expect(check(report, 'certificate-trust')).toMatchObject({ status: 'warn' });
    expect(check(report, 'certificate-trust').detail).toContain('not verified: --tls-verify=false');
    expect(check(report, 'ping').status).toBe('ok');
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
  });

  it('a TLS-1.1-only server fails tls-version and names what it speaks; no HTTP request is sent', async () => {
    const report = await doctor({ registry: tls11.host, caCert: ca.caCertPath });
    const version = check(report, 'tls-version');
    expect(version).toMatchObject({ status: 'fail', code: 'ERR_TLS', exitCode: 6 });
    expect(version.detail).toBe(`${tls11.host} offers no TLS 1.2 or newer (it accepts only TLSv1, TLSv1.1)`);
    expect(version.hint).toContain('TLS 1.2');
    expect(check(report, 'tls-legacy')).toMatchObject({ status: 'warn', detail: 'the server accepts TLSv1, TLSv1.1 (deprecated)' });
    expect(statuses(report)).toMatchObject({ 'certificate-trust': 'skip', ping: 'skip' });
    expect(tls11.requests()).toBe(0);
    expect(report.exitCode).toBe(6);
  });

  it('a server that negotiates TLS 1.3 but still accepts 1.0 and 1.1 warns', async () => {
    const report = await doctor({ registry: legacy.host, caCert: ca.caCertPath });
    expect(check(report, 'tls-version').status).toBe('ok');
    expect(check(report, 'tls-legacy')).toMatchObject({ status: 'warn', detail: 'the server also accepts TLSv1, TLSv1.1 (deprecated)' });
    expect(check(report, 'ping').status).toBe('ok');
    expect(report.exitCode).toBe(0);
  });

  it('an expired certificate from a trusted CA: expiry fails, trust holds (exit 6)', async () => {
    const report = await doctor({ registry: expiredServer.host, caCert: expired.caCertPath });
    expect(check(report, 'certificate-expiry')).toMatchObject({ status: 'fail', code: 'ERR_TLS', exitCode: 6 });
    expect(check(report, 'certificate-expiry').detail).toMatch(/^expired on 2020-02-01 \(\d+ days ago\)$/);
    expect(check(report, 'certificate-trust').status).toBe('ok');
    expect(check(report, 'certificate-name').status).toBe('ok');
    expect(check(report, 'ping').status).toBe('skip');
    expect(report.exitCode).toBe(6);
  });

  it('an expired certificate from an unknown CA fails both trust and expiry (the date does not hide the CA)', async () => {
    const report = await doctor({ registry: expiredServer.host });
    expect(check(report, 'certificate-trust')).toMatchObject({ status: 'fail' });
    expect(check(report, 'certificate-trust').detail).toBe('issued by CN=ferry-doctor-expired-ca to CN=127.0.0.1; not trusted: no trusted CA issued it');
    expect(check(report, 'certificate-expiry').status).toBe('fail');
  });

  it('a certificate for another name: trusted, but the name check fails (exit 6)', async () => {
    const report = await doctor({ registry: wrongServer.host, caCert: wrongCertPath });
    expect(check(report, 'certificate-trust').status).toBe('ok');
    const name = check(report, 'certificate-name');
    expect(name).toMatchObject({ status: 'fail', code: 'ERR_TLS', exitCode: 6 });
    expect(name.detail).toBe('the certificate is for CN=wrong.example, not 127.0.0.1');
    expect(name.hint).toContain('subjectAltName');
    expect(check(report, 'ping').status).toBe('skip');
    expect(report.exitCode).toBe(6);
  });

  it('plain HTTP on the port: "does not answer in TLS" with a --plain-http hint', async () => {
    const report = await doctor({ registry: plain.host });
    const version = check(report, 'tls-version');
    expect(version).toMatchObject({ status: 'fail', exitCode: 6 });
    expect(version.detail).toMatch(new RegExp(`^${plain.host} does not answer in TLS \\(ERR_SSL_`));
    expect(version.hint).toContain('--plain-http');
    expect(check(report, 'tls-legacy').status).toBe('skip');
  });
});
