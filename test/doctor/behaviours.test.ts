import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTraceSink } from '../../src/registry/client/index.js';
import {
  startHeaderlessRegistry, startLockedRegistry, startRedirectingRegistry, startSkewedRegistry, startWebServer,
  type HttpFixture, type RedirectingRegistry,
} from './fake-registries.js';
import { check, doctor, statuses } from './helpers.js';

// Registry behaviours a stock docker-registry cannot show, from tiny node:http
// servers: blob redirects to another origin, skewed clocks, a locked
// repository, a web server where a registry should be, a proxy eating headers.

describe('doctor: blob redirects', () => {
  let registry: RedirectingRegistry;
  beforeAll(async () => {
    registry = await startRedirectingRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('reports the storage origin, redacted, and proves Authorization went to the registry but not to storage', async () => {
    const trace = createMemoryTraceSink();
    const report = await doctor({ registry: registry.host, plainHttp: true, credentials: registry.creds, repository: 'app:1.0', trace });
    const redirect = check(report, 'redirect');
    expect(redirect.status).toBe('ok');
    expect(redirect.detail).toContain(`redirected (307) to ${registry.storage.origin}, which answered 200; ferry sent no Authorization there (the registry got it)`);
    expect(redirect.detail).not.toContain(registry.signature);
    // What the servers saw, independently of the doctor's reading of its trace:
    expect(registry.authorizedBlobGets()).toBe(1);
    expect(registry.storageAuthorizations()).toEqual([undefined]);
    // And the --trace records carry the signed URL redacted.
    const hop = trace.records.find((r) => r.url.startsWith(registry.storage.origin));
    expect(hop?.url).toContain('sig=REDACTED');
    expect(JSON.stringify(trace.records)).not.toContain(registry.signature);
    expect(report.exitCode).toBe(0);
  });

  it('without a tag, the first listed tag is used; without --repository the check is skipped', async () => {
    const untagged = await doctor({ registry: registry.host, plainHttp: true, credentials: registry.creds, repository: 'app' });
    expect(check(untagged, 'redirect').status).toBe('ok');
    expect(check(untagged, 'redirect').detail).toContain(`to ${registry.storage.origin}`);
    const skipped = await doctor({ registry: registry.host, plainHttp: true, credentials: registry.creds });
    expect(check(skipped, 'redirect')).toMatchObject({ status: 'skip' });
    expect(check(skipped, 'redirect').detail).toContain('--repository');
  });

  it('a storage origin that cannot be reached fails the redirect check and names that origin (exit 6)', async () => {
    const storage = registry.storage;
    await storage.stop();
    try {
      const report = await doctor({ registry: registry.host, plainHttp: true, credentials: registry.creds, repository: 'app:1.0', retries: 0 });
      const redirect = check(report, 'redirect');
      expect(redirect).toMatchObject({ status: 'fail', exitCode: 6 });
      expect(redirect.detail).toContain(`blob GET redirected to ${storage.origin}, which failed`);
      expect(redirect.detail).not.toContain(registry.signature);
      expect(redirect.hint).toContain('reachable');
    } finally {
      await registry.stop();
      registry = await startRedirectingRegistry();
    }
  });
});

describe('doctor: clock skew', () => {
  const fixtures: HttpFixture[] = [];
  afterAll(async () => {
    await Promise.all(fixtures.map((f) => f.stop()));
  });
  const skewed = async (offsetMs: number) => {
    const f = await startSkewedRegistry(offsetMs);
    fixtures.push(f);
    return doctor({ registry: f.host, plainHttp: true });
  };

  it('10 minutes ahead fails with exit 3 (tokens would be refused)', async () => {
    const report = await skewed(10 * 60_000);
    const clock = check(report, 'clock');
    expect(clock).toMatchObject({ status: 'fail', code: 'ERR_UNAUTHORIZED', exitCode: 3 });
    expect(clock.detail).toMatch(/^the registry clock is (9|10) min ahead of this machine's$/);
    expect(clock.hint).toContain('NTP');
    expect(report.exitCode).toBe(3);
  });

  it('2 minutes behind warns', async () => {
    const report = await skewed(-2 * 60_000);
    const clock = check(report, 'clock');
    expect(clock.status).toBe('warn');
    expect(clock.detail).toMatch(/^the registry clock is (11\d s|2 min) behind this machine's$/);
    expect(report.exitCode).toBe(0);
  });

  it('no skew is ok', async () => {
    const report = await skewed(0);
    expect(check(report, 'clock')).toMatchObject({ status: 'ok', detail: 'the registry clock agrees with ours (within 1 s)' });
  });
});

describe('doctor: registries that refuse or are not registries', () => {
  const fixtures: HttpFixture[] = [];
  afterAll(async () => {
    await Promise.all(fixtures.map((f) => f.stop()));
  });
  const start = async (make: () => Promise<HttpFixture>) => {
    const f = await make();
    fixtures.push(f);
    return f;
  };

  it('a locked repository refuses the push test with 403 DENIED and a locked/quota hint (exit 3)', async () => {
    const f = await start(startLockedRegistry);
    const report = await doctor({ registry: f.host, plainHttp: true, pushTest: 'team/app' });
    const push = check(report, 'push');
    expect(push).toMatchObject({ status: 'fail', code: 'ERR_LOCKED', exitCode: 3 });
    expect(push.detail).toContain('403 DENIED: operation not allowed: the repository is locked');
    expect(push.hint).toMatch(/write-enabled true/);
    expect(report.exitCode).toBe(3);
  });

  it('a web server where the registry should be: /v2/ 404 fails the ping, auth and push are skipped (exit 6)', async () => {
    const f = await start(startWebServer);
    const report = await doctor({ registry: f.host, plainHttp: true, pushTest: 'team/app' });
    expect(check(report, 'ping')).toMatchObject({ status: 'fail', code: 'ERR_REGISTRY', exitCode: 6, detail: 'GET /v2/ → 404: no registry API here' });
    expect(statuses(report)).toMatchObject({ auth: 'skip', push: 'skip', redirect: 'skip', clock: 'ok' });
    expect(report.exitCode).toBe(6);
  });

  it('/v2/ 200 without Docker-Distribution-API-Version warns', async () => {
    const f = await start(startHeaderlessRegistry);
    const report = await doctor({ registry: f.host, plainHttp: true });
    expect(check(report, 'ping').status).toBe('warn');
    expect(check(report, 'ping').detail).toContain('no Docker-Distribution-API-Version header');
    expect(report.exitCode).toBe(0);
  });
});
