import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blobFiles, body, config, hexOf, imageManifest, layer, manualClock, pushImage, tempStore, type Blob } from './helpers/store-fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function countRows(dir: string, table: string): number {
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('deduplication and usage', () => {
  const l1 = layer('shared-1', 1000);
  const l2 = layer('shared-2', 2000);
  const l3 = layer('api-only', 4000);
  const cA = config('web');
  const cB = config('api');
  const mA = imageManifest(cA, [l1, l2]);
  const mB = imageManifest(cB, [l1, l2, l3]);
  const size = (...bs: Blob[]) => bs.reduce((n, b) => n + b.desc.size, 0);

  it('stores each blob of two images that share layers exactly once, and reports shared bytes', async () => {
    const clock = manualClock();
    const t = await tempStore({ clock: clock.now });
    cleanups.push(t.cleanup);
    await pushImage(t.store, 'apps/web', '1.0', [cA, l1, l2], mA);
    // The second image's layers arrive concurrently from two sources: still one file each.
    await Promise.all([
      pushImage(t.store, 'apps/api', '2.0', [cB, l1, l2, l3], mB),
      t.store.repository('apps/api').push(l1.desc, body(l1.bytes)),
    ]);

    const all = [cA, cB, l1, l2, l3, mA, mB];
    expect(await blobFiles(t.dir)).toEqual(all.map((b) => hexOf(b.desc.digest)).sort());
    expect(countRows(t.dir, 'blobs')).toBe(7);
    expect(countRows(t.dir, 'manifests')).toBe(2);
    expect(countRows(t.dir, 'links')).toBe(4 + 5); // web: cA l1 l2 mA; api: cB l1 l2 l3 mB

    const u = t.store.usage();
    expect(u.blobCount).toBe(7);
    expect(u.totalBytes).toBe(size(...all));
    expect(u.taggedBytes).toBe(size(...all));
    expect(u.untaggedBytes).toBe(0);
    const web = u.repositories.find((r) => r.name === 'apps/web');
    const api = u.repositories.find((r) => r.name === 'apps/api');
    expect(web).toMatchObject({ bytes: size(cA, l1, l2, mA), uniqueBytes: size(cA, mA), sharedBytes: 3000, blobs: 4 });
    expect(api).toMatchObject({ bytes: size(cB, l1, l2, l3, mB), uniqueBytes: size(cB, l3, mB), sharedBytes: 3000, blobs: 5 });
    expect(web?.images).toEqual([
      { repository: 'apps/web', tag: '1.0', digest: mA.desc.digest, blobs: 4, bytes: size(cA, l1, l2, mA), uniqueBytes: size(cA, mA), sharedBytes: 3000 },
    ]);
    expect(api?.images[0]).toMatchObject({ tag: '2.0', uniqueBytes: size(cB, l3, mB), sharedBytes: 3000 });

    // A second tag on the same manifest: that image frees nothing on its own any more.
    await t.store.repository('apps/web').tag('latest', mA.desc);
    const again = t.store.usage().repositories.find((r) => r.name === 'apps/web');
    expect(again?.images.map((i) => [i.tag, i.uniqueBytes, i.sharedBytes])).toEqual([
      ['1.0', 0, size(cA, l1, l2, mA)],
      ['latest', 0, size(cA, l1, l2, mA)],
    ]);
    expect(again).toMatchObject({ uniqueBytes: size(cA, mA), sharedBytes: 3000 });

    // Deleting api:2.0 and collecting garbage frees exactly the bytes usage called unique to it.
    const before = t.store.usage().totalBytes;
    const apiUnique = api?.uniqueBytes ?? -1;
    expect(await t.store.repository('apps/api').untag('2.0')).toBe(true);
    clock.advance(60 * 60_000);
    const gc = await t.store.gc();
    expect(gc.bytes).toBe(apiUnique);
    expect(t.store.usage().totalBytes).toBe(before - apiUnique);
    expect(await blobFiles(t.dir)).toEqual([cA, l1, l2, mA].map((b) => hexOf(b.desc.digest)).sort());
  });

  it('counts a referrer (signature) with the image it signs', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    await pushImage(t.store, 'apps/web', '1.0', [cA, l1, l2], mA);
    const sigLayer = layer('signature-payload', 300);
    const sigCfg = config('sig');
    const sig = imageManifest(sigCfg, [sigLayer], { subject: mA.desc, artifactType: 'application/vnd.example.sig' });
    const repo = t.store.repository('apps/web');
    for (const b of [sigCfg, sigLayer, sig]) await repo.push(b.desc, body(b.bytes));
    const image = t.store.usage().repositories[0]?.images[0];
    expect(image).toMatchObject({ tag: '1.0', blobs: 7, bytes: size(cA, l1, l2, mA, sigCfg, sigLayer, sig) });
  });
});
