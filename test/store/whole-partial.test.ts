import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ingestFiles, layer, readAll, useTempStores, type Blob } from './helpers/store-fixtures.js';
import type { Store } from '../../src/store/index.js';

// A partial that holds the whole blob (a kill between the last byte and the
// commit) is committed without reading the source, or dropped and rewritten
// from the source when its bytes are wrong, whichever way the writer resumes.

const fresh = useTempStores();

/** Leaves `bytes` in the ingest `ref` as an interrupted writer would: all written, not committed. */
async function leavePartial(store: Store, ref: string, b: Blob, bytes: Buffer = b.bytes): Promise<void> {
  const writer = await store.ingests.open(ref, { expected: { digest: b.desc.digest, size: b.desc.size } });
  const stream = writer.stream();
  stream.end(bytes);
  await new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject));
  await writer.close();
}

const unreadable = () => new Readable({ read() { this.destroy(new Error('the source must not be read')); } });

describe('a partial that holds the whole blob', () => {
  const l = layer('whole-partial', 70_000);
  const wrong = Buffer.from(l.bytes);
  wrong[1234] = wrong[1234]! ^ 1;

  it('is committed by writeBlob without reading the source', async () => {
    const { store, dir } = await fresh();
    await leavePartial(store, l.desc.digest, l);
    const result = await store.writeBlob(l.desc, unreadable());
    expect(result).toMatchObject({ written: 0, resumedFrom: l.desc.size });
    expect((await readAll(await store.openBlob(l.desc.digest))).equals(l.bytes)).toBe(true);
    expect(await ingestFiles(dir)).toEqual([]);
  });

  it('with wrong bytes is dropped, and writeBlob writes the source from 0', async () => {
    const { store, dir } = await fresh();
    await leavePartial(store, l.desc.digest, l, wrong);
    const opened: number[] = [];
    const result = await store.writeBlob(l.desc, async (offset) => {
      opened.push(offset);
      return Readable.from([l.bytes.subarray(offset)]);
    });
    expect(opened).toEqual([0]);
    expect(result).toMatchObject({ written: l.desc.size, resumedFrom: 0, existed: false });
    expect((await readAll(await store.openBlob(l.desc.digest))).equals(l.bytes)).toBe(true);
    expect(await ingestFiles(dir)).toEqual([]);
  });

  it('is settled by resumeOffset: committed and linked (the size), or dropped (0)', async () => {
    const { store } = await fresh();
    const other = store.repository('team/other');
    await leavePartial(store, `team/other@${l.desc.digest}`, l, wrong);
    expect(await other.resumeOffset(l.desc)).toBe(0);
    expect(await other.exists(l.desc)).toBe(false);
    expect(await store.ingests.status(`team/other@${l.desc.digest}`)).toBeUndefined();

    const repo = store.repository('team/app');
    await leavePartial(store, `team/app@${l.desc.digest}`, l);
    expect(await repo.resumeOffset(l.desc)).toBe(l.desc.size);
    expect(await repo.exists(l.desc)).toBe(true);
  });
});
