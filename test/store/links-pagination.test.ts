import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, MediaType, NotFoundError, UsageError } from '../../src/core/index.js';
import { body, bytesFor, config, imageIndex, imageManifest, layer, readAll, tempStore, type Blob } from './helpers/store-fixtures.js';
import type { Store } from '../../src/store/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function fresh(): Promise<Store> {
  const t = await tempStore();
  cleanups.push(t.cleanup);
  return t.store;
}

async function push(store: Store, repo: string, ...blobs: Blob[]): Promise<void> {
  for (const b of blobs) await store.repository(repo).push(b.desc, body(b.bytes));
}

describe('per-repository links', () => {
  const c = config('linked');
  const l = layer('linked-layer', 20_000);
  const m = imageManifest(c, [l]);

  it('serves a blob only from repositories that link it, until it is mounted', async () => {
    const store = await fresh();
    await push(store, 'team/a', c, l, m);
    const a = store.repository('team/a');
    const b = store.repository('team/b');
    expect(store.hasBlob(l.desc.digest)).toBe(true);
    expect(await a.exists(l.desc)).toBe(true);
    expect(await b.exists(l.desc)).toBe(false);
    await expect(b.fetch(l.desc)).rejects.toMatchObject({ code: ErrorCode.blobUnknown });
    await expect(b.resolve(m.desc.digest)).rejects.toMatchObject({ code: ErrorCode.manifestUnknown });
    await expect(b.tag('v1', m.desc)).rejects.toBeInstanceOf(NotFoundError);
    // The server answers MANIFEST_BLOB_UNKNOWN from this.
    expect(b.missingChildren(m.desc, m.bytes).map((d) => d.digest)).toEqual([c.desc.digest, l.desc.digest]);

    expect(await b.mount(l.desc, 'team/c')).toBe(false);
    expect(await b.exists(l.desc)).toBe(false);
    expect(await b.mount(l.desc, 'team/a')).toBe(true);
    expect(await b.exists(l.desc)).toBe(true);
    expect((await readAll(await b.fetch(l.desc))).equals(l.bytes)).toBe(true);
    expect(b.missingChildren(m.desc, m.bytes).map((d) => d.digest)).toEqual([c.desc.digest]);
    expect(store.linkedIn(l.desc.digest)).toEqual(['team/a', 'team/b']);
    // One repository that links it, never the one asked to be left out, nothing when none is left.
    expect(['team/a', 'team/b']).toContain(store.linkingRepository(l.desc.digest));
    expect(store.linkingRepository(l.desc.digest, 'team/a')).toBe('team/b');
    expect(store.linkingRepository(l.desc.digest, 'team/b')).toBe('team/a');
    expect(store.linkingRepository(c.desc.digest, 'team/a')).toBeUndefined();
    expect(store.linkingRepository(layer('never pushed', 10).desc.digest)).toBeUndefined();

    // Unlinking from one repository hides it there only; the bytes stay.
    expect(await a.unlinkBlob(l.desc.digest)).toBe(true);
    expect(await a.exists(l.desc)).toBe(false);
    expect(await b.exists(l.desc)).toBe(true);
    expect(store.hasBlob(l.desc.digest)).toBe(true);
  });

  it('links a blob the store already has without reading it, unless asked to verify the bytes', async () => {
    const store = await fresh();
    await push(store, 'team/a', l);
    const b = store.repository('team/b');
    const wrong = body(bytesFor('not the layer', l.desc.size));
    await expect(b.push(l.desc, wrong, { verifyExisting: true })).rejects.toMatchObject({ code: ErrorCode.digestMismatch });
    expect(await b.exists(l.desc)).toBe(false);
    await b.push(l.desc, body(l.bytes), { verifyExisting: true });
    expect(await b.exists(l.desc)).toBe(true);
    const trusting = store.repository('team/c');
    const unread = body(l.bytes);
    await trusting.push(l.desc, unread);
    expect(unread.destroyed).toBe(true);
    expect(await trusting.exists(l.desc)).toBe(true);
  });

  it('does not require foreign layers (with urls) or the subject to be present', async () => {
    const store = await fresh();
    const foreign = layer('windows-base', 5000, { mediaType: MediaType.dockerForeignLayer, urls: ['https://mcr.example/base'] });
    const withForeign = imageManifest(c, [foreign, l]);
    await push(store, 'win/app', c, l);
    expect(store.repository('win/app').missingChildren(withForeign.desc, withForeign.bytes)).toEqual([]);
    await push(store, 'win/app', withForeign);
    expect(store.foreignUrls(foreign.desc.digest)).toEqual(['https://mcr.example/base']);
  });

  it('deleting a manifest removes its tags in that repository only', async () => {
    const store = await fresh();
    await push(store, 'team/a', c, l, m);
    await push(store, 'team/b', c, l, m);
    await store.repository('team/a').tag('v1', m.desc);
    await store.repository('team/b').tag('v1', m.desc);
    expect(await store.repository('team/a').deleteManifest(m.desc.digest)).toBe(true);
    await expect(store.repository('team/a').resolve('v1')).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.repository('team/b').resolve('v1')).digest).toBe(m.desc.digest);
  });

  it('records an index, its children and their platforms', async () => {
    const store = await fresh();
    const arm = imageManifest(config('arm'), [l]);
    await push(store, 'multi/app', l, config('arm'), arm, c, m);
    const idx = imageIndex([
      { ...m.desc, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm.desc, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    await push(store, 'multi/app', idx);
    expect(store.manifest(arm.desc.digest)?.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(store.edges(idx.desc.digest).map((e) => [e.kind, e.descriptor.digest])).toEqual([
      ['manifest', m.desc.digest],
      ['manifest', arm.desc.digest],
    ]);
    expect(store.edges(m.desc.digest).map((e) => e.kind)).toEqual(['config', 'layer']);
  });
});

describe('listings', () => {
  it('pages tags and repositories in lexical order with last and n', async () => {
    const store = await fresh();
    const c = config('paged');
    const m = imageManifest(c, []);
    const tags = Array.from({ length: 250 }, (_, i) => `t${String(i).padStart(3, '0')}`).reverse();
    await push(store, 'paged/repo', c, m);
    const repo = store.repository('paged/repo');
    for (const tag of tags) await repo.tag(tag, m.desc);

    const seen: string[] = [];
    const sizes: number[] = [];
    let last: string | undefined;
    do {
      const page = store.listTags('paged/repo', { n: 100, last });
      seen.push(...page.items);
      sizes.push(page.items.length);
      last = page.next;
    } while (last !== undefined);
    expect(sizes).toEqual([100, 100, 50]);
    expect(seen).toEqual([...tags].sort());
    expect(store.listTags('paged/repo', { last: 't248' })).toEqual({ items: ['t249'], next: undefined });
    expect(store.listTags('paged/repo', { n: 2 })).toEqual({ items: ['t000', 't001'], next: 't001' });
    expect(store.listTags('paged/repo', { n: 0 }).items).toEqual([]);
    expect(() => store.listTags('paged/repo', { n: -1 })).toThrow(UsageError);

    const names = Array.from({ length: 120 }, (_, i) => `org/r${String(i).padStart(3, '0')}`);
    for (const name of names) await push(store, name, c);
    const repos: string[] = [];
    for (let page = store.listRepositories({ n: 50 }); ; page = store.listRepositories({ n: 50, last: page.next })) {
      repos.push(...page.items);
      if (page.next === undefined) break;
    }
    expect(repos).toEqual([...names, 'paged/repo'].sort());
  });

  it('validates names and reports unknown repositories', async () => {
    const store = await fresh();
    expect(() => store.repository('Bad/Name')).toThrow(UsageError);
    expect(() => store.listTags('nobody/here')).toThrow(expect.objectContaining({ code: ErrorCode.nameUnknown }));
    await expect(store.repository('a/b').tag('bad tag', { mediaType: MediaType.ociManifest, digest: config('x').desc.digest, size: 1 })).rejects.toMatchObject({
      code: ErrorCode.tagInvalid,
    });
  });
});
