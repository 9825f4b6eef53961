import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestDb, buildManifestDb, walkBundleGraph, type WalkResult } from '../../src/bundle/index.js';
import { formatPlatform } from '../../src/core/platform.js';
import { ErrorCode, IntegrityError } from '../../src/core/errors.js';
import { ALL_IMAGES, descriptorOf, fetchFrom, fullName, imageInput, tempDir, testImages } from './fixtures.js';

// ferry/index.db: a real SQLite file, built deterministically from the graph
// walk of the rig's images, opened read-only and queried the way inspect,
// import and the k8s helpers do.

let work: Awaited<ReturnType<typeof tempDir>>;
let walk: WalkResult;
let dbPath: string;
let db: ManifestDb;

beforeAll(async () => {
  work = await tempDir('ferry-indexdb-test-');
  const { set, blobs } = await testImages();
  // appB's base layer is shared with appA; pretend the target already has it (a delta).
  const shared = set.images.appB.blobs.filter((b) => set.images.appA.blobs.some((a) => a.digest === b.digest)).map(descriptorOf);
  walk = await walkBundleGraph(
    ALL_IMAGES.map((k) => imageInput(set, k)),
    { fetch: fetchFrom(blobs).fetch },
    shared,
  );
  dbPath = join(work.dir, 'index.db');
  await buildManifestDb(walk.graph, dbPath, work.dir);
  db = ManifestDb.open(dbPath);
});

afterAll(async () => {
  db.close();
  await work.cleanup();
});

