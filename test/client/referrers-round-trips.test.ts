import { afterAll, describe, expect, test } from 'vitest';
import { digestHex, type Descriptor } from '../../src/core/index.js';
import { ANNOTATION_REFERRER_TAG, createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext, seededRig } from '../rig/context.js';
import { IMAGE_KEYS } from '../rig/image-set.js';

// Referrer discovery per manifest is what an export of many small images pays
// for most (issue 16): against distribution 2.8 (no referrers API) the API is
// asked once per client, not once per manifest, and the tag schema and cosign
// look-ups still find what they found before. Which tags exist is learnt from one
// tags/list per repository: a tag-schema or cosign tag is asked for only when it exists.

const rig = rigContext().available ? seededRig() : undefined;

describe.skipIf(!rig)('referrer discovery round trips (docker-registry 2.8)', () => {
  const clients: RegistryClient[] = [];
  afterAll(async () => {
    for (const c of clients) await c.close();
  });

  test('the referrers API is probed once per client, tags listed once per repository; every subject still gets its tag-schema and cosign referrers', async () => {
    if (!rig) return;
    const trace = createMemoryTraceSink();
    const client = createRegistryClient({ registry: rig.source.host, plainHttp: true, trace });
    clients.push(client);
    const found = new Map<string, string[]>();
    for (const key of IMAGE_KEYS) {
      const image = rig.images.images[key];
      const list: Descriptor[] = [];
      for await (const d of client.repository(image.repository).referrers({ mediaType: image.mediaType, digest: image.digest, size: image.size })) list.push(d);
      found.set(key, list.map((d) => d.digest));
      if (key === 'appA') expect(list[1]?.annotations?.[ANNOTATION_REFERRER_TAG]).toBe(`sha256-${digestHex(image.digest)}.sig`);
    }
    const { sbom, signature } = rig.images.images;
    expect(found.get('appA')).toEqual([sbom.digest, signature.digest]);
    for (const key of IMAGE_KEYS) if (key !== 'appA') expect(found.get(key)).toEqual([]);

    const apiCalls = trace.records.filter((r) => new URL(r.url).pathname.includes('/referrers/'));
    const tagSchema = trace.records.filter((r) => /\/manifests\/sha256-[0-9a-f]{64}$/.test(new URL(r.url).pathname));
    const cosign = trace.records.filter((r) => /\/manifests\/sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(new URL(r.url).pathname));
    const listings = trace.records.filter((r) => new URL(r.url).pathname.endsWith('/tags/list'));
    const repositories = new Set(IMAGE_KEYS.map((key) => rig.images.images[key].repository));
    expect(apiCalls).toHaveLength(1);
    // Only appA has a tag-schema index and a .sig tag: nothing else is asked for.
    expect(tagSchema).toHaveLength(1);
    expect(cosign.map((r) => new URL(r.url).pathname.split('/').pop())).toEqual([`sha256-${digestHex(rig.images.images.appA.digest)}.sig`]);
    expect(listings).toHaveLength(repositories.size);
  });

  test('subjects looked up at once wait for one API probe; without cosign tags, each subject\'s index is asked for directly, no tags listed', async () => {
    if (!rig) return;
    const trace = createMemoryTraceSink();
    const client = createRegistryClient({ registry: rig.source.host, plainHttp: true, trace });
    clients.push(client);
    const lists = await Promise.all(
      IMAGE_KEYS.map(async (key) => {
        const image = rig.images.images[key];
        const list: string[] = [];
        for await (const d of client.repository(image.repository).referrers({ mediaType: image.mediaType, digest: image.digest, size: image.size }, { cosignTags: false })) list.push(d.digest);
        return [key, list] as const;
      }),
    );
    // The OCI referrer (the SBOM) is found; the cosign signature, named only by its tag, is not asked for.
    for (const [key, list] of lists) expect(list, key).toEqual(key === 'appA' ? [rig.images.images.sbom.digest] : []);
    const paths = trace.records.map((r) => new URL(r.url).pathname);
    expect(paths.filter((p) => p.includes('/referrers/'))).toHaveLength(1);
    expect(paths.filter((p) => p.endsWith('/tags/list'))).toEqual([]);
    const indexes = paths.filter((p) => /\/manifests\/sha256-[0-9a-f]{64}$/.test(p));
    expect(indexes.sort()).toEqual(IMAGE_KEYS.map((key) => `/v2/${rig.images.images[key].repository}/manifests/sha256-${digestHex(rig.images.images[key].digest)}`).sort());
  });
});
