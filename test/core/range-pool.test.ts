import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/core/digest.js';
import { ErrorCode, type FerryError } from '../../src/core/errors.js';
import { RangePool, type RangeJob } from '../../src/core/range-pool.js';
import { countingMessages } from '../helpers/worker-messages.js';

// Many small ranges (a bundle of small blobs) must not cost a worker message
// each: they travel in batches, and every range in a batch is still checked
// on its own (digest and size), a bad one named.

const RANGES = 2000;
const SIZE = 700;
const GAP = 512;
let dir: string;
let file: string;
let jobs: RangeJob[];

const sha = (b: Uint8Array): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-range-pool-'));
  file = join(dir, 'ranges.bin');
  const bytes = Buffer.alloc(RANGES * (SIZE + GAP));
  jobs = [];
  for (let i = 0; i < RANGES; i++) {
    const start = i * (SIZE + GAP) + GAP;
    const data = bytes.subarray(start, start + SIZE);
    data.fill(i % 251).writeUInt32BE(i, 0);
    jobs.push({ expected: { digest: sha(data), size: SIZE }, path: file, start, subject: `range ${i}` });
  }
  await writeFile(file, bytes);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('RangePool batches', () => {
  it('hashes 2,000 small neighbouring ranges in a handful of worker messages, every one checked', async () => {
    const pool = new RangePool({ threads: 2 });
    const done = new Set<string>();
    try {
      const sent = await countingMessages(() => pool.run(jobs, (j) => done.add(j.subject)));
      expect(done.size).toBe(RANGES);
      // 2.4 MiB of file span in batches of at most 1 MiB: 3 messages, not 2,000.
      expect(sent).toBeLessThanOrEqual(4);
    } finally {
      await pool.close();
    }
  });

  it('names the one bad range of a batch and checks the others', async () => {
    const bad = jobs.map((j, i) => (i === 1234 ? { ...j, expected: { ...j.expected, digest: jobs[0]!.expected.digest } } : j));
    const pool = new RangePool({ threads: 2, mainThread: true });
    try {
      const reported: Array<[string, string | undefined]> = [];
      const done = new Set<string>();
      await pool.run(bad, (j) => done.add(j.subject), undefined, { onBad: (j, e: FerryError) => reported.push([j.subject, e.code]) });
      expect(reported).toEqual([['range 1234', ErrorCode.digestMismatch]]);
      expect(done.size).toBe(RANGES - 1);
      await expect(pool.run(bad)).rejects.toThrow(/range 1234: digest mismatch/);
    } finally {
      await pool.close();
    }
  });

  it('counts a range the file ends inside as a size mismatch', async () => {
    const short = join(dir, 'short.bin');
    await copyFile(file, short);
    const copy = jobs.slice(0, 20).map((j) => ({ ...j, path: short }));
    // The file ends 100 bytes into range 19.
    await truncate(short, copy[19]!.start + 100);
    const pool = new RangePool({ threads: 1, mainThread: true });
    try {
      const reported: Array<[string, string | undefined]> = [];
      await pool.run(copy, undefined, undefined, { onBad: (j, e: FerryError) => reported.push([j.subject, e.code]) });
      expect(reported).toEqual([['range 19', ErrorCode.sizeMismatch]]);
    } finally {
      await pool.close();
    }
  });
});

describe('RangePool batches of whole files', () => {
  it('checks 300 small files (a store) in a few messages each way, progress included', async () => {
    const files: RangeJob[] = [];
    for (let i = 0; i < 300; i++) {
      const path = join(dir, `blob-${i}`);
      const data = Buffer.alloc(300 + i, i % 256);
      await writeFile(path, data);
      files.push({ expected: { digest: sha(data), size: data.length }, path, start: 0, wholeFile: true, subject: `blob ${i}` });
    }
    let progress = 0;
    let bytes = 0;
    const pool = new RangePool({
      threads: 2,
      onEvent: (e) => {
        if (e.type !== 'bytes') return;
        progress += 1;
        bytes += e.bytes;
      },
    });
    const done = new Set<string>();
    try {
      const sent = await countingMessages(() => pool.run(files, (j) => done.add(j.subject)));
      expect(done.size).toBe(300);
      expect(bytes).toBe(files.reduce((n, f) => n + f.expected.size, 0));
      expect(sent).toBeLessThanOrEqual(2);
      expect(progress).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });
});

// A volume of a split bundle and the blobs inside it are checked from one read of the volume
// (RangeJob.inner), on a worker and on the calling thread alike.
describe('RangePool inner ranges', () => {
  const whole = (path: string, inner: NonNullable<RangeJob['inner']>): RangeJob => ({ expected: { digest: wholeDigest, size: wholeSize }, path, start: 0, wholeFile: true, subject: 'the volume', inner });
  let wholeDigest: Digest;
  let wholeSize: number;
  let inner: NonNullable<RangeJob['inner']>;

  beforeAll(async () => {
    const bytes = await readFile(file);
    wholeDigest = sha(bytes);
    wholeSize = bytes.length;
    // Every range of the file, each at its own offset: the gaps between them are the volume's alone.
    inner = jobs.map((j) => ({ expected: j.expected, at: j.start, subject: j.subject }));
  });

  it.each([
    ['on a worker', 'worker', { threads: 1 }],
    ['on the calling thread', 'main', { threads: 1, mainThread: true }],
  ])('checks the whole and every inner range %s; a changed byte in a range names it, in a gap the whole', async (_where, name, options) => {
    const copy = join(dir, `inner-${name}.bin`);
    await copyFile(file, copy);
    const pool = new RangePool(options);
    try {
      await pool.run([whole(copy, inner)]);
      const flip = async (at: number) => {
        const fh = await open(copy, 'r+');
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, at);
        b[0] = (b[0] as number) ^ 0x01;
        await fh.write(b, 0, 1, at);
        await fh.close();
      };
      // A byte of range 1500: the whole's own digest fails first, so take the whole as the volume list has it now.
      await flip((jobs[1500] as RangeJob).start + 3);
      const now = sha(await readFile(copy));
      const err = await pool.run([{ ...whole(copy, inner), expected: { digest: now, size: wholeSize } }]).then(
        () => undefined,
        (e: FerryError) => e,
      );
      expect(err?.message).toContain('range 1500: digest mismatch');
      await flip((jobs[1500] as RangeJob).start + 3);
      // A byte in a gap: no inner range holds it, the whole does.
      await flip((jobs[10] as RangeJob).start - 1);
      const gap = await pool.run([whole(copy, inner)]).then(
        () => undefined,
        (e: FerryError) => e,
      );
      expect(gap?.message).toContain('the volume: digest mismatch');
    } finally {
      await pool.close();
    }
  });
});
