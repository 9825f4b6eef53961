import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ErrorCode, NetworkError, SMALL_BLOB_BYTES } from '../../src/core/index.js';
import { blobFiles, body, bytesFor, hexOf, ingestFiles, layer, useTempStores } from './helpers/store-fixtures.js';

// Blobs up to SMALL_BLOB_BYTES are read whole and committed in one step
// (store/write-small.ts): no resumable ingest, so nothing is left behind by an
// interrupted fetch, and the same checks as any blob before anything commits.

const fresh = useTempStores();

/** A body that sends `bytes` and then breaks, as a dropped connection does. */
function breaking(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes);
      } else this.destroy(new NetworkError('connection reset'));
    },
  });
}

describe('a small blob', () => {
  const small = layer('small-blob', 5_000);

  it('interrupted mid-body leaves no ingest behind, and the next write fetches it whole', async () => {
    const { store, dir } = await fresh();
    await expect(store.writeBlob(small.desc, breaking(small.bytes.subarray(0, 1_000)))).rejects.toBeInstanceOf(NetworkError);
    expect(await ingestFiles(dir)).toEqual([]);
    expect(await store.ingests.list()).toEqual([]);
    expect(await store.resumeOffset(small.desc)).toBe(0);
    expect(await store.writeBlob(small.desc, async (offset) => body(small.bytes.subarray(offset)))).toEqual({ written: 5_000, resumedFrom: 0, existed: false });
    expect(await ingestFiles(dir)).toEqual([]);
  });

  it('is refused for a wrong digest or a body longer than its size, committing nothing', async () => {
    const { store, dir } = await fresh();
    const wrong = await store.writeBlob(small.desc, body(bytesFor('other', 5_000))).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: ErrorCode.digestMismatch });
    const long = await store.writeBlob(small.desc, body(Buffer.concat([small.bytes, Buffer.from('x')]))).catch((e: unknown) => e);
    expect(long).toMatchObject({ code: ErrorCode.sizeMismatch });
    expect(store.hasBlob(small.desc.digest)).toBe(false);
    expect(await blobFiles(dir)).toEqual([]);
    expect(await ingestFiles(dir)).toEqual([]);
  });

  it('lands read-only in blobs/ with its bytes, indexed and linked in the repository', async () => {
    const { store, dir } = await fresh();
    await store.repository('a/b').push(small.desc, body(small.bytes));
    const path = join(dir, 'blobs', 'sha256', hexOf(small.desc.digest));
    expect(await readFile(path)).toEqual(small.bytes);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect(store.statBlob(small.desc.digest).size).toBe(5_000);
    expect(await store.repository('a/b').exists(small.desc)).toBe(true);
    expect(await ingestFiles(dir)).toEqual([]);
  });

  it('resumes an ingest an earlier run left for it; a blob one byte over the bound keeps its partial', async () => {
    const { store, dir } = await fresh();
    const writer = await store.ingests.open(small.desc.digest, { expected: { digest: small.desc.digest, size: small.desc.size } });
    const stream = writer.stream();
    stream.end(small.bytes.subarray(0, 2_000));
    await new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject));
    await writer.close();
    expect(await store.writeBlob(small.desc, async (offset) => body(small.bytes.subarray(offset)))).toMatchObject({ resumedFrom: 2_000, written: 3_000 });

    const big = layer('one-over', SMALL_BLOB_BYTES + 1);
    await expect(store.writeBlob(big.desc, breaking(big.bytes.subarray(0, 1_000)))).rejects.toBeInstanceOf(NetworkError);
    expect(await store.resumeOffset(big.desc)).toBe(1_000);
    expect(await blobFiles(dir)).toEqual([hexOf(small.desc.digest)]);
  });
});
