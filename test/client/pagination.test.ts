import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MediaType, digestOf, type Descriptor } from '../../src/core/index.js';
import { createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { nextLink } from '../../src/registry/client/pagination.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Listings past 100 entries (ACR and Harbor page at 100). distribution 2.8 pages
// _catalog with `n` + Link and sends every tag at once; both must come out whole.

describe('Link header', () => {
  test('rel="next" among other links and parameters', () => {
    expect(nextLink('</v2/_catalog?last=b&n=2>; rel="next"')).toBe('/v2/_catalog?last=b&n=2');
    expect(nextLink('<https://a.example/prev>; rel="prev", <https://a.example/v2/x/tags/list?n=100&last=t99>; type="x"; rel=next')).toBe('https://a.example/v2/x/tags/list?n=100&last=t99');
    expect(nextLink('<https://a.example/1>; rel="first next"')).toBe('https://a.example/1');
    expect(nextLink('<https://a.example/1>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe.skipIf(!rigContext().available)('pagination against docker-registry', () => {
  let registry: Registry;
  let client: RegistryClient;
  const trace = createMemoryTraceSink();
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const configDesc: Descriptor = { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: [] }));
  const manifestDesc: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(manifest), size: manifest.length };
  const TAGS = Array.from({ length: 130 }, (_, i) => `v${String(i).padStart(3, '0')}`);
  const REPOS = Array.from({ length: 105 }, (_, i) => `many/repo-${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ registry: registry.host, plainHttp: true, trace });
    const first = client.repository('paged/tags');
    await first.push(configDesc, Readable.from([config]));
    await first.push(manifestDesc, Readable.from([manifest]));
    for (const tag of TAGS) await first.tag(tag, manifestDesc);
    for (const name of REPOS) {
      const repo = client.repository(name);
      expect(await repo.mount(configDesc, 'paged/tags')).toBe(true);
      await repo.push(manifestDesc, Readable.from([manifest]));
      await repo.tag('1', manifestDesc);
    }
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  test('130 tags come out complete (2.8 ignores n for tags)', async () => {
    const tags: string[] = [];
    for await (const t of client.repository('paged/tags').tags({ pageSize: 10 })) tags.push(t);
    expect(tags.sort()).toEqual(TAGS);
  });

  test('the catalog, 106 repositories in pages of 7, follows every Link', async () => {
    const before = trace.records.length;
    const repos: string[] = [];
    for await (const r of client.catalog({ pageSize: 7 })) repos.push(r);
    expect(repos.sort()).toEqual([...REPOS, 'paged/tags'].sort());
    const pages = trace.records.slice(before).filter((r) => r.url.includes('/v2/_catalog'));
    expect(pages.length).toBe(Math.ceil(106 / 7));
    expect(pages.slice(1).every((p) => p.url.includes('last='))).toBe(true);
  });
});
