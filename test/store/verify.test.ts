import { chmod, open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { blobFiles, body, config, hexOf, imageIndex, imageManifest, ingestFiles, layer, useTempStores, type Blob } from './helpers/store-fixtures.js';

// `store.verify()`: every blob re-hashed (on a pool of threads), every tag
// followed to complete content, every ingest sorted; `repair` drops what is
// corrupt and unlinks what needed it, naming the tags that now need a re-export.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
const fresh = useTempStores();

async function push(store: Store, repo: string, ...blobs: Blob[]): Promise<void> {
  for (const b of blobs) await store.repository(repo).push(b.desc, body(b.bytes));
}

/** Flips one byte of a committed blob file in place (a bad disk). */
async function flipByte(path: string, at: number): Promise<void> {
  await chmod(path, 0o644);
  const fh = await open(path, 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, at);
  one[0] = one[0]! ^ 0x40;
  await fh.write(one, 0, 1, at);
  await fh.close();
  await chmod(path, 0o444);
}

describe('store verify', () => {
  const base = layer('verify-base', 300_000);
  const top = layer('verify-top', 50_000);
  const extra = layer('verify-extra', 20_000);
  const cfgA = config('verify-a');
  const cfgB = config('verify-b');
  const a = imageManifest(cfgA, [base, top]);
  const b = imageManifest(cfgB, [base, extra]);
  const foreign = layer('verify-foreign', 4000, { mediaType: MediaType.dockerForeignLayer, urls: ['https://mcr.example/base'] });
  const win = imageManifest(cfgB, [foreign, extra]);
  const armCfg = config('verify-arm');
  const arm = imageManifest(armCfg, [extra]);
  const index = imageIndex([
    { ...b.desc, platform: { os: 'linux', architecture: 'amd64' } },
    { ...arm.desc, platform: { os: 'linux', architecture: 'arm64' } },
  ]);

  async function filled(): Promise<{ store: Store; dir: string }> {
    const t = await fresh();
    await push(t.store, 'team/a', cfgA, base, top, a);
    await t.store.repository('team/a').tag('1.0', a.desc);
    await push(t.store, 'team/b', cfgB, base, extra, b, armCfg, arm, index, win);
    await t.store.repository('team/b').tag('multi', index.desc);
    await t.store.repository('team/b').tag('win', win.desc);
    return t;
  }

  it('a sound store is ok: every blob hashed, every tag complete (an absent foreign layer is fine)', async () => {
    const { store } = await filled();
    let planned = 0;
    let hashed = 0;
    const report = await store.verify({
      threads: 3,
      onEvent: (e) => {
        if (e.type === 'phase') planned = e.total ?? 0;
        if (e.type === 'bytes') hashed += e.bytes;
      },
    });
    expect(report.ok).toBe(true);
    expect(report.index).toEqual([]);
    expect(report.blobs.corrupt).toEqual([]);
    expect(report.blobs.checked).toBe((await blobFiles(store.dir)).length);
    expect(report.blobs.bytes).toBe(planned);
    expect(hashed).toBe(planned);
    expect(report.tags).toEqual({ checked: 3, incomplete: [], removed: [] });
  });

  it('names a flipped byte, a truncated and a missing blob, and every tag they break; changes nothing without repair', async () => {
    const { store, dir } = await filled();
    await flipByte(store.blobPath(base.desc.digest), 123_456);
    await chmod(store.blobPath(top.desc.digest), 0o644);
    await truncate(store.blobPath(top.desc.digest), 1000);
    await rm(store.blobPath(extra.desc.digest));
    const files = await blobFiles(dir);

    const report = await store.verify();
    expect(report.ok).toBe(false);
    expect(report.blobs.corrupt.map((c) => [c.digest, c.problem, c.removed]).sort()).toEqual(
      [
        [base.desc.digest, 'digest', false],
        [top.desc.digest, 'size', false],
        [extra.desc.digest, 'missing', false],
      ].sort(),
    );
    expect(report.tags.incomplete.map((t) => `${t.repository}:${t.tag}`)).toEqual(['team/a:1.0', 'team/b:multi', 'team/b:win']);
    expect(report.tags.incomplete[0]?.missing.sort()).toEqual([base.desc.digest, top.desc.digest].sort());
    expect(report.tags.incomplete[2]?.missing).toEqual([extra.desc.digest]);
    expect(await blobFiles(dir)).toEqual(files);
    expect(await store.repository('team/a').exists(a.desc)).toBe(true);
  });

  it('repair drops the corrupt blobs and unlinks every manifest above them; tags stay, named as incomplete', async () => {
    const { store, dir } = await filled();
    await flipByte(store.blobPath(base.desc.digest), 7);
    const report = await store.verify({ repair: true });
    expect(report.ok).toBe(true);
    expect(report.blobs.corrupt).toMatchObject([{ digest: base.desc.digest, problem: 'digest', removed: true }]);
    expect(await blobFiles(dir)).not.toContain(hexOf(base.desc.digest));
    expect(store.hasBlob(base.desc.digest)).toBe(false);
    expect(report.unlinked.map((u) => `${u.repository}@${u.digest}`).sort()).toEqual(
      [`team/a@${a.desc.digest}`, `team/b@${b.desc.digest}`, `team/b@${index.desc.digest}`].sort(),
    );
    expect(report.tags.incomplete.map((t) => `${t.repository}:${t.tag}`)).toEqual(['team/a:1.0', 'team/b:multi']);
    // A copy now sees the images as absent (and re-walks them); what is sound stays linked.
    expect(await store.repository('team/a').exists(a.desc)).toBe(false);
    expect(await store.repository('team/b').exists(index.desc)).toBe(false);
    expect(await store.repository('team/b').exists(win.desc)).toBe(true);
    expect(await store.repository('team/a').exists(top.desc)).toBe(true);

    // Until they are fetched again, a plain verify still says so.
    const again = await store.verify();
    expect(again.ok).toBe(false);
    expect(again.blobs.corrupt).toEqual([]);
    expect(again.tags.incomplete.map((t) => [t.tag, t.missing])).toEqual([
      ['1.0', [base.desc.digest]],
      ['multi', [base.desc.digest]],
    ]);

    // What an export does next: the missing layer, then the manifests again; the store is whole.
    await push(store, 'team/a', base, a);
    await store.repository('team/a').tag('1.0', a.desc);
    await store.repository('team/b').mount(base.desc, 'team/a');
    await push(store, 'team/b', b, index);
    expect((await store.verify()).ok).toBe(true);
  });

  it('repair of a corrupt manifest removes it with its tags, and says which', async () => {
    const { store } = await filled();
    await flipByte(store.blobPath(win.desc.digest), 3);
    const report = await store.verify({ repair: true });
    expect(report.blobs.corrupt).toMatchObject([{ digest: win.desc.digest, removed: true }]);
    expect(report.tags.removed).toEqual([{ repository: 'team/b', tag: 'win', digest: win.desc.digest }]);
    expect(store.repository('team/b').listTags().items).toEqual(['multi']);
    expect(report.ok).toBe(true);
  });

  it('sorts ingests into in use, resumable and abandoned; repair removes the abandoned ones', async () => {
    const { store, dir } = await filled();
    const resumable = layer('verify-resumable', 10_000);
    const w1 = await store.ingests.open('team/a@resumable', { expected: { digest: resumable.desc.digest, size: resumable.desc.size } });
    w1.stream().end(resumable.bytes.subarray(0, 5000));
    await new Promise((r) => setTimeout(r, 50));
    await w1.close();
    // A partial of a blob the store already holds (fetched through another repository meanwhile).
    const w2 = await store.ingests.open(`team/c@${top.desc.digest}`, { expected: { digest: top.desc.digest, size: top.desc.size } });
    await w2.close();
    await writeFile(join(dir, 'ingest', 'bytes-999999999-00.partial'), 'x');
    // One held by another open store (a live writer).
    const other = await openStore(dir);
    cleanups.push(() => other.close());
    const held = await other.ingests.open('team/d@held');

    const report = await store.verify();
    expect(report.ingests).toEqual({ total: 3, owned: 1, resumable: 1, removable: 1, removed: 0, strays: 1 });
    const repaired = await store.verify({ repair: true });
    expect(repaired.ingests).toMatchObject({ removable: 1, removed: 1, strays: 1 });
    expect((await store.ingests.list()).map((s) => s.ref)).toEqual(['team/a@resumable', 'team/d@held']);
    expect((await ingestFiles(dir)).filter((n) => n.startsWith('bytes-'))).toEqual([]);
    await held.abort();
  });
});
