import { afterEach, describe, expect, it } from 'vitest';
import { config, imageManifest, layer, pushImage, tempStore, type Blob } from './helpers/store-fixtures.js';

// store usage tallies in one streamed pass over rows grouped by repository,
// then tag: a blob reached from repositories that are not next to each other in
// that order, and twice within one repository, is still counted once per
// repository and shared everywhere it is.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('store usage over repositories apart in order', () => {
  it('counts a layer shared by a/1, a/2 and c/1 (not b) once per repository, unique nowhere', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const shared = layer('shared', 5000);
    const own = (s: string) => layer(s, 100);
    const images = {
      a1: { cfg: config('a1'), l: own('a1') },
      a2: { cfg: config('a2'), l: own('a2') },
      b1: { cfg: config('b1'), l: own('b1') },
      c1: { cfg: config('c1'), l: own('c1') },
    };
    const mA1 = imageManifest(images.a1.cfg, [shared, images.a1.l]);
    const mA2 = imageManifest(images.a2.cfg, [shared, images.a2.l]);
    const mB1 = imageManifest(images.b1.cfg, [images.b1.l]);
    const mC1 = imageManifest(images.c1.cfg, [shared, images.c1.l]);
    await pushImage(t.store, 'r/a', '1', [images.a1.cfg, shared, images.a1.l], mA1);
    await pushImage(t.store, 'r/a', '2', [images.a2.cfg, shared, images.a2.l], mA2);
    await pushImage(t.store, 'r/b', '1', [images.b1.cfg, images.b1.l], mB1);
    await pushImage(t.store, 'r/c', '1', [images.c1.cfg, shared, images.c1.l], mC1);
    const size = (...bs: Blob[]) => bs.reduce((n, b) => n + b.desc.size, 0);

    const u = t.store.usage();
    const repo = (name: string) => u.repositories.find((r) => r.name === name);
    expect(u.repositories.map((r) => r.name)).toEqual(['r/a', 'r/b', 'r/c']);
    expect(repo('r/a')).toMatchObject({
      blobs: 7,
      bytes: size(shared, images.a1.cfg, images.a1.l, mA1, images.a2.cfg, images.a2.l, mA2),
      uniqueBytes: size(images.a1.cfg, images.a1.l, mA1, images.a2.cfg, images.a2.l, mA2),
      sharedBytes: size(shared),
    });
    expect(repo('r/b')).toMatchObject({ blobs: 3, uniqueBytes: size(images.b1.cfg, images.b1.l, mB1), sharedBytes: 0 });
    expect(repo('r/c')).toMatchObject({ blobs: 4, uniqueBytes: size(images.c1.cfg, images.c1.l, mC1), sharedBytes: size(shared) });
    expect(repo('r/a')?.images.map((i) => [i.tag, i.blobs, i.uniqueBytes, i.sharedBytes])).toEqual([
      ['1', 4, size(images.a1.cfg, images.a1.l, mA1), size(shared)],
      ['2', 4, size(images.a2.cfg, images.a2.l, mA2), size(shared)],
    ]);
    const all = [shared, ...Object.values(images).flatMap((i) => [i.cfg, i.l]), mA1, mA2, mB1, mC1];
    expect(u.taggedBytes).toBe(size(...all));
    expect(u.untaggedBytes).toBe(0);
  });
});
