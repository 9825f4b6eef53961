import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBlob, pushImage, serve, type Answer, type Served } from './harness.js';

// Tags and catalog past 100 entries (ACR and Harbor page there): Link headers
// followed to the end give exactly the full sorted list, with no duplicates.

const TAGS = 130;
const REPOS = 115;
/** Past the 1,000-entry pages ferry used to cap every listing at. */
const BIG_TAGS = 1_100;

async function follow(s: Served, first: string, key: 'tags' | 'repositories'): Promise<{ items: string[]; pages: number }> {
  const items: string[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next !== undefined) {
    const page: Answer = await s.send('GET', next);
    expect(page.status).toBe(200);
    items.push(...(page.json<Record<string, string[]>>()[key] ?? []));
    pages++;
    const link = page.headers.link;
    if (link === undefined) next = undefined;
    else {
      const m = /^<([^>]+)>; rel="next"$/.exec(link);
      expect(m, link).not.toBeNull();
      next = m?.[1];
    }
    expect(pages).toBeLessThan(100);
  }
  return { items, pages };
}

describe('pagination', () => {
  let s: Served;
  const tags: string[] = [];
  const repos: string[] = [];
  const bigTags: string[] = [];
  beforeAll(async () => {
    s = await serve();
    const { manifest } = await pushImage(s, 'page/app', 'seed', 'pagination');
    tags.push('seed');
    for (let i = 0; i < TAGS - 1; i++) {
      const tag = `v${(i * 7919) % 1000}-${i}`; // not created in sorted order
      const a = await s.send('PUT', `/v2/page/app/manifests/${tag}`, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
      expect(a.status).toBe(201);
      tags.push(tag);
    }
    const digest = await pushBlob(s, 'page/app', Buffer.from('shared by every repository'));
    repos.push('page/app');
    for (let i = 0; i < REPOS - 1; i++) {
      const name = `many/r${String((i * 37) % 997).padStart(3, '0')}-${i}`;
      const a = await s.send('POST', `/v2/${name}/blobs/uploads/?mount=${digest}&from=page/app`);
      expect(a.status).toBe(201);
      repos.push(name);
    }
    const big = await pushImage(s, 'page/big', 'seed', 'pagination big');
    bigTags.push('seed');
    repos.push('page/big');
    for (let i = 0; i < BIG_TAGS - 1; i++) {
      const tag = `b${i}`;
      const a = await s.send('PUT', `/v2/page/big/manifests/${tag}`, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: big.manifest });
      expect(a.status).toBe(201);
      bigTags.push(tag);
    }
    tags.sort();
    repos.sort();
  }, 120_000);
  afterAll(async () => {
    await s.stop();
  });

  it(`follows Link headers through ${TAGS} tags in pages of 17`, async () => {
    const { items, pages } = await follow(s, '/v2/page/app/tags/list?n=17', 'tags');
    expect(items).toEqual(tags);
    expect(pages).toBe(Math.ceil(TAGS / 17));
    const last = await s.send('GET', `/v2/page/app/tags/list?n=17&last=${encodeURIComponent(tags[tags.length - 18] ?? '')}`);
    expect(last.json<{ tags: string[] }>().tags).toEqual(tags.slice(-17));
    expect(last.headers.link).toBeUndefined();
  });

  it('without n, every tag comes in one page', async () => {
    const all = await s.send('GET', '/v2/page/app/tags/list');
    expect(all.json<{ tags: string[] }>().tags).toEqual(tags);
    expect(all.headers.link).toBeUndefined();
  });

  it(`follows Link headers through ${REPOS} repositories in the catalog, pages of 50`, async () => {
    const { items, pages } = await follow(s, '/v2/_catalog?n=50', 'repositories');
    expect(items).toEqual(repos);
    expect(pages).toBe(Math.ceil(repos.length / 50));
    expect(new Set(items).size).toBe(items.length);
  });

  it(`answers n=${BIG_TAGS} and an unpaged request with all ${BIG_TAGS} tags in one page`, async () => {
    const all = [...bigTags].sort();
    const asked = await s.send('GET', `/v2/page/big/tags/list?n=${BIG_TAGS}`);
    expect(asked.json<{ tags: string[] }>().tags).toEqual(all);
    expect(asked.headers.link).toBeUndefined();
    const unpaged = await s.send('GET', '/v2/page/big/tags/list');
    expect(unpaged.json<{ tags: string[] }>().tags).toEqual(all);
    expect(unpaged.headers.link).toBeUndefined();
  });

  it('n=0 is an empty page; last past the end is an empty page', async () => {
    expect((await s.send('GET', '/v2/_catalog?n=0')).json()).toEqual({ repositories: [] });
    expect((await s.send('GET', '/v2/page/app/tags/list?last=zzzz')).json()).toEqual({ name: 'page/app', tags: [] });
  });
});
