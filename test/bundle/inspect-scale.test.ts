import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBundle, ManifestDb, writeBundle } from '../../src/bundle/index.js';
import type { Digest } from '../../src/core/digest.js';
import { readTar, tempDir } from './fixtures.js';
import { syntheticImages } from './synthetic-set.js';

// inspect of a 1,000-image bundle took 7.8 s: a query per image, each of which
// SQLite planned as a walk over every blob. Counted here instead of timed:
// every SQL statement executed and every row handed to JS during inspect, by
// wrapping better-sqlite3's real Statement methods (the queries still run).

type Counts = { statements: number; rows: number; sql: string[] };
type Method = (this: unknown, ...args: unknown[]) => unknown;

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

/** Every statement `action` runs, and the rows handed to JS. */
async function counting(action: () => Promise<void> | void): Promise<Counts> {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Method>;
  probe.close();
  const counts: Counts = { statements: 0, rows: 0, sql: [] };
  const originals = new Map<string, Method>();
  for (const name of ['all', 'get', 'iterate', 'run']) {
    const original = proto[name] as Method;
    originals.set(name, original);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      counts.statements += 1;
      counts.sql.push((this as { source: string }).source);
      const result = original.apply(this, args);
      if (name === 'all') counts.rows += (result as unknown[]).length;
      else if (name === 'get') counts.rows += 1;
      return result;
    };
  }
  try {
    await action();
  } finally {
    for (const [name, original] of originals) proto[name] = original;
  }
  return counts;
}

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

  it('reaches blobs by key from each root, never by a walk over the whole blobs table', async () => {
    const entries = await readTar(bundles.get(100) as string);
    const dbFile = join(work.dir, 'index.db');
    await writeFile(dbFile, entries.find((e) => e.header.name === 'ferry/index.db')?.data ?? Buffer.alloc(0));
    // inspect walks the edges in JS (no recursive query); import and k8s ask per root.
    const { sql: inspectSql } = await counted(100);
    const manifests = ManifestDb.open(dbFile);
    const root = manifests.images()[0]?.digest as Digest;
    const { sql: perRoot } = await counting(() => {
      manifests.blobsOf(root);
      manifests.platforms(root);
      manifests.totals(root);
    });
    manifests.close();
    // Plan each reach query against the bundle's own index.db, as it ran.
    const db = new Database(dbFile, { readonly: true });
    try {
      const reachQueries = [...new Set([...inspectSql, ...perRoot].filter((s) => s.includes('reach')))];
      expect(reachQueries.length).toBe(3);
      for (const q of reachQueries) {
        const params = (q.match(/\?/g) ?? []).map(() => 'sha256:0');
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all(...params) as { detail: string }[]).map((r) => r.detail);
        expect(plan.filter((d) => /^SCAN b\b/.test(d)), q).toEqual([]);
      }
    } finally {
      db.close();
    }
  });
});
