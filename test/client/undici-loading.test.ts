import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { startFixture, type FixtureServer } from './fixture-server.js';

// The client takes undici's Agent and request API without undici's index, which
// loads all of undici (fetch, WebSocket, caches, mocks) into every command's
// start-up. A client must still work: this one fetches a blob over it.

const blob = Buffer.from('a blob fetched through the lean undici Agent\n');
const desc: Descriptor = {
  mediaType: 'application/octet-stream',
  digest: `sha256:${createHash('sha256').update(blob).digest('hex')}` as Descriptor['digest'],
  size: blob.length,
};

describe('the registry client loads undici lean', () => {
  let registry: FixtureServer;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startFixture((req, res) => {
      if (req.url === '/v2/') return void res.end('{}');
      if (req.url === `/v2/lean/blobs/${desc.digest}`) return void res.end(blob);
      res.writeHead(404).end();
    });
    client = createRegistryClient({ registry: registry.host, plainHttp: true });
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  test('a request works, and undici/index.js was never loaded', async () => {
    const chunks: Buffer[] = [];
    for await (const c of await client.repository('lean').fetch(desc)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(blob)).toBe(true);
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('/node_modules/undici/'));
    expect(loaded.some((p) => p.endsWith('/undici/lib/dispatcher/agent.js'))).toBe(true);
    expect(loaded.filter((p) => p.endsWith('/undici/index.js'))).toEqual([]);
    // fetch and WebSocket stay out of the process.
    expect(loaded.filter((p) => /\/undici\/lib\/web\//.test(p))).toEqual([]);
  });
});
