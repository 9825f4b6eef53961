import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, type Digest } from '../../src/core/index.js';
import { openStore } from '../../src/store/index.js';
import { body, layer, tempStore } from './helpers/store-fixtures.js';

// Store.watchCommits names the blobs a store handle committed from bytes it
// hashed itself: the bundle writer copies those without hashing them again
// (export.ts). A blob found already there, a blob with wrong bytes, or one
// another handle (another process) wrote must never be named.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('watchCommits', () => {
  it('hears a blob written fresh, large (ingest) or small (whole), once, and stops when told', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const heard: Digest[] = [];
    const stop = t.store.watchCommits((d) => heard.push(d));
    const large = layer('watch-large', 3_000_000);
    const small = layer('watch-small', 300);
    await t.store.writeBlob(large.desc, body(large.bytes));
    await t.store.writeBlob(small.desc, body(small.bytes));
    expect(heard.sort()).toEqual([large.desc.digest, small.desc.digest].sort());
    stop();
    const later = layer('watch-later', 5_000);
    await t.store.writeBlob(later.desc, body(later.bytes));
    expect(heard).toHaveLength(2);
  });

  it('does not hear a blob the store already held, nor one re-verified over it', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const l = layer('watch-held', 200_000);
    await t.store.writeBlob(l.desc, body(l.bytes));
    const heard: Digest[] = [];
    t.store.watchCommits((d) => heard.push(d));
    await t.store.writeBlob(l.desc, body(l.bytes));
    await t.store.writeBlob(l.desc, body(l.bytes), { verifyExisting: true });
    expect(heard).toEqual([]);
  });

  it('does not hear bytes that did not match their digest', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const l = layer('watch-wrong', 200_000);
    const wrong = Buffer.from(l.bytes);
    wrong[10] = (wrong[10] as number) ^ 1;
    const heard: Digest[] = [];
    t.store.watchCommits((d) => heard.push(d));
    await expect(t.store.writeBlob(l.desc, body(wrong))).rejects.toMatchObject({ code: ErrorCode.digestMismatch });
    expect(heard).toEqual([]);
  });

  it('does not hear what another handle on the same store wrote', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const other = await openStore(t.dir);
    cleanups.push(async () => other.close());
    const heard: Digest[] = [];
    t.store.watchCommits((d) => heard.push(d));
    const l = layer('watch-other', 100_000);
    await other.writeBlob(l.desc, body(l.bytes));
    expect(t.store.hasBlob(l.desc.digest)).toBe(true);
    expect(heard).toEqual([]);
  });
});
