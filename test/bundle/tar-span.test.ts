import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarSpan } from '../../src/bundle/tar-span.js';

// A set's volumes end to end are the tar: a read by tar offset must give the
// same bytes as the same offset of the joined file, wherever the volume ends fall.

describe('TarSpan over volumes', () => {
  let dir: string;
  const tar = randomBytes(10_000);
  const cuts = [0, 4096, 4097, 9000, 10_000];
  let span: TarSpan;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-tar-span-'));
    const volumes = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const name = `t.tar.00${i}`;
      await writeFile(join(dir, name), tar.subarray(cuts[i], cuts[i + 1]));
      volumes.push({ name, size: (cuts[i + 1] as number) - (cuts[i] as number) });
    }
    span = TarSpan.volumes({ dir, sidecar: { volumes } as never });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps a range to the pieces of the files that hold it', () => {
    expect(span.size).toBe(tar.length);
    expect(span.pieces(100, 50)).toEqual([{ path: join(dir, 't.tar.000'), start: 100, offset: 100, size: 50 }]);
    // Across the one-byte volume, into the third.
    expect(span.pieces(4000, 200).map((p) => [p.path.slice(-3), p.offset, p.size])).toEqual([
      ['000', 4000, 96],
      ['001', 0, 1],
      ['002', 0, 103],
    ]);
    expect(span.pieces(9990, 100).map((p) => [p.path.slice(-3), p.offset, p.size])).toEqual([['003', 990, 10]]);
    expect(span.pieces(10_000, 10)).toEqual([]);
    // Within one file, or not.
    expect(span.within(100, 50)).toEqual({ path: join(dir, 't.tar.000'), offset: 100 });
    expect(span.within(4096, 1)).toEqual({ path: join(dir, 't.tar.001'), offset: 0 });
    expect(span.within(4097, 4903)).toEqual({ path: join(dir, 't.tar.002'), offset: 0 });
    expect(span.within(9999, 1)).toEqual({ path: join(dir, 't.tar.003'), offset: 999 });
    expect(span.within(4095, 2)).toBeUndefined();
    expect(span.within(4000, 200)).toBeUndefined();
    expect(span.within(9999, 2)).toBeUndefined();
  });

  it('reads by tar offset, synchronously and not, the same bytes as the joined tar; short only at its end', async () => {
    const sync = span.openSync();
    const reader = span.open();
    try {
      for (const [at, length] of [
        [0, 10_000],
        [4090, 20],
        [4096, 1],
        [8999, 2],
        [9995, 64],
      ] as const) {
        const a = Buffer.alloc(length);
        const got = sync.read(a, length, at);
        const b = Buffer.alloc(length);
        const filled = await reader.fill(b, at);
        const want = tar.subarray(at, at + length);
        expect(got, `${at}+${length}`).toBe(want.length);
        expect(filled, `${at}+${length}`).toBe(want.length);
        expect(a.subarray(0, got).equals(want)).toBe(true);
        expect(b.subarray(0, filled).equals(want)).toBe(true);
      }
    } finally {
      sync.close();
      await reader.close();
    }
  });
});
