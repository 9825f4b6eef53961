import { createHash } from 'node:crypto';
import { createServer as createNetServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ExitCode, FerryError, MediaType, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient, registryErrorDetails, type RegistryClient, type RetryInfo } from '../../src/registry/client/index.js';
import { freePort } from '../rig/free-port.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { sendJson, startFixture, type FixtureServer } from './fixture-server.js';

// Every error row of the client: real docker-registries (wrong credentials, unknown
// names, refused content), tiny fixtures for answers distribution never gives
// (ACR's "operation not allowed", quota, 429, schema 1), and real network
// failures (closed port, unresolvable host, a server that never answers).
// Each must be ONE line starting with METHOD URL, in the right exit category.

type ClientInit = Parameters<typeof createRegistryClient>[0];

async function failure(run: () => Promise<unknown>): Promise<FerryError> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FerryError);
  const e = err as FerryError;
  expect(e.message).not.toMatch(/\n/);
  return e;
}

const bytesOf = (text: string) => Buffer.from(text);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Descriptor['digest'];

describe.skipIf(!rigContext().available)('error rows', () => {
  const clients: RegistryClient[] = [];
  const client = (init: ClientInit): RegistryClient => {
    const c = createRegistryClient({ retryBaseDelayMs: 5, ...init });
    clients.push(c);
    return c;
  };
  let basic: Registry;
  let token: Registry;
  let plain: Registry;
  let fixture: FixtureServer;

  beforeAll(async () => {
    [basic, token, plain] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' }), startRegistry()]);
    fixture = await startFixture((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/v2/') return sendJson(res, 200, {});
      const [, repo] = /^\/v2\/(.+?)\/(manifests|blobs|tags)/.exec(path) ?? [];
      switch (repo) {
        case 'locked/app':
          return sendJson(res, 403, { errors: [{ code: 'DENIED', message: 'The operation is not allowed on a locked or quarantined image: operation not allowed' }] });
        case 'quota/app':
          return sendJson(res, 403, { errors: [{ code: 'DENIED', message: 'storage quota exceeded for this registry' }] });
        case 'reader/app':
          return sendJson(res, 403, { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] });
        case 'busy/app':
          return sendJson(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'retry-after': '0' });
        case 'broken/app':
          return sendJson(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'backend down' }] });
        case 'invalid/app':
          return sendJson(res, 400, { errors: [{ code: 'NAME_INVALID', message: 'invalid repository name' }] });
        case 'old/app': {
          const body = JSON.stringify({ schemaVersion: 1, name: 'old/app', tag: '1', fsLayers: [] });
          res.writeHead(200, { 'content-type': MediaType.dockerSchema1Signed, 'content-length': String(body.length) });
          return void res.end(req.method === 'HEAD' ? undefined : body);
        }
        case 'liar/app': {
          const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: {}, layers: [] });
          res.writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': `sha256:${'1'.repeat(64)}`, 'content-length': String(body.length) });
          return void res.end(body);
        }
        default:
          return sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
      }
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await Promise.all([basic?.stop(), token?.stop(), plain?.stop(), fixture?.stop()]);
  });

  test('401 wrong basic credentials → AuthError, exit 3', async () => {
    const c = client({ registry: basic.host, plainHttp: true, credentials: { username: 'ferry', password: 'wrong' } });
    const e = await failure(() => c.repository('any/thing').resolve('1.0'));
    expect(e.code).toBe('ERR_UNAUTHORIZED');
    expect(e.exitCode).toBe(ExitCode.auth);
    // Who, where, what, what to check; the raw request line only in the details.
    expect(e.message).toBe(`user ferry was refused by ${basic.host} to pull any/thing: wrong user or password, or an expired token; check --creds, --authfile (or REGISTRY_AUTH_FILE), or run ferry login ${basic.host} again`);
    expect(e.details?.['request']).toMatch(new RegExp(`^HEAD http://${basic.host}/v2/any/thing/manifests/1\\.0: 401`));
  });

  test('401 without any credentials says none were found', async () => {
    const c = client({ registry: basic.host, plainHttp: true, env: {}, homeDir: '/nonexistent' });
    const e = await failure(() => c.repository('any/thing').resolve('1.0'));
    expect(e.code).toBe('ERR_UNAUTHORIZED');
    expect(e.message).toMatch(/^anonymous access \(no credentials\) was refused by 127\.0\.0\.1:\d+ to pull any\/thing: no credentials found for 127\.0\.0\.1/);
  });

  test('401 from the token service (wrong user) → AuthError, exit 3', async () => {
    const c = client({ registry: token.host, plainHttp: true, credentials: { username: 'nobody', password: 'nope' } });
    const e = await failure(() => c.repository('any/thing').resolve('1.0'));
    expect(e.code).toBe('ERR_UNAUTHORIZED');
    expect(e.exitCode).toBe(ExitCode.auth);
    expect(e.message).toMatch(/^user nobody was refused by 127\.0\.0\.1:\d+ to pull any\/thing: wrong user or password/);
    expect(e.details?.['request']).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/token\?/);
  });

  test.each([
    ['locked/app', 'ERR_LOCKED', /read-enabled true/],
    ['quota/app', 'ERR_QUOTA_EXCEEDED', /raise the quota/],
    ['reader/app', 'ERR_DENIED', /the credentials are valid but lack the role to pull \(ACR: AcrPull.*\(the registry said: 403 DENIED/],
  ])('403 DENIED %s → AuthError %s with the matching hint', async (repo, code, hint) => {
    const c = client({ registry: fixture.host, plainHttp: true, credentials: { username: 'someone', password: 'pw' } });
    const e = await failure(() => c.repository(repo).tag('1.0', { mediaType: MediaType.ociManifest, digest: sha(bytesOf('x')), size: 1 }));
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(ExitCode.auth);
    // A missing role is said as who was refused (refusals.ts); the raw request line is in its details.
    expect(String(e.details?.['request'] ?? e.message)).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/v2\/.+: 403 DENIED/);
    expect(e.hint ?? e.message).toMatch(hint);
  });

  test('404 on the real registry: MANIFEST_UNKNOWN and BLOB_UNKNOWN → NotFoundError, exit 4', async () => {
    const c = client({ registry: plain.host, plainHttp: true });
    const m = await failure(() => c.repository('nothing/here').resolve('1.0'));
    expect(m.exitCode).toBe(ExitCode.notFound);
    expect(['ERR_MANIFEST_UNKNOWN', 'ERR_NAME_UNKNOWN']).toContain(m.code);
    expect(m.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v2\/nothing\/here\/manifests\/1\.0: 404 (MANIFEST|NAME)_UNKNOWN/);
    const blob = Buffer.from('absent');
    const b = await failure(async () => {
      for await (const _ of await c.repository('nothing/here').fetch({ mediaType: MediaType.ociLayerGzip, digest: sha(blob), size: blob.length })) {
        // nothing
      }
    });
    expect(b.code).toBe('ERR_BLOB_UNKNOWN');
    expect(b.exitCode).toBe(ExitCode.notFound);
  });

  test('404 NAME_UNKNOWN from a registry → NotFoundError ERR_NAME_UNKNOWN', async () => {
    const e = await failure(() => client({ registry: fixture.host, plainHttp: true }).repository('missing/app').resolve('1'));
    expect(e.code).toBe('ERR_NAME_UNKNOWN');
  });

  test('a manifest whose blobs are missing: MANIFEST_BLOB_UNKNOWN is kept for the copier', async () => {
    const config = bytesOf('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const manifest = bytesOf(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: sha(config), size: config.length }, layers: [] }));
    const c = client({ registry: plain.host, plainHttp: true });
    const e = await failure(() => c.repository('dangling/app').push({ mediaType: MediaType.ociManifest, digest: sha(manifest), size: manifest.length }, Readable.from([manifest])));
    expect(e.exitCode).toBe(ExitCode.notFound);
    expect(registryErrorDetails(e)?.codes).toContain('MANIFEST_BLOB_UNKNOWN');
    expect(registryErrorDetails(e)?.status).toBe(400);
  });

  test('429 that never ends → NetworkError ERR_TOO_MANY_REQUESTS after the retries, exit 6', async () => {
    const retries: RetryInfo[] = [];
    const c = client({ registry: fixture.host, plainHttp: true, retries: 3, onRetry: (r) => retries.push(r) });
    const e = await failure(() => c.repository('busy/app').resolve('1'));
    expect(e.code).toBe('ERR_TOO_MANY_REQUESTS');
    expect(e.exitCode).toBe(ExitCode.network);
    expect(retries.filter((r) => r.reason === 'HTTP 429')).toHaveLength(3);
  });

  test('503 that never ends → NetworkError ERR_REGISTRY after the retries', async () => {
    const e = await failure(() => client({ registry: fixture.host, plainHttp: true, retries: 2 }).repository('broken/app').resolve('1'));
    expect(e.code).toBe('ERR_REGISTRY');
    expect(e.exitCode).toBe(ExitCode.network);
    // A HEAD has no body: the status is all there is to say.
    expect(e.message).toMatch(/^HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/broken\/app\/manifests\/1: 503$/);
  });

  test('NAME_INVALID → UsageError, exit 2; an uppercase name is refused before any request', async () => {
    const e = await failure(() => client({ registry: fixture.host, plainHttp: true }).repository('invalid/app').resolve('1'));
    expect(e.code).toBe('ERR_NAME_INVALID');
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.hint).toMatch(/lowercase/);
    const before = fixture.seen.length;
    const upper = await failure(async () => client({ registry: fixture.host, plainHttp: true }).repository('Team/App'));
    expect(upper.code).toBe('ERR_NAME_INVALID');
    expect(fixture.seen.length).toBe(before);
  });

  test('schema 1 manifests are refused with a hint', async () => {
    const e = await failure(() => client({ registry: fixture.host, plainHttp: true }).repository('old/app').resolve('1'));
    expect(e.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.hint).toMatch(/schema 2/);
  });

  test('a Docker-Content-Digest that does not match the bytes → IntegrityError, exit 5', async () => {
    const e = await failure(() => client({ registry: fixture.host, plainHttp: true }).repository('liar/app').fetchManifest('1'));
    expect(e.code).toBe('ERR_DIGEST_MISMATCH');
    expect(e.exitCode).toBe(ExitCode.integrity);
  });

  test.each([
    ['monolithic', {}],
    ['chunked', { chunkSize: 1024, monolithicThreshold: 0 }],
  ])('a %s push of bytes that are not the descriptor fails and commits nothing', async (_how, sizes) => {
    const real = Buffer.alloc(5000, 7);
    const fake = Buffer.alloc(5000, 8);
    const desc: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: sha(real), size: real.length };
    const c = client({ registry: plain.host, plainHttp: true, ...sizes });
    const repo = c.repository('tamper/app');
    const e = await failure(() => repo.push(desc, Readable.from([fake.subarray(0, 2000), fake.subarray(2000)])));
    expect(e.code).toBe('ERR_DIGEST_MISMATCH');
    expect(e.exitCode).toBe(ExitCode.integrity);
    expect(await repo.exists(desc)).toBe(false);
    expect(await repo.exists({ ...desc, digest: sha(fake) })).toBe(false);
    const long = await failure(() => repo.push(desc, Readable.from([real, Buffer.from('extra')])));
    expect(long.code).toBe('ERR_SIZE_MISMATCH');
    expect(await repo.exists(desc)).toBe(false);
  });

  test('connection refused → NetworkError ERR_NETWORK after retries', async () => {
    const port = await freePort();
    const retries: RetryInfo[] = [];
    const e = await failure(() => client({ registry: `127.0.0.1:${port}`, plainHttp: true, retries: 2, onRetry: (r) => retries.push(r) }).ping());
    expect(e.code).toBe('ERR_NETWORK');
    expect(e.exitCode).toBe(ExitCode.network);
    expect(e.message).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/v2/: connection refused`));
    expect(retries).toHaveLength(2);
  });

  test('a host that does not resolve → NetworkError ERR_NETWORK', async () => {
    const e = await failure(() => client({ registry: 'nonexistent.invalid', retries: 1 }).ping());
    expect(e.code).toBe('ERR_NETWORK');
    expect(e.message).toMatch(/^GET https:\/\/nonexistent\.invalid\/v2\/: cannot resolve the registry host/);
    expect(e.hint).toMatch(/DNS/);
  });

  test('a server that never answers → NetworkError ERR_TIMEOUT', async () => {
    const silent: Server = createNetServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const e = await failure(() => client({ registry: `127.0.0.1:${port}`, plainHttp: true, retries: 1, timeouts: { headers: 300 } }).ping());
      expect(e.code).toBe('ERR_TIMEOUT');
      expect(e.exitCode).toBe(ExitCode.network);
    } finally {
      silent.close();
    }
  });

  test('plain HTTP to a non-loopback host is refused (exit 2) unless forced', async () => {
    const e = await failure(async () => client({ registry: 'registry.example.com', plainHttp: true }));
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.message).toMatch(/refusing plain HTTP to registry\.example\.com/);
    expect(client({ registry: 'registry.example.com', plainHttp: true, forcePlainHttp: true }).baseUrl.href).toBe('http://registry.example.com/');
  });
});
