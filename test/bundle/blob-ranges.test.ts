import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/core/errors.js';
import { locateBlobs, openBundle, verifyBundle, writeBundle } from '../../src/bundle/index.js';
import { ALL_IMAGES, fetchFrom, imageInput, readTar, tempDir, testImages } from './fixtures.js';
import { countingMessages } from '../helpers/worker-messages.js';

// locateBlobs reads every blob header at its computed offset (in windows, by
// byte compares) and must answer undefined — read the tar in one pass — for
// any header that is not exactly what ferry writes, so nothing can hide
// between the blobs of a bundle verified by ranges.

let work: Awaited<ReturnType<typeof tempDir>>;
let good: string;

beforeAll(async () => {
  work = await tempDir('ferry-blob-ranges-');
  const { set, blobs } = await testImages();
  good = `${work.dir}/good.tar`;
  await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, created: new Date('2024-05-01T12:00:00Z'), toolVersion: '0.1.0-test', out: good });
});

afterAll(async () => {
  await work?.cleanup();
});

async function locate(path: string): Promise<number | undefined> {
  const bundle = await openBundle(path);
  try {
    return (await locateBlobs(path, bundle))?.length;
  } finally {
    await bundle.close();
  }
}

/** The offset of the header of the last blob entry. */
async function lastBlobHeader(): Promise<number> {
  let offset = 0;
  let last = -1;
  for (const e of await readTar(good)) {
    if (e.header.name.startsWith('blobs/')) last = offset;
    offset += 512 + Math.ceil((e.header.size ?? 0) / 512) * 512;
  }
  return last;
}

describe('locateBlobs', () => {
  it('locates every blob of a bundle ferry wrote', async () => {
    const blobs = (await readTar(good)).filter((e) => e.header.name.startsWith('blobs/')).length;
    expect(await locate(good)).toBe(blobs);
  });

  it.each([
    ['a checksum digit', 148 + 3, (b: number) => (b === 0x37 ? 0x36 : b + 1)],
    ['a name byte', 20, (b: number) => (b === 0x61 ? 0x62 : 0x61)],
    ['the byte after the name (blobs/sha256/ and 64 hex: 77 bytes)', 77, () => 0x61],
    ['a size digit', 124 + 5, (b: number) => (b === 0x37 ? 0x36 : b + 1)],
    ['the type flag', 156, () => 0x35],
    ['the ustar magic', 258, () => 0x58],
    ['the prefix', 345, () => 0x61],
  ])('answers undefined when the last blob header has %s changed', async (what, at, edit) => {
    const bytes = await readFile(good);
    const header = await lastBlobHeader();
    bytes[header + at] = edit(bytes[header + at] as number);
    // Every other edit gets a checksum that matches again: each check must hold on its own.
    if (at < 148 || at >= 156) {
      let sum = 8 * 0x20;
      for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += bytes[header + i] as number;
      bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, header + 148, 'latin1');
    }
    const path = `${work.dir}/${what.replace(/\W+/g, '-')}.tar`;
    await writeFile(path, bytes);
    expect(await locate(path)).toBeUndefined();
  });

  // A set of one volume (--split fat32 under 4 GiB) is one file holding the whole tar: an import reads
  // it by ranges (oneVolume). Verify does not ask for that: it checks the volume list's sha256 too.
  it('takes the only volume of a set as the file when asked, by any name of the set; never several volumes', async () => {
    const { set, blobs } = await testImages();
    const images = ALL_IMAGES.map((k) => imageInput(set, k));
    const one = `${work.dir}/one.tar`;
    const several = `${work.dir}/several.tar`;
    await writeBundle({ images, fetch: fetchFrom(blobs).fetch, created: new Date('2024-05-01T12:00:00Z'), toolVersion: '0.1.0-test', out: one, split: 1 << 30 });
    await writeBundle({ images, fetch: fetchFrom(blobs).fetch, created: new Date('2024-05-01T12:00:00Z'), toolVersion: '0.1.0-test', out: several, split: 64 * 1024 });
    const count = (await readTar(good)).filter((e) => e.header.name.startsWith('blobs/')).length;
    for (const name of [one, `${one}.000`, `${one}.volumes.json`]) {
      const bundle = await openBundle(name);
      try {
        expect(bundle.tarFile, name).toBe(`${one}.000`);
        expect((await locateBlobs(`${one}.000`, bundle, { oneVolume: true }))?.length, name).toBe(count);
        expect(await locateBlobs(`${one}.000`, bundle), name).toBeUndefined();
      } finally {
        await bundle.close();
      }
    }
    const split = await openBundle(`${several}.000`);
    try {
      expect(split.tarFile).toBeUndefined();
      expect(await locateBlobs(`${several}.000`, split, { oneVolume: true })).toBeUndefined();
    } finally {
      await split.close();
    }
    expect((await verifyBundle(`${one}.000`)).blobs).toBe(count);
  });
});

describe('verify of a small bundle', () => {
  it('hashes on the calling thread alone: no worker is sent a job', async () => {
    const sent = await countingMessages(async () => {
      const report = await verifyBundle(good);
      expect(report.blobs).toBe((await readTar(good)).filter((e) => e.header.name.startsWith('blobs/')).length);
    });
    expect(sent).toBe(0);
  });
});

describe('verify by ranges and the head spool', () => {
  // verify lets the head go (its tar reader, index.db and spool directory) while the blobs hash:
  // the spool must still be gone when verify answers, whether every blob matched or one did not.
  it('leaves no spool behind, after a match and after a damaged blob', async () => {
    const base = `${work.dir}/spool-base`;
    await mkdir(base);
    await verifyBundle(good, { tempDir: base });
    expect(await readdir(base)).toEqual([]);

    const bytes = await readFile(good);
    const header = await lastBlobHeader();
    bytes[header + 512] = (bytes[header + 512] as number) ^ 0xff; // first byte of the last blob's content
    const damaged = `${work.dir}/damaged-content.tar`;
    await writeFile(damaged, bytes);
    expect(await locate(damaged)).toBeGreaterThan(0); // still verified by ranges
    await expect(verifyBundle(damaged, { tempDir: base })).rejects.toThrow(IntegrityError);
    expect(await readdir(base)).toEqual([]);
  });
});
