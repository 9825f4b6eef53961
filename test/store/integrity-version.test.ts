import Database from 'better-sqlite3';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, IntegrityError, MediaType, UsageError, digestOf, parseDigest } from '../../src/core/index.js';
import { defaultStoreDir, openStore, STORE_FORMAT_VERSION } from '../../src/store/index.js';
import { blob, blobFiles, body, bytesFor, config, ingestFiles, layer, tempStore } from './helpers/store-fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-store-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('bad bytes commit nothing', () => {
  it('a wrong-digest write throws IntegrityError naming the digest and leaves no blob, no partial, no row', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const l = layer('expected', 50_000);
    const err = await t.store.writeBlob(l.desc, body(bytesFor('other bytes', 50_000))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).code).toBe(ErrorCode.digestMismatch);
    expect((err as IntegrityError).exitCode).toBe(5);
    expect((err as IntegrityError).message).toContain(l.desc.digest);
    expect(t.store.hasBlob(l.desc.digest)).toBe(false);
    expect(await blobFiles(t.dir)).toEqual([]);
    expect(await ingestFiles(t.dir)).toEqual([]);
    expect(await t.store.ingests.status(l.desc.digest)).toBeUndefined();
    expect(t.store.usage().blobCount).toBe(0);
  });

  it('an upload session learns its digest at commit; a wrong one commits nothing, a right one commits once', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const bytes = bytesFor('chunked upload', 300_000);
    const digest = digestOf(bytes);
    const upload = async (session: string, claimed = digest) => {
      const w = await t.store.ingests.open(session);
      // Two PATCH requests: two streams, one after the other, into the same ingest.
      await pipeline(body(bytes.subarray(0, 100_000)), w.stream());
      await pipeline(body(bytes.subarray(100_000)), w.stream());
      expect(w.size).toBe(bytes.length);
      return w.commit({ digest: claimed });
    };
    const wrong = parseDigest(`sha256:${'0'.repeat(64)}`);
    await expect(upload('session-a', wrong)).rejects.toMatchObject({ code: ErrorCode.digestMismatch });
    expect(t.store.hasBlob(wrong)).toBe(false);
    expect(await ingestFiles(t.dir)).toEqual([]);
    expect(await upload('session-b')).toEqual({ digest, size: bytes.length, existed: false });
    expect(await upload('session-c')).toEqual({ digest, size: bytes.length, existed: true });
    expect((await blobFiles(t.dir)).length).toBe(1);
    expect(t.store.statBlob(digest).size).toBe(bytes.length);
  });

  it('a body longer than the expected size is refused as soon as it overflows', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const l = layer('short', 1000);
    const err = await t.store.writeBlob({ ...l.desc }, body(bytesFor('long', 5000))).catch((e: unknown) => e);
    expect((err as IntegrityError).code).toBe(ErrorCode.sizeMismatch);
    expect(await ingestFiles(t.dir)).toEqual([]);
  });

  it('refuses malformed and oversized manifests without committing them', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const repo = t.store.repository('x/y');
    const notJson = blob(Buffer.from('{"schemaVersion": 2, "mediaType": '), MediaType.ociManifest);
    await expect(repo.push(notJson.desc, body(notJson.bytes))).rejects.toMatchObject({ code: ErrorCode.manifestInvalid });
    const huge = blob(Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), MediaType.ociManifest);
    await expect(repo.push(huge.desc, body(huge.bytes))).rejects.toMatchObject({ code: ErrorCode.manifestTooLarge });
    expect(await blobFiles(t.dir)).toEqual([]);
    expect(await ingestFiles(t.dir)).toEqual([]);
  });
});

describe('store format version', () => {
  it('refuses a store of another format version with ERR_STORE_VERSION (exit 2)', async () => {
    const dir = await tempDir();
    await (await openStore(dir)).close();
    await writeFile(join(dir, 'VERSION'), '2\n');
    const err = await openStore(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: ErrorCode.storeVersion, exitCode: 2 });
    expect((err as Error).message).toBe(`store ${dir} has format version '2'; this ferry reads store format ${STORE_FORMAT_VERSION}`);
    expect((err as UsageError).hint).toContain('--store');
  });

  it('refuses a directory holding an index or blobs but no VERSION file', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await expect(openStore(dir)).rejects.toMatchObject({ code: ErrorCode.storeVersion });
  });

  it('refuses an index whose schema is newer than this code', async () => {
    const dir = await tempDir();
    await (await openStore(dir)).close();
    const db = new Database(join(dir, 'index.db'));
    db.pragma('user_version = 99');
    db.close();
    await expect(openStore(dir)).rejects.toMatchObject({ code: ErrorCode.storeVersion, exitCode: 2 });
  });

  it('reopens its own store with its content', async () => {
    const dir = await tempDir();
    const c = config('persist');
    const first = await openStore(dir);
    await first.repository('a/b').push(c.desc, body(c.bytes));
    await first.close();
    const again = await openStore(dir, { readOnly: true });
    cleanups.push(() => again.close());
    expect(again.hasBlob(c.desc.digest)).toBe(true);
    expect(await again.repository('a/b').exists(c.desc)).toBe(true);
    // A read-only store reads but never writes.
    await expect(again.writeBlob(layer('ro', 10).desc, body(layer('ro', 10).bytes))).rejects.toBeInstanceOf(UsageError);
    await expect(again.gc()).rejects.toBeInstanceOf(UsageError);
  });

  it('defaultStoreDir follows FERRY_STORE, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(defaultStoreDir({ FERRY_STORE: '/s', XDG_DATA_HOME: '/x', HOME: '/h' })).toBe('/s');
    expect(defaultStoreDir({ XDG_DATA_HOME: '/x', HOME: '/h' })).toBe('/x/ferry');
    expect(defaultStoreDir({ HOME: '/h' })).toBe('/h/.local/share/ferry');
  });
});
