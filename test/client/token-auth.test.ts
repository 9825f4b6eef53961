import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuthError, ExitCode, MediaType, type Descriptor } from '../../src/core/index.js';
import { createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { addUser } from '../../src/registry/server/index.js';
import { manualClock } from '../helpers/manual-clock.js';
import { workDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { serve } from '../server/harness.js';
import { startShortTokenIssuer, type ShortTokenIssuer } from './short-token-issuer.js';

// Bearer tokens against a real docker-registry: refreshed before they expire,
// refreshed after a 401 in the middle of a long chunked upload (without
// restarting the upload), traded from an identity token with the OAuth2 grant,
// and refused cleanly when the token grants too little. Time moves on injected
// clocks (the client's, and ferry serve's where the registry must see a token
// expire), never by sleeping.

const blobOf = (text: string, size: number): Buffer => {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) createHash('sha256').update(`${text}-${i}`).digest().copy(out, i);
  return out;
};
const descOf = (bytes: Buffer): Descriptor => ({
  mediaType: MediaType.ociLayerGzip,
  digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'],
  size: bytes.length,
});

describe.skipIf(!rigContext().available)('token auth', () => {
  let issuer: ShortTokenIssuer;
  let registry: Registry;
  const clients: RegistryClient[] = [];
  const client = (extra: Partial<Parameters<typeof createRegistryClient>[0]> = {}): RegistryClient => {
    const c = createRegistryClient({ registry: registry.host, plainHttp: true, credentials: { username: issuer.username, password: issuer.password }, ...extra });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    issuer = await startShortTokenIssuer();
    registry = await startRegistry({ auth: 'token', tokenServer: issuer });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await registry?.stop();
    await issuer?.stop();
  });

  test('a token is replaced before expires_in runs out, without a 401', async () => {
    issuer.settings.validSeconds = 3600;
    issuer.settings.claimSeconds = 2;
    const trace = createMemoryTraceSink();
    const clock = manualClock();
    const c = client({ trace, clock: clock.now });
    const repo = c.repository('tokens/proactive');
    const bytes = blobOf('proactive', 1000);
    await repo.push(descOf(bytes), Readable.from([bytes]));
    const issued = issuer.stats().issued;
    expect(await repo.exists(descOf(bytes))).toBe(true);
    expect(issuer.stats().issued, 'still fresh: no new token').toBe(issued);
    clock.advance(2100);
    expect(await repo.exists(descOf(bytes))).toBe(true);
    expect(issuer.stats().issued).toBe(issued + 1);
    expect(trace.records.filter((r) => r.status === 401 && r.url.startsWith(registry.url) && !r.url.endsWith('/v2/'))).toEqual([]);
  });

  test('a token the registry stops accepting mid-upload is refreshed after the 401 and the upload goes on', async () => {
    // ferry serve as the registry, on a clock the test moves: the client is told its token
    // lives an hour, and the registry's hour passes while the source is slow.
    const work = await workDir('ferry-token-slow-');
    const users = work.path('users.yaml');
    await addUser(users, 'slow', 'slow-secret', [{ pattern: '*', roles: ['pull', 'push'] }]);
    const registryClock = manualClock();
    let patched: () => void = () => undefined;
    const firstPatch = new Promise<void>((resolve) => (patched = resolve));
    const served = await serve({ users, clock: registryClock.now, tokenTtlSeconds: 3600, onRequest: (e) => e.method === 'PATCH' && e.status === 202 && patched() });
    try {
      const trace = createMemoryTraceSink();
      const c = createRegistryClient({ registry: new URL(served.server.url).host, plainHttp: true, credentials: { username: 'slow', password: 'slow-secret' }, trace, chunkSize: 64 * 1024, monolithicThreshold: 0 });
      clients.push(c);
      const bytes = blobOf('slow-source', 256 * 1024);
      const desc = descOf(bytes);
      async function* slowSource(): AsyncGenerator<Buffer> {
        yield bytes.subarray(0, 128 * 1024);
        await firstPatch; // the upload is under way with the token…
        registryClock.advance(2 * 3_600_000); // …and, the stick being slow, it dies meanwhile
        yield bytes.subarray(128 * 1024);
      }
      await c.repository('tokens/slow').push(desc, Readable.from(slowSource()));
      expect(await c.repository('tokens/slow').exists(desc)).toBe(true);
      const upload = trace.records.filter((r) => r.url.includes('/v2/tokens/slow/blobs/uploads/'));
      expect(upload.filter((r) => r.method === 'POST' && r.status === 202)).toHaveLength(1);
      expect(upload.filter((r) => r.method === 'PATCH' && r.status === 401).length).toBeGreaterThanOrEqual(1);
      expect(upload.filter((r) => r.method === 'PATCH' && r.status === 202)).toHaveLength(4);
      expect(upload.at(-1)).toMatchObject({ method: 'PUT', status: 201 });
    } finally {
      await served.stop();
      await work.cleanup();
    }
  });

  test('an identity token is traded with the OAuth2 refresh-token grant', async () => {
    issuer.settings.validSeconds = 3600;
    issuer.settings.claimSeconds = 3600;
    const before = issuer.requests.length;
    const c = client({ credentials: { identityToken: issuer.refreshToken } });
    const bytes = blobOf('identity', 500);
    await c.repository('tokens/identity').push(descOf(bytes), Readable.from([bytes]));
    const mine = issuer.requests.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.method === 'POST' && r.grant === 'refresh_token')).toBe(true);
    expect(mine.at(-1)?.scopes).toContain('repository:tokens/identity:pull,push');
  });

  test('wrong identity token and too little access are AuthErrors, after one retry', async () => {
    const bad = client({ credentials: { identityToken: 'not-it' } });
    const e = await bad.repository('tokens/x').resolve('1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).exitCode).toBe(ExitCode.auth);
    expect((e as AuthError).message).toMatch(/^identity token was refused by 127\.0\.0\.1:\d+: wrong user or password/);
    expect((e as AuthError).details?.['request']).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/token: 401/);

    // Anonymous pull is granted, anonymous push is not: a clean 401 after one fresh token, no loop.
    const open = await startRegistry({ auth: 'token', tokenOptions: { anonymousPull: true } });
    try {
      const anon = createRegistryClient({ registry: open.host, plainHttp: true, env: {}, homeDir: '/nonexistent' });
      clients.push(anon);
      const tags: string[] = [];
      for await (const t of anon.repository('tokens/anon').tags()) tags.push(t);
      expect(tags).toEqual([]);
      const bytes = blobOf('anonymous', 100);
      const denied = await anon.repository('tokens/anon').push(descOf(bytes), Readable.from([bytes])).catch((x: unknown) => x);
      expect(denied).toBeInstanceOf(AuthError);
      expect((denied as AuthError).message).toMatch(/^anonymous access \(no credentials\) was refused by 127\.0\.0\.1:\d+ to push tokens\/anon: no credentials found/);
      expect(open.tokenServer?.stats().issued).toBeLessThanOrEqual(4);
    } finally {
      await open.stop();
    }
  });
});