describe('building index.db', () => {
  it('is one self-contained rollback-journal file with deterministic bytes', async () => {
    const again = join(work.dir, 'again.db');
    await buildManifestDb(walk.graph, again, work.dir);
    expect((await readFile(again)).equals(await readFile(dbPath))).toBe(true);
    const files = await readdir(work.dir);
    expect(files.filter((f) => /-(wal|shm|journal)$/.test(f))).toEqual([]);
    const header = await readFile(dbPath);
    expect(header.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    expect([header[18], header[19]]).toEqual([1, 1]); // legacy (rollback) read/write versions: not WAL
  });
});

describe('querying index.db', () => {
  it('lists images with registry, repository, tag and root', async () => {
    const { set } = await testImages();
    const images = db.images();
    expect(images.map((i) => i.name)).toEqual(ALL_IMAGES.map((k) => fullName(set.images[k])).sort());
    const appA = db.image(fullName(set.images.appA));
    expect(appA).toMatchObject({ registry: 'registry.example:5000', repository: 'ferry-test/app-a', tag: '1.0', digest: set.images.appA.digest });
  });

  it('answers platforms per image, from index descriptors and from configs', async () => {
    const { set } = await testImages();
    expect(db.platforms(set.images.multi.digest).map(formatPlatform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(db.platforms(set.images.docker.digest).map(formatPlatform)).toEqual(['linux/amd64']);
    expect(db.platforms(set.images.windows.digest).map(formatPlatform)).toEqual(['windows/amd64:10.0.20348.1234']);
    expect(db.platforms(set.images.signature.digest)).toEqual([]);
  });

  it('lists the blobs of an image (manifests, config, layers) with sizes and kinds', async () => {
    const { set } = await testImages();
    const appA = set.images.appA;
    const blobs = db.blobsOf(appA.digest);
    expect(blobs.map((b) => b.descriptor.digest).sort()).toEqual([...appA.manifests, ...appA.blobs].map((d) => d.digest).sort());
    expect(blobs.filter((b) => b.kind === 'config')).toHaveLength(1);
    const totals = db.totals(appA.digest);
    expect(totals.bytes).toBe([...appA.manifests, ...appA.blobs].reduce((n, d) => n + d.size, 0));
    // The shared base layer is assumed (delta): counted for the image, not carried.
    expect(totals.assumed.blobs).toBe(1);
    expect(totals.included.bytes + totals.assumed.bytes).toBe(totals.bytes);
    expect(db.children(appA.digest).map((e) => e.kind)).toEqual(['config', 'layer', 'layer']);
  });

  it('keeps foreign layer URLs and referrers', async () => {
    const { set } = await testImages();
    const foreign = db.blob(set.foreignLayer.digest);
    expect(foreign?.descriptor.urls).toEqual([set.foreignLayer.url]);
    expect(foreign?.included).toBe(true);
    const referrers = db.referrers(set.images.appA.digest);
    expect(referrers).toEqual([{ subject: set.images.appA.digest, digest: set.images.sbom.digest, artifactType: 'application/spdx+json', image: fullName(set.images.appA) }]);
    expect(db.manifest(set.images.sbom.digest)?.subject).toBe(set.images.appA.digest);
  });

  it('totals the whole bundle: carried vs assumed', () => {
    const t = db.totals();
    expect(t.blobs).toBe(walk.graph.blobs.length);
    expect(t.assumed.blobs).toBe(walk.graph.blobs.filter((b) => !b.included).length);
    expect(t.assumed.blobs).toBeGreaterThan(0);
  });

  it('summarises every image root as the per-root queries do (totals, platforms in tar order), the delta\'s assumed blobs too', () => {
    const summaries = db.rootSummaries();
    const images = db.images();
    expect([...summaries.keys()].sort()).toEqual([...new Set(images.map((i) => i.digest))].sort());
    for (const { digest } of images) {
      expect(summaries.get(digest)?.totals, digest).toEqual(db.totals(digest));
      expect(summaries.get(digest)?.platforms, digest).toEqual(db.platforms(digest));
    }
    expect([...summaries.values()].some((s) => s.totals.assumed.blobs > 0)).toBe(true);
    expect([...summaries.values()].some((s) => s.platforms.length > 1)).toBe(true);
  });

  it('reads every blob once: later calls share the same frozen rows (the head check, locateBlobs and the iterator each ask)', async () => {
    const { set } = await testImages();
    const first = db.blobs();
    expect(db.blobs()).toBe(first);
    expect(first.map((b) => b.descriptor.digest)).toEqual(walk.graph.blobs.map((b) => b.descriptor.digest));
    const foreign = first.find((b) => b.descriptor.digest === set.foreignLayer.digest);
    expect(foreign?.descriptor.urls).toEqual([set.foreignLayer.url]);
    // A caller cannot change a row under the others.
    expect(() => ((foreign as { included: boolean }).included = false)).toThrow(TypeError);
    expect(() => (foreign?.descriptor.urls as string[]).push('https://elsewhere.example/')).toThrow(TypeError);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('opening an index.db that is not ours', () => {
  const refuses = (path: string, text: string) => {
    let err: unknown;
    try {
      ManifestDb.open(path).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).code).toBe(ErrorCode.bundleInvalid);
    expect((err as IntegrityError).message).toContain('ferry/index.db');
    expect((err as IntegrityError).message).toContain(text);
  };

  it('refuses a file that is not SQLite, another application id, and an extra trigger', async () => {
    const junk = join(work.dir, 'junk.db');
    await writeFile(junk, Buffer.alloc(4096, 0x42));
    refuses(junk, 'SQLite');
    const other = join(work.dir, 'other.db');
    new Database(other).close();
    refuses(other, 'application_id');
    const trigger = join(work.dir, 'trigger.db');
    await copyFile(dbPath, trigger);
    const w = new Database(trigger);
    w.exec("CREATE TRIGGER t AFTER INSERT ON images BEGIN DELETE FROM blobs; END");
    w.close();
    refuses(trigger, 'unexpected schema');
  });

  it('refuses a blob row whose digest, kind or size is not one, naming it (types and lengths are the bounds scan\'s, at open)', async () => {
    // A forger is not held to the schema's CHECKs: the reader checks every row again.
    const cases: Array<[string, string]> = [
      ["digest = 'sha256:' || upper(substr(digest, 8))", "digest 'sha256:"],
      ["kind = 'socket'", "blob kind 'socket' is unknown"],
      ['size = -1', 'size is not a size'],
      ['position = -1', 'position is not a size'],
    ];
    for (const [i, [set, text]] of cases.entries()) {
      const path = join(work.dir, `bad-blob-${i}.db`);
      await copyFile(dbPath, path);
      const w = new Database(path);
      w.pragma('ignore_check_constraints = ON');
      w.exec(`UPDATE blobs SET ${set} WHERE position = (SELECT max(position) FROM blobs)`);
      w.close();
      const bad = ManifestDb.open(path);
      try {
        expect(() => bad.blobs(), set).toThrow(IntegrityError);
        expect(() => bad.blobs(), set).toThrow(text);
      } finally {
        bad.close();
      }
    }
  });

  it('is read-only once opened', () => {
    const fresh = ManifestDb.open(dbPath);
    // No write path exists in the API; the connection itself refuses writes too.
    const inner = (fresh as unknown as { db: Database.Database }).db;
    expect(() => inner.exec("DELETE FROM images")).toThrow(/readonly|query_only/i);
    fresh.close();
  });
});
