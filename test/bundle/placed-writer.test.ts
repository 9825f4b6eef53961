import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle, writeBundle, type WriteBundleOptions } from '../../src/bundle/index.js';
import { HashThread } from '../../src/bundle/offthread-hash.js';
import { canPlaceAt } from '../../src/bundle/output-fs.js';
import { placeTar, type PlacedEntry } from '../../src/bundle/placed-writer.js';
import { RangePool } from '../../src/bundle/range-pool.js';
import { entryHeader } from '../../src/bundle/tar-writer.js';
import { ustarHeader, ustarSize } from '../../src/bundle/ustar.js';
import { TarFiles } from '../../src/bundle/volume-split.js';
import type { Descriptor } from '../../src/core/descriptor.js';
import type { FerryEvent } from '../../src/core/progress-events.js';
import { digestHex } from '../../src/core/digest.js';
import { ErrorCode } from '../../src/core/errors.js';
import { ALL_IMAGES, expectIntegrity, fetchFrom, imageInput, readTar, tempDir, testImages } from './fixtures.js';

// The placed writer (every core copies blobs from local files to their offsets)
// must give the streaming writer's bytes exactly, refuse a rotten local file
// by name leaving no bundle behind, and ferry verify's by-range path must
// refuse what the one-pass reader refuses.

const CREATED = new Date('2024-05-01T12:00:00Z');
let work: Awaited<ReturnType<typeof tempDir>>;
let blobDir: string;
let base: Omit<WriteBundleOptions, 'out'>;
let streamed: string;

/** The first 512 bytes tar-stream writes for `name` of `size` bytes (the streaming writer's header). */
async function tarStreamHeader(name: string, size: number): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  pack.entry(entryHeader(name, size, CREATED));
  await new Promise((resolve) => setImmediate(resolve));
  return Buffer.concat(chunks).subarray(0, 512);
}

beforeAll(async () => {
  work = await tempDir('ferry-placed-test-');
  const { set, blobs } = await testImages();
  blobDir = join(work.dir, 'blobs');
  await mkdir(blobDir);
  for (const [digest, bytes] of blobs.bytes) await writeFile(join(blobDir, digestHex(digest)), bytes);
  base = {
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: fetchFrom(blobs).fetch,
    created: CREATED,
    toolVersion: '0.1.0-test',
  };
  streamed = join(work.dir, 'streamed.tar');
  const result = await writeBundle({ ...base, out: streamed });
  expect(result.sha256, 'no local files: the tar is streamed and hashed whole').toBeDefined();
});

afterAll(async () => {
  await work.cleanup();
});

const localFile = (d: Descriptor) => join(blobDir, digestHex(d.digest));

describe('ustar headers', () => {
  it.each([
    ['oci-layout', 30],
    ['ferry/index.db', 0],
    [`blobs/sha256/${'a'.repeat(64)}`, 511],
    [`blobs/sha256/${'b'.repeat(64)}`, 8 * 1024 ** 3 - 1],
    [`blobs/sha256/${'c'.repeat(64)}`, 8 * 1024 ** 3 + 12345],
  ])('%s of %d bytes is the header tar-stream writes, and reads back', async (name, size) => {
    const header = ustarHeader(name, size, CREATED);
    expect(header.equals(await tarStreamHeader(name, size))).toBe(true);
    expect(ustarSize(header)).toBe(size);
  });
});

