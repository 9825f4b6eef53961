import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, NotFoundError, type Digest } from '../../src/core/index.js';
import { openStore } from '../../src/store/index.js';
import { body, bytesFor, config, ingestFiles, layer, manualClock, readAll, tempStore } from './helpers/store-fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('ingests', () => {
  const l = layer('ingest-layer', 200_000);
  const expected = { digest: l.desc.digest, size: l.desc.size };

  it('allows one writer per ref: a second opener fails with ERR_STORE_LOCKED, or waits and resumes where the first stopped', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const first = await t.store.ingests.open('ref-1', { expected });
    await expect(t.store.ingests.open('ref-1', { expected })).rejects.toMatchObject({ code: ErrorCode.storeLocked, exitCode: 2 });
    // Another store instance (another connection, as another process would have) is refused too.
    const other = await openStore(t.dir);
    cleanups.push(() => other.close());
    await pipeline(body(l.bytes.subarray(0, 70_000)), first.stream());
    const waiting = t.store.ingests.open('ref-1', { expected, waitMs: 30_000 });
    await first.close();
    const second = await waiting;
    expect(second.offset).toBe(70_000);
    await pipeline(body(l.bytes.subarray(70_000)), second.stream());
    expect(await second.commit()).toEqual({ digest: l.desc.digest, size: l.desc.size, existed: false });
    expect(t.store.hasBlob(l.desc.digest)).toBe(true);
    expect(await ingestFiles(t.dir)).toEqual([]);
  });

  it('resumes after close, re-hashing the partial; discards a partial written for another digest', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const w = await t.store.ingests.open('resumable', { expected });
    await pipeline(body(l.bytes.subarray(0, 123_456)), w.stream());
    await w.close();
    expect(await t.store.ingests.status('resumable')).toMatchObject({ offset: 123_456, active: false, expected });

    const other = layer('other-layer', 1000);
    const reset = await t.store.ingests.open('resumable', { expected: { digest: other.desc.digest, size: other.desc.size } });
    expect(reset.offset).toBe(0);
    await reset.close();

    const w2 = await t.store.ingests.open('resumable', { expected });
    expect(w2.offset).toBe(0);
    await pipeline(body(l.bytes.subarray(0, 5)), w2.stream());
    await w2.close();
    const w3 = await t.store.ingests.open('resumable'); // no expectation: the sidecar remembers it
    expect(w3.offset).toBe(5);
    await pipeline(body(l.bytes.subarray(5)), w3.stream());
    expect((await w3.commit()).digest).toBe(l.desc.digest);
  });

  it('abort drops the partial; the janitor removes stale ingests and keeps fresh or active ones', async () => {
    const clock = manualClock(Date.now());
    const t = await tempStore({ clock: clock.now });
    cleanups.push(t.cleanup);
    const a = await t.store.ingests.open('to-abort');
    await pipeline(body(bytesFor('a', 1000)), a.stream());
    await a.abort();
    expect(await t.store.ingests.status('to-abort')).toBeUndefined();

    const stale = await t.store.ingests.open('stale');
    await pipeline(body(bytesFor('s', 4000)), stale.stream());
    await stale.close();
    const active = await t.store.ingests.open('active');
    await pipeline(body(bytesFor('x', 10)), active.stream());
    clock.advance(25 * 60 * 60_000);
    const fresh = await t.store.ingests.open('fresh');
    await fresh.close();

    const dry = await t.store.cleanIngests({ dryRun: true });
    expect(dry.removed.map((s) => s.ref)).toEqual(['stale']);
    expect((await t.store.ingests.list()).map((s) => s.ref)).toEqual(['active', 'fresh', 'stale']);
    const real = await t.store.cleanIngests();
    expect(real.removed.map((s) => s.ref)).toEqual(['stale']);
    expect(real.bytes).toBe(4000);
    expect((await t.store.ingests.list()).map((s) => s.ref)).toEqual(['active', 'fresh']);
    await active.abort();
  });

  it('reads committed blobs whole or by inclusive range, and refuses what is not there', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    await t.store.writeBlob(l.desc, body(l.bytes));
    expect((await readAll(await t.store.openBlob(l.desc.digest))).equals(l.bytes)).toBe(true);
    expect((await readAll(await t.store.openBlob(l.desc.digest, { start: 10, end: 19 }))).equals(l.bytes.subarray(10, 20))).toBe(true);
    expect((await readAll(await t.store.openBlob(l.desc.digest, { start: l.desc.size }))).length).toBe(0);
    await expect(t.store.openBlob(l.desc.digest, { start: l.desc.size + 1 })).rejects.toMatchObject({ code: ErrorCode.usage });
    expect(t.store.statBlob(l.desc.digest)).toMatchObject({ size: l.desc.size, mediaType: l.desc.mediaType });
    expect((await stat(t.store.blobPath(l.desc.digest))).size).toBe(l.desc.size);
    const missing = config('absent').desc.digest;
    expect(() => t.store.statBlob(missing)).toThrow(NotFoundError);
    await expect(t.store.openBlob(missing)).rejects.toMatchObject({ code: ErrorCode.blobUnknown });
    // writeBlob of something already there reads nothing.
    const again = body(l.bytes);
    expect(await t.store.writeBlob(l.desc, again)).toEqual({ written: 0, resumedFrom: 0, existed: true });
    expect(again.destroyed).toBe(true);
  });
});

describe('records of transfers', () => {
  it('keeps exports, import receipts (blobs a target holds) and bundles across reopen', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const m = config('exported');
    t.store.recordExport('mcr.microsoft.com/windows/servercore:ltsc2022', m.desc);
    const blobs = [layer('r1', 10).desc.digest, layer('r2', 10).desc.digest].sort() as Digest[];
    t.store.recordReceipt({ registry: 'far.example', repository: 'mcr/windows/servercore', tag: 'ltsc2022', digest: m.desc.digest, blobs });
    t.store.recordBundle({ id: 'b-1', direction: 'written', path: '/media/usb/x.tar', blobCount: 3, bytes: 999, info: { signer: 'k1' }, at: 5 });
    await t.store.close();
    const again = await openStore(t.dir);
    cleanups.push(() => again.close());
    expect(again.exports()).toEqual([expect.objectContaining({ source: 'mcr.microsoft.com/windows/servercore:ltsc2022', digest: m.desc.digest })]);
    expect(again.heldBlobs('far.example')).toEqual(blobs);
    expect(again.heldBlobs('far.example', 'other/repo')).toEqual([]);
    expect(again.bundles()).toEqual([{ id: 'b-1', direction: 'written', path: '/media/usb/x.tar', blobCount: 3, bytes: 999, info: { signer: 'k1' }, at: 5 }]);
  });
});
