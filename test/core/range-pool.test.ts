import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
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
