import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeChunks } from '../../src/core/chunk-source.js';
import { IntegrityError } from '../../src/core/errors.js';
import { openBlobRange, openBundle, openRawRange, proveBlobRanges, readSmallRange, TarSpan, verifyBundle, writeBundle, type BlobRange, type Bundle } from '../../src/bundle/index.js';
import { ErrorCode } from '../../src/core/errors.js';
import type { Digest } from '../../src/core/digest.js';
import { sha256Hex } from '../helpers/transfer-kit.js';
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
    return (await bundle.locate())?.length;
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

  // GNU tar pads an archive to its record size (10 KiB) with zero blocks: a valid tar, not ferry's layout.
  it('answers undefined for a tar padded after its end, which the one-pass reader still verifies', async () => {
    const padded = `${work.dir}/padded.tar`;
    await writeFile(padded, Buffer.concat([await readFile(good), Buffer.alloc(10 * 1024)]));
    expect(await locate(padded)).toBeUndefined();
    expect((await verifyBundle(padded)).blobs).toBe(await locate(good));
  });

  // A set of volumes is the tar cut at fixed sizes: import reads it by ranges as it reads one file, a
  // header or a blob across a volume's end included. Verify reads a set in one pass: it checks the
  // volume list's sha256s too.
  describe('in a set of volumes', () => {
    let count: number;
    let whole: BlobRange[];
    const several = () => `${work.dir}/several.tar`;

    beforeAll(async () => {
      const { set, blobs } = await testImages();
      const images = ALL_IMAGES.map((k) => imageInput(set, k));
      const write = (out: string, split: number) => writeBundle({ images, fetch: fetchFrom(blobs).fetch, created: new Date('2024-05-01T12:00:00Z'), toolVersion: '0.1.0-test', out, split });
      await write(`${work.dir}/one.tar`, 1 << 30);
      // 5000 bytes: not a multiple of 512, so headers straddle volumes as well as blob data.
      await write(several(), 5000);
      count = (await readTar(good)).filter((e) => e.header.name.startsWith('blobs/')).length;
      const bundle = await openBundle(good);
      try {
        whole = (await bundle.locate()) ?? [];
      } finally {
        await bundle.close();
      }
    });

    async function withBundle<T>(path: string, fn: (bundle: Bundle) => Promise<T>): Promise<T> {
      const bundle = await openBundle(path);
      try {
        return await fn(bundle);
      } finally {
        await bundle.close();
      }
    }

    it('locates every blob at its offset in the tar, by any name of the set, one volume or several', async () => {
      expect(whole).toHaveLength(count);
      for (const base of [`${work.dir}/one.tar`, several()]) {
        for (const name of [base, `${base}.000`, `${base}.volumes.json`]) {
          const ranges = await withBundle(name, (b) => b.locate());
          expect(ranges?.map((r) => [r.entry, r.start]), name).toEqual(whole.map((r) => [r.entry, r.start]));
        }
      }
      expect((await readdir(work.dir)).filter((f) => f.startsWith('several.tar.0')).length).toBeGreaterThan(10);
      expect((await verifyBundle(`${work.dir}/one.tar.000`)).blobs).toBe(count);
    });

    it('reads each blob whole and verified, across a volume end too, as a stream, as chunks and from an offset', async () => {
      await withBundle(several(), async (bundle) => {
        const span = bundle.tarSpan!;
        const ranges = (await bundle.locate())!;
        const straddling = ranges.filter((r) => span.pieces(r.start, r.blob.descriptor.size).length > 1);
        expect(straddling.length).toBeGreaterThan(0);
        for (const range of ranges) {
          const bytes = await readAll(openBlobRange(span, range));
          expect(`sha256:${sha256Hex(bytes)}`, range.entry).toBe(range.blob.descriptor.digest);
          // An uploader's way: chunks in reused buffers, each copied before the next is asked for.
          const chunks = takeChunks(openBlobRange(span, range));
          const copied: Buffer[] = [];
          for await (const chunk of chunks ?? []) copied.push(Buffer.from(chunk));
          expect(Buffer.concat(copied).equals(bytes), range.entry).toBe(true);
          const from = Math.floor(range.blob.descriptor.size / 3);
          expect((await readAll(openRawRange(span, range, from))).equals(bytes.subarray(from)), range.entry).toBe(true);
          // A manifest's way (import, trust evidence): whole, through one reader kept open.
          const reader = span.openSync();
          try {
            expect(readSmallRange(reader, range, 1 << 20).equals(bytes), range.entry).toBe(true);
          } finally {
            reader.close();
          }
        }
        await proveBlobRanges(span, ranges);
      });
    });

    // Verify reads a set by ranges too, and hashes each volume whole beside the blobs: damage no blob or
    // header holds (a padding byte) still fails the volume, named as the one pass names it.
    it('verify checks each volume whole: a changed padding byte names its volume; a changed blob byte too', async () => {
      const report = await verifyBundle(`${several()}.000`);
      expect(report.blobs).toBe(count);
      expect(report.volumes?.list.every((v) => v.status === 'checked')).toBe(true);
      const spots = await withBundle(several(), async (bundle) => {
        const span = bundle.tarSpan!;
        const ranges = (await bundle.locate())!;
        const padded = ranges.find((r) => r.blob.descriptor.size % 512 !== 0 && r.start > 10_000)!;
        const pad = span.pieces(padded.start + padded.blob.descriptor.size, 1)[0]!;
        const inBlob = span.pieces(padded.start, 1)[0]!;
        return [pad, inBlob];
      });
      for (const [i, spot] of spots.entries()) {
        const copy = `${work.dir}/verify-set-${i}`;
        await mkdir(copy);
        for (const f of (await readdir(work.dir)).filter((f) => f.startsWith('several.tar.'))) await writeFile(`${copy}/${f}`, await readFile(`${work.dir}/${f}`));
        const name = spot.path.slice(spot.path.lastIndexOf('/') + 1);
        const bytes = await readFile(`${copy}/${name}`);
        bytes[spot.offset] = (bytes[spot.offset] as number) ^ 0x01;
        await writeFile(`${copy}/${name}`, bytes);
        await expect(verifyBundle(`${copy}/several.tar.000`)).rejects.toThrow(`volume ${name} is damaged: sha256 mismatch`);
      }
    });

    it('a changed byte in a blob across a volume end: refused by its entry, and the volume named', async () => {
      const copy = `${work.dir}/damaged-set`;
      await mkdir(copy);
      for (const f of (await readdir(work.dir)).filter((f) => f.startsWith('several.tar.'))) await writeFile(`${copy}/${f}`, await readFile(`${work.dir}/${f}`));
      const target = await withBundle(several(), async (bundle) => {
        const span = bundle.tarSpan!;
        // Not in the first volume: the one a stream's failure would have been blamed on (it holds the head).
        const range = (await bundle.locate())!.find((r) => r.blob.descriptor.size > 600 && r.start > 10_000 && span.pieces(r.start, r.blob.descriptor.size).length > 1)!;
        const last = span.pieces(range.start, range.blob.descriptor.size).at(-1)!;
        return { entry: range.entry, path: last.path, at: last.offset + last.size - 1 };
      });
      const name = target.path.slice(target.path.lastIndexOf('/') + 1);
      const bytes = await readFile(`${copy}/${name}`);
      bytes[target.at] = (bytes[target.at] as number) ^ 0x10;
      await writeFile(`${copy}/${name}`, bytes);
      await withBundle(`${copy}/several.tar`, async (bundle) => {
        const ranges = (await bundle.locate())!;
        const err = await proveBlobRanges(bundle.tarSpan!, ranges).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(IntegrityError);
        expect((err as IntegrityError).subject).toBe(target.entry);
        const named = (await bundle.explain(err)) as IntegrityError;
        expect(named.message).toContain(`volume ${name}`);
      });
    });
  });
});

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

