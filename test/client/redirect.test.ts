import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Descriptor } from '../../src/core/index.js';
import { createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { startFixture, type FixtureServer } from './fixture-server.js';

// Blob GETs that a registry redirects to storage (ACR → Azure blob storage):
// our Authorization goes along on the same origin and is dropped on another —
// the classic InvalidAuthenticationInfo, and a credential leak if we got it wrong.

const CREDS = { username: 'ferry', password: 'redirect-secret' };
const BASIC = `Basic ${Buffer.from(`${CREDS.username}:${CREDS.password}`).toString('base64')}`;
const blob = Buffer.from('bytes that live in storage, not in the registry\n'.repeat(100));
const desc: Descriptor = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: `sha256:${createHash('sha256').update(blob).digest('hex')}` as Descriptor['digest'],
  size: blob.length,
};

describe('redirects', () => {
  let storage: FixtureServer;
  let registry: FixtureServer;
  let client: RegistryClient;
  const trace = createMemoryTraceSink();

  beforeAll(async () => {
    // Another origin: `localhost` and another port, like a storage account.
    storage = await startFixture((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.end(blob);
    }, 'localhost');
    registry = await startFixture((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fixture"' });
        res.end();
        return;
      }
      if (path === '/v2/') return void res.end('{}');
      if (path === `/v2/app/blobs/${desc.digest}`) {
        res.writeHead(307, { location: `${storage.url}/container/blob?sig=SECRETSIG&se=2030-01-01&sp=r` });
        return void res.end();
      }
      if (path === `/v2/same/blobs/${desc.digest}`) {
        res.writeHead(302, { location: `/local-storage/${desc.digest}` });
        return void res.end();
      }
      if (path.startsWith('/local-storage/')) {
        res.writeHead(200, { 'content-length': String(blob.length) });
        return void res.end(blob);
      }
      res.writeHead(404);
      res.end();
    });
    client = createRegistryClient({ registry: registry.host, plainHttp: true, credentials: CREDS, trace });
  });
  afterAll(async () => {
    await client?.close();
    await storage?.stop();
    await registry?.stop();
  });

  const read = async (repo: string): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of await client.repository(repo).fetch(desc)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  test('cross-origin redirect: the storage origin never sees Authorization', async () => {
    expect((await read('app')).equals(blob)).toBe(true);
    expect(storage.seen).toHaveLength(1);
    expect(storage.seen[0]?.url).toBe('/container/blob?sig=SECRETSIG&se=2030-01-01&sp=r');
    expect(storage.seen[0]?.headers.authorization).toBeUndefined();
    // …while the registry itself did get the credentials for the same request.
    const blobGet = registry.seen.find((r) => r.url === `/v2/app/blobs/${desc.digest}` && r.headers.authorization);
    expect(blobGet?.headers.authorization).toBe(BASIC);
  });

  test('same-origin redirect keeps Authorization', async () => {
    expect((await read('same')).equals(blob)).toBe(true);
    const hop = registry.seen.find((r) => r.url.startsWith('/local-storage/'));
    expect(hop?.headers.authorization).toBe(BASIC);
  });

  test('the trace shows both hops with signatures and credentials redacted', () => {
    const text = JSON.stringify(trace.records);
    expect(text).not.toContain('SECRETSIG');
    expect(text).not.toContain('redirect-secret');
    expect(text).not.toContain(BASIC.slice(6));
    const hop = trace.records.find((r) => r.url.startsWith(storage.url));
    expect(hop?.url).toContain('sig=REDACTED');
    expect(hop?.requestHeaders.authorization).toBeUndefined();
    const redirect = trace.records.find((r) => r.status === 307);
    expect(redirect?.responseHeaders?.location).toContain('sig=REDACTED');
    expect(redirect?.requestHeaders.authorization).toBe('Basic REDACTED');
  });

  test('HEAD of a redirected blob counts as present without touching storage', async () => {
    const before = storage.seen.length;
    expect(await client.repository('app').exists(desc)).toBe(true);
    expect(storage.seen.length).toBe(before);
  });
});