describe('placed bundle write', () => {
  it('runs here (the temp dir takes out-of-order writes)', async () => {
    expect(await canPlaceAt(join(work.dir, 'x.tar'))).toBe(true);
  });

  it('writes exactly the streamed bundle, and reads each local file instead of fetching it', async () => {
    const out = join(work.dir, 'placed.tar');
    const source = fetchFrom((await testImages()).blobs);
    const result = await writeBundle({ ...base, fetch: source.fetch, localFile, out });
    expect(result.sha256, 'placed: no whole-tar hash').toBeUndefined();
    const placed = await readFile(out);
    expect(placed.length).toBe(result.bytes);
    expect(createHash('sha256').update(placed).digest('hex')).toBe(createHash('sha256').update(await readFile(streamed)).digest('hex'));
    // Only manifests and configs (read to walk the graph) were fetched; layers came from the files.
    const layers = (await readTar(out)).filter((e) => e.header.name.startsWith('blobs/') && (e.header.size ?? 0) > 4096);
    expect(layers.length).toBeGreaterThan(3);
    for (const layer of layers) expect(source.calls.get(`sha256:${layer.header.name.slice(13)}`) ?? 0).toBe(0);
    expect(await readdir(work.dir)).not.toContain('placed.tar.partial');
  });

  /** The blob files again under `name`, the first layer's changed by `edit`; writes a bundle from them. */
  async function writeFromDamaged(name: string, edit: (bytes: Buffer) => Buffer | undefined, extra: Partial<WriteBundleOptions> = {}): Promise<{ hex: string; out: string; writing: Promise<unknown> }> {
    const layer = (await readTar(streamed)).find((e) => e.header.name.startsWith('blobs/') && (e.header.size ?? 0) > 4096)!;
    const hex = layer.header.name.slice(13);
    const dir = join(work.dir, name);
    await mkdir(dir);
    for (const file of await readdir(blobDir)) await writeFile(join(dir, file), await readFile(join(blobDir, file)));
    const edited = edit(await readFile(join(dir, hex)));
    if (edited) await writeFile(join(dir, hex), edited);
    else await rm(join(dir, hex));
    const out = join(work.dir, `${name}.tar`);
    return { hex, out, writing: writeBundle({ ...base, localFile: (d) => join(dir, digestHex(d.digest)), out, ...extra }) };
  }

  // Volumes are written in tar order on this thread, each local file through one reused buffer.
  it.each([
    ['rotted', ErrorCode.digestMismatch, (bytes: Buffer) => ((bytes[bytes.length >> 1] ^= 0x01), bytes)],
    ['longer', ErrorCode.sizeMismatch, (bytes: Buffer) => Buffer.concat([bytes, Buffer.from('x')])],
    ['shorter', ErrorCode.sizeMismatch, (bytes: Buffer) => bytes.subarray(1)],
  ] as const)('in volumes: refuses a %s local file, naming the blob, and leaves no volume behind', async (name, code, edit) => {
    const { hex, out, writing } = await writeFromDamaged(`in-order-${name}`, edit, { split: 64 * 1024 });
    await expectIntegrity(writing, code, hex);
    expect((await readdir(work.dir)).filter((f) => f.startsWith(basename(out)))).toEqual([]);
  });

  it('in volumes: names a blob whose local file is missing', async () => {
    const { hex, writing } = await writeFromDamaged('in-order-missing', () => undefined, { split: 64 * 1024 });
    await expect(writing).rejects.toMatchObject({ subject: expect.stringContaining(hex), message: expect.stringContaining('missing') });
  });

  it('refuses a local file whose bytes rotted, naming the blob, and leaves no bundle behind', async () => {
    const { hex, out, writing } = await writeFromDamaged('rotten', (bytes) => {
      bytes[bytes.length >> 1] ^= 0x01;
      return bytes;
    });
    await expectIntegrity(writing, ErrorCode.digestMismatch, hex);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses a local file longer than its descriptor (size mismatch)', async () => {
    const { hex, out, writing } = await writeFromDamaged('longer', (bytes) => Buffer.concat([bytes, Buffer.from('x')]));
    await expectIntegrity(writing, ErrorCode.sizeMismatch, hex);
    expect(existsSync(out)).toBe(false);
  });
});

