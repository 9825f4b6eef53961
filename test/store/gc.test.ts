import { rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { blobFiles, body, config, hexOf, imageManifest, layer, manualClock, tempStore, type Blob } from './helpers/store-fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const MIN = 60_000;

async function push(store: Store, repo: string, ...blobs: Blob[]): Promise<void> {
  for (const b of blobs) await store.repository(repo).push(b.desc, body(b.bytes));
}

const hexes = (...bs: Blob[]) => bs.map((b) => hexOf(b.desc.digest)).sort();
const digests = (...bs: Blob[]) => bs.map((b) => b.desc.digest).sort();

describe('garbage collection', () => {
  // Tagged image with a signature: kept. L1 is shared with the untagged image.
  const c1 = config('c1');
  const l1 = layer('l1', 1500);
  const m1 = imageManifest(c1, [l1]);
  const sigCfg = config('sig1');
  const sig = imageManifest(sigCfg, [], { subject: m1.desc, artifactType: 'application/vnd.example.sig' });
  // Untagged image with its own signature: garbage, except the shared L1.
  const c2 = config('c2');
  const l4 = layer('l4', 2500);
  const m2 = imageManifest(c2, [l1, l4]);
  const sig2Cfg = config('sig2');
  const sig2 = imageManifest(sig2Cfg, [], { subject: m2.desc, artifactType: 'application/vnd.example.sig' });
  // Untagged but kept on purpose.
  const c3 = config('c3');
  const l5 = layer('l5', 700);
  const m3 = imageManifest(c3, [l5]);
  // Loose blobs: garbage / pinned by an ingest / pinned explicitly / inside the grace window / touched by exists().
  const b5 = layer('b5-orphan', 900);
  const b6 = layer('b6-ingest-pinned', 600);
  const b7 = layer('b7-grace', 800);
  const b8 = layer('b8-pinned', 400);
  const b9 = layer('b9-touched', 300);

  it('removes exactly the unreachable blobs; keeps tagged, signed, kept, pinned, in-flight and recent content; dry run removes nothing', async () => {
    const clock = manualClock();
    const t = await tempStore({ clock: clock.now });
    cleanups.push(t.cleanup);
    const { store, dir } = t;
    await push(store, 'team/app', c1, l1, m1, sigCfg, sig, c2, l4, m2, sig2Cfg, sig2, c3, l5, m3, b5, b6, b8, b9);
    await store.repository('team/app').tag('v1', m1.desc);
    store.keep(m3.desc.digest);
    store.pin('upload-session-1', [b8.desc.digest]);

    // A writer in ANOTHER store instance (its own SQLite connection) has an ingest open for b6.
    const writerStore = await openStore(dir, { clock: clock.now });
    cleanups.push(() => writerStore.close());
    const inflight = await writerStore.ingests.open('session-xyz', { expected: { digest: b6.desc.digest, size: b6.desc.size } });

    clock.advance(55 * MIN);
    await push(store, 'team/app', b7); // committed 5 minutes before the GC
    clock.advance(3 * MIN);
    expect(await store.repository('team/app').exists(b9.desc)).toBe(true); // a HEAD 2 minutes before the GC
    clock.advance(2 * MIN);

    const filesBefore = await blobFiles(dir);
    const garbage = [c2, l4, m2, sig2Cfg, sig2, b5];

    const dry = await store.gc({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.removed.map((r) => r.digest)).toEqual(digests(...garbage));
    expect(dry.bytes).toBe(garbage.reduce((n, b) => n + b.desc.size, 0));
    expect(dry.manifests).toBe(2);
    expect(dry.retained.blobs).toBe(4); // b6 (ingest), b7 (grace), b8 (pin), b9 (touched)
    expect(await blobFiles(dir)).toEqual(filesBefore);
    expect(store.hasBlob(m2.desc.digest)).toBe(true);

    const real = await store.gc();
    expect(real.removed.map((r) => r.digest)).toEqual(dry.removed.map((r) => r.digest));
    expect(real.bytes).toBe(dry.bytes);
    const kept = [c1, l1, m1, sigCfg, sig, c3, l5, m3, b6, b7, b8, b9];
    expect(await blobFiles(dir)).toEqual(hexes(...kept));
    for (const b of garbage) expect(store.hasBlob(b.desc.digest)).toBe(false);
    await expect(store.repository('team/app').resolve(m2.desc.digest)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.repository('team/app').resolve('v1')).digest).toBe(m1.desc.digest);
    expect(store.edges(m2.desc.digest)).toEqual([]);

    // Writers done, time passes: the loose blobs go; the kept image stays until un-kept.
    await inflight.abort();
    store.unpin('upload-session-1');
    clock.advance(60 * MIN);
    const second = await store.gc();
    expect(second.removed.map((r) => r.digest)).toEqual(digests(b6, b7, b8, b9));
    store.keep(m3.desc.digest, false);
    const third = await store.gc();
    expect(third.removed.map((r) => r.digest)).toEqual(digests(c3, l5, m3));
    expect(await blobFiles(dir)).toEqual(hexes(c1, l1, m1, sigCfg, sig));
    expect((await store.gc()).blobs).toBe(0);
  });

  it('pruneUntagged drops untagged manifests at once and leaves their bytes to the next GC', async () => {
    const clock = manualClock();
    const t = await tempStore({ clock: clock.now });
    cleanups.push(t.cleanup);
    const { store } = t;
    await push(store, 'team/app', c1, l1, m1, c2, l4, m2, sig2Cfg, sig2);
    await store.repository('team/app').tag('v1', m1.desc);
    clock.advance(30 * MIN);

    const dry = await store.pruneUntagged({ dryRun: true });
    expect(dry.manifests.map((m) => m.digest)).toEqual(digests(m2, sig2));
    expect(dry.manifests[0]?.repositories).toEqual(['team/app']);
    expect(store.manifest(m2.desc.digest)).toBeDefined();

    await store.pruneUntagged();
    await expect(store.repository('team/app').resolve(m2.desc.digest)).rejects.toBeInstanceOf(NotFoundError);
    expect(store.manifest(m2.desc.digest)).toBeUndefined();
    expect(store.hasBlob(m2.desc.digest)).toBe(true); // bytes wait for GC
    const gc = await store.gc();
    expect(gc.removed.map((r) => r.digest)).toEqual(digests(c2, l4, m2, sig2Cfg, sig2));
    expect(store.manifest(m1.desc.digest)).toBeDefined();
  });

  it('sweeps stale orphan files, keeps fresh ones, and puts back blobs an interrupted GC left in trash', async () => {
    const clock = manualClock(Date.now());
    const t = await tempStore({ clock: clock.now });
    cleanups.push(t.cleanup);
    const { store, dir } = t;
    await push(store, 'team/app', c1, l1, m1);
    await store.repository('team/app').tag('v1', m1.desc);

    // A crash between rename and index row leaves a file without a row.
    const oldOrphan = join(dir, 'blobs', 'sha256', 'a'.repeat(64));
    const newOrphan = join(dir, 'blobs', 'sha256', 'b'.repeat(64));
    await writeFile(oldOrphan, 'old');
    await writeFile(newOrphan, 'new');
    const hourAgo = new Date(Date.now() - 60 * MIN);
    await utimes(oldOrphan, hourAgo, hourAgo);
    // A GC killed after moving a blob to trash/ but before its transaction committed.
    await rename(store.blobPath(l1.desc.digest), join(dir, 'trash', `${hexOf(l1.desc.digest)}.crashed`));

    const gc = await store.gc();
    expect(gc.orphanFiles).toBe(1);
    expect(gc.blobs).toBe(0);
    await expect(stat(oldOrphan)).rejects.toThrow();
    expect((await stat(newOrphan)).isFile()).toBe(true);
    expect((await stat(store.blobPath(l1.desc.digest))).size).toBe(l1.desc.size);
    expect(await blobFiles(dir)).toEqual([...hexes(c1, l1, m1), 'b'.repeat(64)].sort());
  });

  it('refuses a negative grace window', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    await expect(t.store.gc({ graceMs: -1 })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});

