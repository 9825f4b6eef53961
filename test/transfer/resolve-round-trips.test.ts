import pLimit from 'p-limit';
import { afterAll, describe, expect, test } from 'vitest';
import { createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { resolvePull } from '../../src/transfer/pull-image.js';
import { rigContext, seededRig } from '../rig/context.js';
import { useTempStores } from '../store/helpers/store-fixtures.js';

// An image the store has never pulled is read right after it is resolved (the
// plan walks it): export resolves it with one GET, not a HEAD then a GET (undici
// closes the connection after every HEAD). An image the store holds the tag of
// keeps the HEAD (free against pull limits).

const rig = rigContext().available ? seededRig() : undefined;
const fresh = useTempStores();

describe.skipIf(!rig)('resolve round trips of an export (docker-registry 2.8)', () => {
  const clients: RegistryClient[] = [];
  afterAll(async () => {
    for (const c of clients) await c.close();
  });

  test('a tag the store has not pulled: one GET of the manifest, no HEAD', async () => {
    if (!rig) return;
    const image = rig.images.images.appA;
    const trace = createMemoryTraceSink();
    const client = createRegistryClient({ registry: rig.source.host, plainHttp: true, trace });
    clients.push(client);
    const { store } = await fresh();
    const reference = { registry: rig.source.host, repository: image.repository, tag: image.tag ?? 'latest' };
    const found = await resolvePull(reference, { client, store, platforms: [], withReferrers: false, limit: pLimit(4) });
    expect(found.image.root.digest).toBe(image.digest);
    const manifestCalls = trace.records.filter((r) => new URL(r.url).pathname.includes('/manifests/'));
    expect(manifestCalls.map((r) => r.method)).toEqual(['GET']);
  });
});
