import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBundle, ManifestDb, writeBundle } from '../../src/bundle/index.js';
import { countingSql as counting, type SqlCounts as Counts } from '../helpers/sql-count.js';
import { readTar, tempDir } from './fixtures.js';
import { syntheticImages } from './synthetic-set.js';

// inspect of a 1,000-image bundle took 7.8 s: a query per image, each of which
// SQLite planned as a walk over every blob. Counted here instead of timed:
// every SQL statement executed and every row handed to JS during inspect, by
// wrapping better-sqlite3's real Statement methods (test/helpers/sql-count.ts).

let work: Awaited<ReturnType<typeof tempDir>>;
const bundles = new Map<number, string>();

beforeAll(async () => {
  work = await tempDir('ferry-inspect-scale-');
  for (const n of [100, 200]) {
    const { images, fetch } = syntheticImages(n);
    const out = join(work.dir, `n${n}.tar`);
    await writeBundle({ images, fetch, out, toolVersion: 'test' });
    bundles.set(n, out);
  }
}, 120_000);

afterAll(async () => {
  await work.cleanup();
});

async function counted(n: number): Promise<Counts> {
  return counting(async () => {
    const report = await inspectBundle(bundles.get(n) as string);
    expect(report.images).toHaveLength(n);
  });
}

describe('ferry inspect at scale', () => {
  it('runs a number of statements that does not grow with the image count, and reads rows linear in it', async () => {
    const small = await counted(100);
    const large = await counted(200);
    expect(large.statements).toBeLessThanOrEqual(small.statements + 2);
    expect(large.rows).toBeLessThan(2 * small.rows + 100);
  });

  it('walks the graph of every image from tables read once: no recursive query, no statement per image (inspect, import, k8s)', async () => {
    const { sql: inspectSql } = await counted(100);
    expect(inspectSql.filter((s) => /RECURSIVE/i.test(s))).toEqual([]);
    const entries = await readTar(bundles.get(100) as string);
    const dbFile = join(work.dir, 'index.db');
    await writeFile(dbFile, entries.find((e) => e.header.name === 'ferry/index.db')?.data ?? Buffer.alloc(0));
    const db = ManifestDb.open(dbFile);
    try {
      const perRoot = async (n: number) =>
        counting(() => {
          for (const { digest } of db.images().slice(0, n)) {
            expect(db.blobsOf(digest).length).toBeGreaterThan(0);
            db.platforms(digest);
            db.totals(digest);
          }
        });
      const first = await perRoot(1);
      const all = await perRoot(100);
      // The second count runs on tables the first read: nothing more.
      expect(all.statements).toBeLessThanOrEqual(first.statements);
      expect([...first.sql, ...all.sql].filter((s) => /RECURSIVE/i.test(s))).toEqual([]);
    } finally {
      db.close();
    }
  });
});
