import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBundle, openBundle, verifyBundle, writeBundle, type FetchBlob } from '../../src/bundle/index.js';
import type { Descriptor } from '../../src/core/descriptor.js';
import { ErrorCode, IntegrityError, UsageError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { BlobSet } from '../rig/image-blobs.js';
import { addImage } from '../rig/image-builder.js';
import { buildLayer, pseudoRandomBytes } from '../rig/layer-tar.js';
import { descriptorOf, expectIntegrity, fetchFrom, fullName, imageInput, tempDir, testImages } from './fixtures.js';

// The writer's edges: a source that lies leaves no bundle behind; a delta
// bundle leaves out what the target holds and says so; the blob iterator
// drains and still verifies what a consumer skips.

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir('ferry-writer-edges-');
});
afterAll(async () => {
  await work.cleanup();
});

describe('a source that does not deliver what it promised', () => {
  it('a corrupted layer from the source fails the write, naming the blob, and leaves no file', async () => {
    const { set, blobs } = await testImages();
    const bad = set.images.appB.blobs.at(-1) as Descriptor;
    const fetch: FetchBlob = async (desc) => {
      const bytes = Buffer.from(blobs.get(desc.digest));
      if (desc.digest === bad.digest) bytes[100] ^= 1;
      return Readable.from([bytes]);
    };
    for (const split of [undefined, 64 * 1024]) {
      const dir = join(work.dir, `lie-${split ?? 'plain'}`);
      await import('node:fs/promises').then((fs) => fs.mkdir(dir));
      const out = join(dir, 'out');
      await expectIntegrity(
        writeBundle({ images: [imageInput(set, 'appB')], fetch, out, toolVersion: 't', ...(split ? { split } : {}) }),
        ErrorCode.digestMismatch,
        bad.digest,
      );
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('a manifest that does not match its descriptor is refused before anything is written', async () => {
    const { set, blobs } = await testImages();
    const fetch: FetchBlob = async (desc) => Readable.from([desc.digest === set.images.multi.digest ? Buffer.from('{}') : blobs.get(desc.digest)]);
    const out = join(work.dir, 'bad-manifest.tar');
    const err = await writeBundle({ images: [imageInput(set, 'multi')], fetch, out, toolVersion: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).message).toContain(fullName(set.images.multi));
    expect((await readdir(work.dir)).filter((f) => f.startsWith('bad-manifest'))).toEqual([]);
  });

  it('an aborted write leaves no file', async () => {
    const { set, blobs } = await testImages();
    const controller = new AbortController();
    const out = join(work.dir, 'aborted.tar');
    const source = fetchFrom(blobs);
    let n = 0;
    const fetch: FetchBlob = async (d) => {
      if (++n === 5) controller.abort();
      return source.fetch(d);
    };
    const err = await writeBundle({ images: [imageInput(set, 'appA')], fetch, out, toolVersion: 't', signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((await readdir(work.dir)).filter((f) => f.startsWith('aborted'))).toEqual([]);
  });

  it('refuses bad image lists as usage errors', async () => {
    const { set, blobs } = await testImages();
    const { fetch } = fetchFrom(blobs);
    const out = join(work.dir, 'never.tar');
    const twice = [imageInput(set, 'appA'), imageInput(set, 'appA')];
    await expect(writeBundle({ images: twice, fetch, out, toolVersion: 't' })).rejects.toThrow(UsageError);
    await expect(writeBundle({ images: [], fetch, out, toolVersion: 't' })).rejects.toThrow(/at least one image/);
    const layer = { name: 'r.example/x:1', root: descriptorOf(set.images.appA.blobs[0] as Descriptor) };
    await expect(writeBundle({ images: [layer], fetch, out, toolVersion: 't' })).rejects.toThrow(/not a manifest/);
    const pinned = { name: `r.example/x@${set.images.appB.digest}`, root: descriptorOf(set.images.appA) };
    await expect(writeBundle({ images: [pinned], fetch, out, toolVersion: 't' })).rejects.toThrow(/pins/);
  });

  it('a --split that would need more than 1000 volumes is refused before a volume is written', async () => {
    // One 2 MiB layer: 2048 volumes of 1 KiB at the least.
    const set = new BlobSet();
    const layer = await buildLayer([{ path: 'big.bin', content: pseudoRandomBytes('too-many', 2 * 1024 * 1024) }]);
    const root = descriptorOf(addImage(set, { flavour: 'oci', platform: { os: 'linux', architecture: 'amd64' }, layers: [{ layer, createdBy: 'ADD big' }], cmd: ['/bin/true'] }));
    const dir = join(work.dir, 'too-many');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const write = writeBundle({ images: [{ name: 'r.example/too/many:1', root }], fetch: fetchFrom(set).fetch, out: join(dir, 'app'), toolVersion: 't', split: 1024 });
    await expect(write).rejects.toThrow(/--split 1024 would need more than 1000 volumes/);
    await expect(write).rejects.toMatchObject({ hint: expect.stringMatching(/choose a --split of at least \d+ bytes/) });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('delta bundles (assumes)', () => {
  it('leaves assumed blobs out, lists them in bundle.json, and still reads and verifies', async () => {
    const { set, blobs } = await testImages();
    const assumed = set.images.appA.blobs.map(descriptorOf); // the target already has appA's config and layers
    const source = fetchFrom(blobs);
    const out = join(work.dir, 'delta.tar');
    const result = await writeBundle({ images: [imageInput(set, 'appA'), imageInput(set, 'appB')], fetch: source.fetch, out, assumes: assumed, toolVersion: 't' });
    const appBOnly = set.images.appB.blobs.filter((b) => !assumed.some((a) => a.digest === b.digest));
    expect(result.bundleJson.assumes.map((a) => a.digest).sort()).toEqual(assumed.map((a) => a.digest).sort());
    // Assumed layers were never fetched (configs are: their platform is read).
    for (const a of assumed.filter((d) => d.mediaType.includes('layer'))) expect(source.calls.get(a.digest)).toBeUndefined();
    const bundle = await openBundle(out);
    const seen: string[] = [];
    try {
      for await (const blob of bundle.blobs()) {
        blob.stream.resume();
        seen.push(blob.descriptor.digest);
      }
    } finally {
      await bundle.close();
    }
    for (const a of assumed) expect(seen).not.toContain(a.digest);
    for (const b of appBOnly) expect(seen).toContain(b.digest);
    const report = await inspectBundle(out);
    expect(report.assumed.count).toBe(assumed.length);
    expect(report.images.find((i) => i.name === fullName(set.images.appA))?.assumedBytes).toBe(assumed.reduce((n, a) => n + a.size, 0));
    expect((await verifyBundle(out)).assumed).toBe(assumed.length);
  });
});

describe('the blob iterator', () => {
  it('carries an empty (0-byte) blob', async () => {
    const set = new BlobSet();
    const empty = set.add(MediaType.ociLayer, Buffer.alloc(0));
    const config = set.addJson(MediaType.ociConfig, { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [empty.digest] } });
    const manifest = set.addJson(MediaType.ociManifest, { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [empty] });
    const out = join(work.dir, 'empty-blob.tar');
    await writeBundle({ images: [{ name: 'r.example/empty:1', root: descriptorOf(manifest) }], fetch: fetchFrom(set).fetch, out, toolVersion: 't' });
    const report = await verifyBundle(out);
    expect(report.blobs).toBe(3);
    const bundle = await openBundle(out);
    try {
      const sizes: number[] = [];
      for await (const blob of bundle.blobs()) {
        let n = 0;
        for await (const chunk of blob.stream) n += (chunk as Buffer).length;
        sizes.push(n);
      }
      expect(sizes).toContain(0);
    } finally {
      await bundle.close();
    }
  });

  it('drains and verifies blobs a consumer skips, and can be read only once', async () => {
    const { set, blobs } = await testImages();
    const out = join(work.dir, 'skip.tar');
    await writeBundle({ images: [imageInput(set, 'multi')], fetch: fetchFrom(blobs).fetch, out, toolVersion: 't' });
    const bundle = await openBundle(out);
    try {
      let count = 0;
      for await (const blob of bundle.blobs()) {
        count += 1; // never read: the iterator drains each entry itself
        expect(blob.descriptor.size).toBeGreaterThan(0);
      }
      expect(count).toBe(bundle.sums.length);
      await expect(bundle.blobs().next()).rejects.toThrow(/only once/);
    } finally {
      await bundle.close();
    }
  });
});