// Manifests and signature layers are read whole, a positional read each (import, trust evidence):
// still verified, capped and named as a stream of them is.
describe('readSmallRange', () => {
  const caught = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it('refuses a changed byte, a blob past the limit and a tar cut inside the blob, each naming its entry', async () => {
    const ranges = (await openBundle(good).then(async (b) => {
      try {
        return await b.locate();
      } finally {
        await b.close();
      }
    }))!;
    const range = ranges.find((r) => r.blob.kind === 'manifest')!;
    const { size } = range.blob.descriptor;
    const bytes = await readFile(good);
    const changed = `${work.dir}/small-changed.tar`;
    const copy = Buffer.from(bytes);
    copy[range.start + (size >> 1)] ^= 0x01;
    await writeFile(changed, copy);
    const cut = `${work.dir}/small-cut.tar`;
    await writeFile(cut, bytes.subarray(0, range.start + size - 1));
    const read = (path: string, limit: number) => () => {
      const reader = TarSpan.file(path, bytes.length).openSync();
      try {
        return readSmallRange(reader, range, limit);
      } finally {
        reader.close();
      }
    };
    expect(read(good, size)().length).toBe(size);
    for (const [what, fn, code] of [
      ['a changed byte', read(changed, size), ErrorCode.digestMismatch],
      ['past the limit', read(good, size - 1), ErrorCode.manifestTooLarge],
      ['cut short', read(cut, size), ErrorCode.sizeMismatch],
    ] as const) {
      const err = caught(fn);
      expect(err, what).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).code, what).toBe(code);
      expect((err as IntegrityError).message, what).toContain(range.entry);
    }
  });
});

// An importer's blobs the target already holds are proven, not sent: a resume whose target took most
// of a large bundle proves most of it, so more than HASH_ALONE_BYTES take the other cores too.
describe('proveBlobRanges', () => {
  it('proves many bytes on the workers as well, and still names a blob that is not its digest', async () => {
    const MiB = 1024 * 1024;
    const blobs = [randomBytes(20 * MiB), randomBytes(20 * MiB), randomBytes(1000)];
    const path = `${work.dir}/held.bin`;
    const layout = (parts: Buffer[]) => Buffer.concat(parts.flatMap((b) => [Buffer.alloc(512, 7), b]));
    await writeFile(path, layout(blobs));
    let at = 0;
    const ranges: BlobRange[] = blobs.map((b, i) => {
      const digest = `sha256:${sha256Hex(b)}` as Digest;
      at += 512;
      const range = { blob: { descriptor: { mediaType: 'application/octet-stream', digest, size: b.length }, kind: 'layer', included: true, position: i } as unknown as BlobRange['blob'], entry: `blobs/sha256/${digest.slice(7)}`, start: at };
      at += b.length;
      return range;
    });
    const span = TarSpan.file(path, at);
    expect(await countingMessages(() => proveBlobRanges(span, ranges))).toBeGreaterThan(0);
    const small = await countingMessages(() => proveBlobRanges(span, ranges.slice(2)));
    expect(small, 'a few bytes stay on the calling thread').toBe(0);
    const bad = Buffer.from(blobs[1] as Buffer);
    bad[bad.length >> 1] ^= 0x01;
    await writeFile(path, layout([blobs[0] as Buffer, bad, blobs[2] as Buffer]));
    const err = await proveBlobRanges(span, ranges).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).subject).toBe(ranges[1]?.entry);
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