describe('one serialiser, three ways to run the copies', () => {
  // A blob counted twice, or a volume edge that drops or repeats bytes, shows here.
  it.each([
    ['on every core (local files, one file)', { localFile }],
    ['in order (fetched blobs, one file)', {}],
    ['in order into volumes (a split inside the head and blobs)', { localFile, split: 64 * 1024 + 100 }],
    ['in order into one volume (the tar fits its split)', { localFile, split: 1 << 30 }],
  ])('%s: the same tar, and exactly the write total in bytes events', async (_how, extra: Partial<WriteBundleOptions>) => {
    const out = join(work.dir, `three-${extra.split ?? (extra.localFile ? 'pool' : 'order')}.tar`);
    const events: FerryEvent[] = [];
    const result = await writeBundle({ ...base, ...extra, out, onEvent: (e) => events.push(e) });
    const tar = Buffer.concat(await Promise.all(result.files.map((f) => readFile(f))));
    expect(tar.equals(await readFile(streamed))).toBe(true);
    expect(tar.length).toBe(result.bytes);
    const phase = events.find((e) => e.type === 'phase' && e.phase === 'write');
    const moved = events.reduce((n, e) => n + (e.type === 'bytes' ? e.bytes : 0), 0);
    expect(phase && 'total' in phase ? phase.total : -1).toBe(moved);
    if (extra.split === 64 * 1024 + 100) expect(result.files.length).toBeGreaterThan(5);
    if (extra.split) {
      // The volume list's sha256s, each taken on the hashing thread (one volume's is the tar's, taken once).
      const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
      expect(result.sha256).toBe(sha(tar));
      expect(result.volumes?.map((v) => v.sha256)).toEqual(await Promise.all(result.files.map(async (f) => sha(await readFile(f)))));
    }
  });
});

