import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { mountTmpfs, tmpfsAvailable } from '../rig/tmpfs.js';
import { ingestFiles, layer } from './helpers/store-fixtures.js';

// An ingest whose device fills up mid-blob (a real tmpfs of 512 KiB): the
// writer fails with the system's error and commits nothing; once there is room
// again, the next open resumes from the bytes that reached the partial and lands
// the blob whole. The writer hashes each chunk while the thread pool writes it,
// so after a failed write its hash holds bytes the file may not: the failed
// writer must refuse to commit, and the resume must hash the file, not reuse state.

const canMount = tmpfsAvailable();

/** `bytes` in 64 KiB chunks, as a socket delivers them (the writer's writev path). */
function chunked(bytes: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 64 * 1024) pieces.push(bytes.subarray(at, at + 64 * 1024));
  return Readable.from(pieces);
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe.skipIf(!canMount)('an ingest on a device that fills up', () => {
  it('fails with ENOSPC and commits nothing; with room again, the next open resumes from the partial and lands the blob whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-full-store-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    expect(mountTmpfs(dir, 'size=512k')).toBe(true);
    cleanups.push(() => {
      execFileSync('umount', [dir]);
    });
    let store: Store = await openStore(dir);
    cleanups.push(() => store.close());
    const l = layer('disk-full-layer', 1_000_000); // twice the device
    const expected = { digest: l.desc.digest, size: l.desc.size };

    const w = await store.ingests.open('full', { expected });
    await expect(pipeline(chunked(l.bytes), w.stream())).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(w.commit()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(store.hasBlob(l.desc.digest)).toBe(false);
    await w.close();
    const partial = (await ingestFiles(dir)).find((f) => f.endsWith('.partial'));
    expect(partial, 'the partial is kept for a resume').toBeDefined();
    const kept = (await stat(join(dir, 'ingest', partial as string))).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(l.desc.size);

    execFileSync('mount', ['-o', 'remount,size=4m', dir]);
    await store.close();
    store = await openStore(dir);
    const resumed = await store.ingests.open('full', { expected });
    expect(resumed.offset).toBe(kept);
    await pipeline(chunked(l.bytes.subarray(kept)), resumed.stream());
    expect(await resumed.commit()).toEqual({ digest: l.desc.digest, size: l.desc.size, existed: false });
    expect((await readFile(store.blobPath(l.desc.digest) as string)).equals(l.bytes)).toBe(true);
    expect(await ingestFiles(dir)).toEqual([]);
  });
});
