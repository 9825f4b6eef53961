import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, writeBundle, type Bundle, type ManifestDb } from '../../src/bundle/index.js';
import type { Digest } from '../../src/core/digest.js';
import { landAll } from '../../src/transfer/import-lanes.js';
import { planImport, type PlannedImage } from '../../src/transfer/import-plan.js';
import { ALL_IMAGES, fetchFrom, imageInput, tempDir, testImages } from '../bundle/fixtures.js';

// What an import holds and asks must not grow with the square of the images:
// the plan reads the referrers once (not once per image, with a blob lookup for
// every referrer of the bundle each time), and at most `lanes` repositories
// land at once (all of them at once held every landing's state together).

let work: Awaited<ReturnType<typeof tempDir>>;
let bundle: Bundle;

beforeAll(async () => {
  work = await tempDir('ferry-import-scale-');
  const { set, blobs } = await testImages();
  const out = `${work.dir}/bundle.tar`;
  await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, created: new Date('2024-05-01T12:00:00Z'), toolVersion: '0.1.0-test', out });
  bundle = await openBundle(out);
});

afterAll(async () => {
  await bundle?.close();
  await work?.cleanup();
});

/** The bundle's real index, counting the calls made to it. */
function counting(db: ManifestDb): { db: ManifestDb; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(db, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { db: proxy, calls };
}

describe('import plan', () => {
  it('reads the referrers once and looks up only each image’s own', () => {
    const { db, calls } = counting(bundle.db);
    const plan = planImport(db, { kind: 'store' });
    const images = bundle.db.images().length;
    const referrers = bundle.db.referrers().length;
    expect(images).toBeGreaterThan(3);
    expect(referrers).toBeGreaterThan(0);
    expect(plan.images.flatMap((i) => i.referrers).length).toBe(referrers);
    expect(calls.get('referrers')).toBe(1);
    // One lookup per referrer, not one per (image, referrer of the bundle).
    expect(calls.get('blob')).toBe(referrers);
    // Each repository once per blob, however many of its images share the blob.
    for (const [digest, keys] of plan.needs) expect(new Set(keys).size, digest).toBe(keys.length);
    expect([...plan.needs.values()].some((keys) => keys.length > 0)).toBe(true);
  });
});

describe('landing lanes', () => {
  const image = (i: number): PlannedImage => ({
    source: `registry.example/app${i}:1.0`,
    target: { registry: 'target.example', repository: `app${i % 40}`, tag: '1.0' },
    root: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(i).padStart(64, '0')}` as Digest, size: 1 },
    tags: ['1.0'],
    referrers: [],
  });

  it('lands at most `lanes` repositories at once, one repository’s images one after another, every image once', async () => {
    const images = Array.from({ length: 120 }, (_, i) => image(i));
    let running = 0;
    let peak = 0;
    const busy = new Set<string>();
    const landed: string[] = [];
    await landAll(
      images,
      4,
      async (img) => {
        const repo = img.target.repository;
        expect(busy.has(repo), `${repo} landed twice at once`).toBe(false);
        busy.add(repo);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        busy.delete(repo);
        landed.push(img.source);
      },
      (_img, err) => {
        throw err;
      },
    );
    expect(landed.sort()).toEqual(images.map((i) => i.source).sort());
    expect(peak).toBe(4);
  });

  it('reports a failed image and lands the rest', async () => {
    const images = Array.from({ length: 10 }, (_, i) => image(i));
    const failed: string[] = [];
    const landed: string[] = [];
    await landAll(
      images,
      3,
      async (img) => {
        if (img.source.includes('app7:')) throw new Error('refused');
        landed.push(img.source);
      },
      (img) => failed.push(img.source),
    );
    expect(failed).toEqual(['registry.example/app7:1.0']);
    expect(landed).toHaveLength(9);
  });
});
