import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_ORDER } from '../../src/doctor/index.js';
import { rigContext, seededRig } from '../rig/context.js';
import { freePort } from '../rig/free-port.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { check, doctor, statuses } from './helpers.js';

// ferry doctor against a real plain-HTTP docker-registry on 127.0.0.1, a port
// nobody listens on, a name that does not resolve, and names that are wrong.

describe.skipIf(!rigContext().available)('doctor: plain HTTP registry', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry({});
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('passes every check that applies, in order, and skips TLS and the opt-in checks', async () => {
    const report = await doctor({ registry: registry.host, plainHttp: true });
    expect(report.checks.map((c) => c.name)).toEqual(CHECK_ORDER);
    expect(statuses(report)).toEqual({
      name: 'ok', dns: 'ok', tcp: 'ok',
      'tls-version': 'skip', 'tls-legacy': 'skip', 'certificate-trust': 'skip', 'certificate-name': 'skip', 'certificate-expiry': 'skip',
      ping: 'ok', auth: 'ok', push: 'skip', redirect: 'skip', clock: 'ok',
    });
    expect(report).toMatchObject({ registry: registry.host, ok: true, exitCode: 0 });
    expect(check(report, 'name').detail).toContain(`http://${registry.host}`);
    expect(check(report, 'tcp').detail).toBe(`connected to ${registry.host}`);
    expect(check(report, 'ping').detail).toContain('GET /v2/ → 200');
    expect(check(report, 'ping').detail).toContain('registry/2.0');
    expect(check(report, 'auth').detail).toContain('anonymous access');
    expect(check(report, 'push').detail).toContain('--push-test');
    expect(check(report, 'clock').detail).toContain('agrees');
  });

  it('--push-test opens an upload on the real registry and cancels it', async () => {
    const report = await doctor({ registry: registry.host, plainHttp: true, pushTest: 'doctor/push-probe' });
    const push = check(report, 'push');
    expect(push.status).toBe('ok');
    expect(push.detail).toContain('POST /v2/doctor/push-probe/blobs/uploads/ → 202');
    expect(push.detail).toMatch(/DELETE → 20[04]/);
    expect(report.exitCode).toBe(0);
  });

  it('--repository downloads a blob of a real image: served by the registry itself, no redirect', async () => {
    const rig = seededRig();
    const image = rig.images.images.multi;
    const report = await doctor({ registry: rig.source.host, plainHttp: true, repository: `${image.repository}:${image.tag ?? ''}` });
    const redirect = check(report, 'redirect');
    expect(redirect.status).toBe('ok');
    expect(redirect.detail).toMatch(/GET of config sha256:[0-9a-f]{12}… answered by the registry itself \((200|206), no redirect\)/);
  });

  it('--repository with a repository that does not exist fails the redirect check with not-found (exit 4)', async () => {
    const report = await doctor({ registry: registry.host, plainHttp: true, repository: 'no/such-repo:1.0' });
    expect(check(report, 'redirect')).toMatchObject({ status: 'fail', exitCode: 4 });
    expect(report.exitCode).toBe(4);
  });

  it('an uppercase host warns, is lowercased, and everything else still passes', async () => {
    const port = registry.host.split(':')[1] ?? '';
    const report = await doctor({ registry: `LocalHost:${port}`, plainHttp: true });
    const name = check(report, 'name');
    expect(name.status).toBe('warn');
    expect(name.detail).toContain(`ferry uses localhost:${port}`);
    expect(name.hint).toContain('lowercase');
    expect(report.registry).toBe(`localhost:${port}`);
    expect(check(report, 'dns').detail).toMatch(/^localhost → /);
    expect(check(report, 'ping').status).toBe('ok');
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
  });
});

describe('doctor: unreachable or unusable names', () => {
  it('a closed port fails TCP with "refused" (exit 6) and skips everything after it', async () => {
    const port = await freePort();
    const report = await doctor({ registry: `127.0.0.1:${port}`, plainHttp: true });
    expect(statuses(report)).toMatchObject({ name: 'ok', dns: 'ok', tcp: 'fail', ping: 'skip', auth: 'skip', clock: 'skip' });
    expect(check(report, 'tcp')).toMatchObject({ code: 'ERR_NETWORK', exitCode: 6 });
    expect(check(report, 'tcp').detail).toBe(`connection to 127.0.0.1:${port} refused`);
    expect(check(report, 'ping').detail).toBe('skipped: no TCP connection');
    expect(report).toMatchObject({ ok: false, exitCode: 6 });
  });

  it('a name that does not resolve fails DNS with the OS error (exit 6)', async () => {
    const report = await doctor({ registry: 'nonexistent.invalid' });
    expect(check(report, 'dns')).toMatchObject({ status: 'fail', code: 'ERR_NETWORK', exitCode: 6 });
    expect(check(report, 'dns').detail).toMatch(/^cannot resolve nonexistent\.invalid: (ENOTFOUND|EAI_AGAIN)$/);
    expect(check(report, 'dns').hint).toContain('DNS');
    expect(statuses(report)).toMatchObject({ tcp: 'skip', 'tls-version': 'skip', ping: 'skip' });
    expect(report.exitCode).toBe(6);
  });

  it('an invalid host fails the name check as a usage error (exit 2)', async () => {
    const report = await doctor({ registry: 'bad_host!:5000' });
    expect(check(report, 'name')).toMatchObject({ status: 'fail', exitCode: 2, code: 'ERR_REFERENCE_INVALID' });
    expect(report.checks.slice(1).every((c) => c.status === 'skip')).toBe(true);
    expect(report).toMatchObject({ registry: 'bad_host!:5000', exitCode: 2 });
  });

  it('plain HTTP to a non-loopback host is refused before any connection (exit 2)', async () => {
    const report = await doctor({ registry: 'registry.example.com', plainHttp: true });
    expect(check(report, 'name')).toMatchObject({ status: 'fail', exitCode: 2 });
    expect(check(report, 'name').detail).toContain('refusing plain HTTP');
    expect(check(report, 'dns').status).toBe('skip');
  });

  it('a scheme and a path in the name are stripped and said so', async () => {
    const port = await freePort();
    const report = await doctor({ registry: `https://127.0.0.1:${port}/library/`, timeoutMs: 2_000 });
    expect(check(report, 'name').detail).toBe(`https://127.0.0.1:${port}; path /library ignored: doctor checks the host`);
    expect(check(report, 'tcp').status).toBe('fail');
  });
});
