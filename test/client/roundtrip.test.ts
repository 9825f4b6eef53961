import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NotFoundError, digestHex, isForeignLayer, type Descriptor } from '../../src/core/index.js';
import { ANNOTATION_REFERRER_TAG, createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext, seededRig } from '../rig/context.js';
import { foreignUrlPattern } from '../rig/foreign-server.js';
import { ARTIFACT_KEYS, IMAGE_KEYS, registryBlobs, type RigImageKey } from '../rig/image-set.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { assertGraphIn, copyImage } from './copy-image.js';

// Every rig image, pulled from the seeded source registry and pushed into a real
// docker-registry in each auth mode with ferry's client, then pulled back by a
// fresh client: same digests, every byte hashing to its digest.

const KEYS: readonly RigImageKey[] = [...IMAGE_KEYS, ...ARTIFACT_KEYS];
const MODES = ['plain', 'basic', 'token'] as const;

describe.skipIf(!rigContext().available)('round trip through docker-registry', () => {
  const rig = rigContext().available ? seededRig() : undefined;

  describe.each(MODES)('%s', (mode) => {
    let target: Registry;
    const clients: RegistryClient[] = [];
    const client = (extra: Partial<Parameters<typeof createRegistryClient>[0]> = {}): RegistryClient => {
      const c = createRegistryClient({
        registry: target.host,
        plainHttp: true,
        ...(mode === 'basic' ? { credentials: { username: target.username ?? '', password: target.password ?? '' } } : {}),
        ...(mode === 'token' ? { credentials: { username: target.tokenServer?.username ?? '', password: target.tokenServer?.password ?? '' } } : {}),
        ...extra,
      });
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      if (!rig) return;
      target = await startRegistry({
        auth: mode === 'plain' ? 'none' : mode,
        allowForeignUrls: [foreignUrlPattern(rig.foreign.url)],
      });
    });
    afterAll(async () => {
      for (const c of clients) await c.close();
      await target?.stop();
    });

    test('push every image, pull it back with the same digests and bytes', async () => {
      if (!rig) return;
      const source = createRegistryClient({ registry: rig.source.host, plainHttp: true });
      clients.push(source);
      // basic mode also drives the chunked path: base layers (384 KiB) go up in 64 KiB PATCHes.
      const trace = createMemoryTraceSink();
      const pusher = client(mode === 'basic' ? { chunkSize: 64 * 1024, monolithicThreshold: 100 * 1024, trace } : { trace });
      for (const key of KEYS) {
        const image = rig.images.images[key];
        const src = source.repository(image.repository);
        const root = await src.resolve(image.tag ?? image.digest);
        expect(root.digest).toBe(image.digest);
        expect(root.size).toBe(image.size);
        await copyImage(src, pusher.repository(image.repository), root, {
          tags: image.tag ? [image.tag] : [],
          fetchForeign: (d) => source.fetchUrl(d.urls?.[0] ?? ''),
        });
      }

      const patches = trace.records.filter((r) => r.method === 'PATCH' && r.status === 202).length;
      if (mode === 'basic') expect(patches).toBeGreaterThanOrEqual(6);
      else expect(patches).toBe(0);
      const toRegistry = trace.records.filter((r) => r.url.startsWith(target.url));
      // Tags were PUT from the bytes just pushed: no manifest was read back from the target.
      expect(toRegistry.filter((r) => r.method === 'GET' && r.url.includes('/manifests/'))).toEqual([]);
      expect(toRegistry.filter((r) => r.method === 'PUT' && /\/manifests\/(1\.0|ltsc2022)$/.test(r.url)).length).toBe(5);
      const sentAuth = new Set(toRegistry.map((r) => String(r.requestHeaders.authorization ?? 'none').split(' ')[0]));
      expect([...sentAuth].filter((a) => a !== 'none')).toEqual(mode === 'plain' ? [] : [mode === 'basic' ? 'Basic' : 'Bearer']);

      const reader = client();
      for (const key of KEYS) {
        const image = rig.images.images[key];
        const repo = reader.repository(image.repository);
        const root = await repo.resolve(image.tag ?? image.digest);
        expect(root.digest).toBe(image.digest);
        expect(root.mediaType).toBe(image.mediaType);
        const { manifests, blobs } = await assertGraphIn(repo, root);
        expect([...manifests.keys()].sort()).toEqual(image.manifests.map((m) => m.digest).sort());
        expect(blobs).toBe(image.blobs.length);
      }
      // The foreign layer went up like any blob (the registry allows its urls here).
      const foreign = rig.images.foreignLayer;
      expect(isForeignLayer(foreign.mediaType)).toBe(true);
      expect(await reader.repository(rig.images.images.windows.repository).exists(foreign as Descriptor)).toBe(true);
    });

    test('tags, referrers (tag schema + cosign), mount across repositories', async () => {
      if (!rig) return;
      const c = client();
      const appA = rig.images.images.appA;
      const repo = c.repository(appA.repository);
      const tags = [];
      for await (const t of repo.tags()) tags.push(t);
      expect(tags.sort()).toEqual(['1.0', `sha256-${digestHex(appA.digest)}`, `sha256-${digestHex(appA.digest)}.sig`].sort());

      const found: Descriptor[] = [];
      for await (const d of repo.referrers({ mediaType: appA.mediaType, digest: appA.digest, size: appA.size })) found.push(d);
      const sbom = rig.images.images.sbom;
      const signature = rig.images.images.signature;
      expect(found.map((d) => d.digest)).toEqual([sbom.digest, signature.digest]);
      expect(found[0]?.artifactType).toBe(sbom.artifactType);
      expect(found[1]?.annotations?.[ANNOTATION_REFERRER_TAG]).toBe(`sha256-${digestHex(appA.digest)}.sig`);
      const filtered: Descriptor[] = [];
      for await (const d of repo.referrers(appA as Descriptor, { artifactType: 'application/x-none' })) filtered.push(d);
      expect(filtered).toEqual([]);

      // The mount's one token covers pull on app-a and push on the new repository (one scope set).
      const base = registryBlobs(rig.images.images.appB).find((b) => appA.blobs.some((a) => a.digest === b.digest));
      expect(base).toBeDefined();
      const mounted = c.repository('ferry-test/mounted');
      expect(await mounted.exists(base as Descriptor)).toBe(false);
      expect(await mounted.mount(base as Descriptor, appA.repository)).toBe(true);
      expect(await mounted.exists(base as Descriptor)).toBe(true);
      if (mode === 'token') {
        const scopes = target.tokenServer?.stats().scopes ?? [];
        expect(scopes).toContain('repository:ferry-test/app-a:pull');
        expect(scopes.some((s) => s.startsWith('repository:ferry-test/mounted:') && s.includes('push'))).toBe(true);
      }
      // A blob the source repository lacks is not mounted: the registry answers 202 and we report false.
      const missing = { ...(base as Descriptor), digest: `sha256:${'0'.repeat(64)}` } as Descriptor;
      expect(await mounted.mount(missing, appA.repository)).toBe(false);
    });

    test('delete a manifest by digest, then it is gone', async () => {
      if (!rig) return;
      const c = client();
      const docker = rig.images.images.docker;
      const repo = c.repository(docker.repository);
      const root = await repo.resolve('1.0');
      await repo.delete(root);
      await expect(repo.resolve(root.digest)).rejects.toSatisfy((e) => e instanceof NotFoundError && e.code === 'ERR_MANIFEST_UNKNOWN');
    });
  });
});
