import { describe, expect, it } from 'vitest';
import { ErrorCode, MediaType, NotFoundError } from '../../src/core/index.js';
import type { Store } from '../../src/store/index.js';
import { blobFiles, body, config, hexOf, imageIndex, imageManifest, ingestFiles, layer, useTempStores, type Blob } from './helpers/store-fixtures.js';

// The store itself refuses a manifest whose children it does not hold in that
// repository (distribution's MANIFEST_BLOB_UNKNOWN), whoever pushes it: ferry
// serve, `import --to-store`, a copy. Foreign layers (with urls) and a dangling
// subject are allowed, as in distribution and OCI 1.1.

const fresh = useTempStores();

async function push(store: Store, repo: string, ...blobs: Blob[]): Promise<void> {
  for (const b of blobs) await store.repository(repo).push(b.desc, body(b.bytes));
}

describe('a manifest whose children are missing', () => {
  const c = config('children-config');
  const l1 = layer('children-l1', 3000);
  const l2 = layer('children-l2', 4000);
  const m = imageManifest(c, [l1, l2]);

  it('is refused with ERR_BLOB_UNKNOWN naming the missing digest, and leaves nothing behind', async () => {
    const { store, dir } = await fresh();
    await push(store, 'team/app', c, l1);
    const err = await store
      .repository('team/app')
      .push(m.desc, body(m.bytes))
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: ErrorCode.blobUnknown, exitCode: 4 });
    expect((err as Error).message).toContain(l2.desc.digest);
    expect((err as Error).message).not.toContain(l1.desc.digest);
    // No manifest row, no link, no file in blobs/, no temp file in ingest/.
    expect(store.manifest(m.desc.digest)).toBeUndefined();
    expect(store.hasBlob(m.desc.digest)).toBe(false);
    expect(await blobFiles(dir)).not.toContain(hexOf(m.desc.digest));
    expect(await ingestFiles(dir)).toEqual([]);
    await expect(store.repository('team/app').tag('v1', m.desc)).rejects.toBeInstanceOf(NotFoundError);

    // With every child in place the same push is accepted.
    await push(store, 'team/app', l2, m);
    await store.repository('team/app').tag('v1', m.desc);
    expect((await store.repository('team/app').resolve('v1')).digest).toBe(m.desc.digest);
  });

  it('is refused when the children are only in another repository (links are per repository)', async () => {
    const { store } = await fresh();
    await push(store, 'team/a', c, l1, l2, m);
    await expect(store.repository('team/b').push(m.desc, body(m.bytes))).rejects.toMatchObject({ code: ErrorCode.blobUnknown });
    // The manifest blob is in the store (team/a), but team/b must not get it without its children.
    expect(await store.repository('team/b').exists(m.desc)).toBe(false);
    for (const b of [c, l1, l2]) expect(await store.repository('team/b').mount(b.desc, 'team/a')).toBe(true);
    await push(store, 'team/b', m);
    expect(await store.repository('team/b').exists(m.desc)).toBe(true);
  });

  it('an index is refused while a child manifest is missing', async () => {
    const { store } = await fresh();
    const other = imageManifest(config('children-arm'), [l1]);
    const index = imageIndex([
      { ...m.desc, platform: { os: 'linux', architecture: 'amd64' } },
      { ...other.desc, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await push(store, 'multi/app', c, l1, l2, m);
    const refused = store.repository('multi/app').push(index.desc, body(index.bytes));
    await expect(refused).rejects.toMatchObject({ code: ErrorCode.blobUnknown });
    await expect(refused).rejects.toThrow(other.desc.digest);
  });

  it('accepts absent foreign layers (with urls) and a dangling subject', async () => {
    const { store } = await fresh();
    const foreign = layer('children-windows-base', 5000, { mediaType: MediaType.dockerForeignLayer, urls: ['https://mcr.example/base'] });
    const win = imageManifest(c, [foreign, l1]);
    await push(store, 'win/app', c, l1, win);
    expect(store.manifest(win.desc.digest)).toBeDefined();

    const sigConfig = config('children-sig');
    const sig = imageManifest(sigConfig, [], { subject: m.desc, artifactType: 'application/vnd.example.sig' });
    await push(store, 'team/app', sigConfig, sig);
    expect(store.manifest(sig.desc.digest)?.subject).toBe(m.desc.digest);
  });
});