describe('verify by byte ranges', () => {
  it('verifies the placed bundle and refuses one flipped byte inside a blob, naming its entry', async () => {
    const good = await verifyBundle(streamed);
    expect(good.blobs).toBe((await readTar(streamed)).filter((e) => e.header.name.startsWith('blobs/')).length);
    const entries = await readTar(streamed);
    let offset = 0;
    let victim = '';
    let at = 0;
    // Walk the tar to find the data offset of the largest blob.
    for (const e of entries) {
      const size = e.header.size ?? 0;
      if (e.header.name.startsWith('blobs/') && size > 4096 && !victim) {
        victim = e.header.name;
        at = offset + 512 + (size >> 1);
      }
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    const bytes = await readFile(streamed);
    bytes[at] ^= 0x80;
    const tampered = join(work.dir, 'tampered.tar');
    await writeFile(tampered, bytes);
    await expectIntegrity(verifyBundle(tampered), ErrorCode.digestMismatch, victim);
  });
});

describe('RangePool', () => {
  it('hashes on workers and the calling thread alike, and names a missing file', async () => {
    const file = join(work.dir, 'pool.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 7, 1);
    await writeFile(file, bytes);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'];
    const pool = new RangePool({ threads: 2, mainThread: true });
    try {
      const done: string[] = [];
      const jobs = Array.from({ length: 6 }, (_, i) => ({ expected: { digest, size: bytes.length }, path: file, start: 0, wholeFile: true, subject: `job ${i}` }));
      await pool.run(jobs, (j) => done.push(j.subject));
      expect(done.sort()).toEqual(jobs.map((j) => j.subject).sort());
      const missing = { expected: { digest, size: bytes.length }, path: join(work.dir, 'nope.bin'), start: 0, subject: 'the missing one' };
      await expect(pool.run([jobs[0]!, missing])).rejects.toThrow(/the missing one: missing/);
    } finally {
      await pool.close();
    }
  });
});

describe('a blob piped beside the pool (this thread copies it, another hashes it)', () => {
  const BIG = 300 * 1024 + 7;

  /** A large blob and two small ones as local files, the large one changed by `edit` after its digest was taken; the tar entries for them. */
  async function pipedEntries(name: string, edit: (bytes: Buffer) => Buffer = (b) => b): Promise<{ entries: PlacedEntry[]; bigHex: string }> {
    const dir = join(work.dir, name);
    await mkdir(dir);
    const entries: PlacedEntry[] = [{ name: 'oci-layout', bytes: Buffer.from('{"imageLayoutVersion":"1.0.0"}') }];
    let bigHex = '';
    for (const [i, size] of [BIG, 5000, 70001].entries()) {
      const bytes = Buffer.alloc(size);
      for (let j = 0; j < size; j++) bytes[j] = (j * 31 + i * 7) & 0xff;
      const hex = createHash('sha256').update(bytes).digest('hex');
      if (i === 0) bigHex = hex;
      const file = join(dir, hex);
      await writeFile(file, i === 0 ? edit(bytes) : bytes);
      const subject = `blob sha256:${hex}`;
      entries.push({ name: `blobs/sha256/${hex}`, file, expected: { digest: `sha256:${hex}` as Descriptor['digest'], size }, subject, carried: true });
    }
    return { entries, bigHex };
  }

  /** placeTar into `out` with a pool of one worker, and with `pipe` when given; the hashing thread's byte count and the piped bytes reported. */
  async function place(out: string, entries: PlacedEntry[], piped: boolean, withPool = true): Promise<{ queued: number; heard: number }> {
    const files = await TarFiles.open({ path: out, inOrder: false });
    const pool = withPool ? new RangePool({ output: files.partialPath, threads: 1 }) : undefined;
    // A ring of 64 KiB: pieces of 16 KiB, wrapping around many times in one blob.
    const thread = new HashThread(64 * 1024);
    let heard = 0;
    try {
      const pipe = piped ? { pipe: { thread, minBytes: 100 * 1024, onEvent: (e: FerryEvent) => (heard += e.type === 'bytes' ? e.bytes : 0) } } : {};
      await placeTar(entries, { mtime: CREATED, files, ...(pool ? { pool } : {}), ...pipe });
      await files.finish();
      await files.commit();
      return { queued: thread.queued, heard };
    } catch (err) {
      await files.abort();
      Object.assign(err as object, { queued: thread.queued });
      throw err;
    } finally {
      await pool?.close();
      await thread.close();
    }
  }

  it('gives the bytes the pool alone gives, the large blob through the hashing thread', async () => {
    const { entries } = await pipedEntries('piped-good');
    const pooled = join(work.dir, 'pooled-only.tar');
    const piped = join(work.dir, 'piped.tar');
    await place(pooled, entries, false);
    const { queued, heard } = await place(piped, entries, true);
    expect((await readFile(piped)).equals(await readFile(pooled))).toBe(true);
    expect(queued, 'the large blob was hashed on the thread, once').toBe(BIG);
    expect(heard).toBe(BIG);
  });

  it('without a pool (nothing else comes from a file): the other files copied in turn, the same bytes', async () => {
    const { entries } = await pipedEntries('piped-alone');
    const pooled = join(work.dir, 'alone-pooled.tar');
    const alone = join(work.dir, 'alone-piped.tar');
    await place(pooled, entries, false);
    const { queued } = await place(alone, entries, true, false);
    expect((await readFile(alone)).equals(await readFile(pooled))).toBe(true);
    expect(queued).toBe(BIG);
  });

  it('refuses the large blob when its bytes rotted, naming it, and leaves no tar behind', async () => {
    const { entries, bigHex } = await pipedEntries('piped-rotten', (bytes) => {
      bytes[bytes.length >> 1] ^= 0x01;
      return bytes;
    });
    const out = join(work.dir, 'piped-rotten.tar');
    const placing = place(out, entries, true);
    const err = await expectIntegrity(placing, ErrorCode.digestMismatch, bigHex);
    expect((err as unknown as { queued: number }).queued, 'refused on the piped path').toBe(BIG);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses the large blob when it is longer than its descriptor (size mismatch)', async () => {
    const { entries, bigHex } = await pipedEntries('piped-longer', (bytes) => Buffer.concat([bytes, Buffer.from('x')]));
    const err = await expectIntegrity(place(join(work.dir, 'piped-longer.tar'), entries, true), ErrorCode.sizeMismatch, bigHex);
    expect((err as unknown as { queued: number }).queued).toBe(BIG);
  });
});
