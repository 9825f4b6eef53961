import { readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, registryFlags, sha256Hex, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { IMAGE_KEYS } from '../rig/image-set.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// `--split`: the bundle cut into NAME.000, NAME.001, … plus a signed volume
// list. Import reads the set from its first volume; verify names the one bad
// stick; the writer is deterministic, so the same export twice (fresh stores)
// gives the same bytes, volume by volume — and `cat` of the set is the tar.
// Reproducible mode: SOURCE_DATE_EPOCH (else bundle.json records the export time).

const SPLIT = '64k';

describe.skipIf(!rigContext().available)('split bundles through the CLI', () => {
  let work: WorkDir;
  let target: Registry;
  let spare: Registry;
  let volumes: string[] = [];

  async function exportTo(dir: string, ...extra: string[]): Promise<void> {
    const args = ['export', ...sourceRefs(seededRig()), '-o', work.path(dir, 'b.tar'), '--sign', work.path('k.key'), '--plain-http', '--store', work.path(dir, 'store'), ...extra];
    expectOk(await ferry(args, { env: { SOURCE_DATE_EPOCH: '1700000000' } }));
  }
  const volumeNames = async (dir: string) => (await readdir(work.path(dir))).filter((f) => /^b\.tar\.\d{3}$/.test(f)).sort();

  beforeAll(async () => {
    work = await workDir('ferry-split-');
    [target, spare] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({})]);
    expectOk(await ferry(['keygen', '-o', work.path('k')]));
    await exportTo('one', '--split', SPLIT);
    volumes = await volumeNames('one');
  });

  afterAll(async () => {
    await Promise.all([target?.stop(), spare?.stop()]);
    await work?.cleanup();
  });

  it('cuts the bundle into volumes of at most the split size, and imports from NAME.000', async () => {
    expect(volumes.length).toBeGreaterThan(3);
    for (const v of volumes.slice(0, -1)) expect((await readFile(work.path('one', v))).length).toBe(64 * 1024);
    const imported = expectOk(
      await ferry(['import', work.path('one', 'b.tar.000'), '--to', `${target.host}/mirror`, '--key', work.path('k.pub'), ...registryFlags(target), '--store', work.path('import-store'), '--json']),
    );
    expect((imported.json as { images: unknown[] }).images).toHaveLength(IMAGE_KEYS.length);
    const view = new TargetView(target);
    try {
      for (const key of ['multi', 'docker', 'appA', 'appB'] as const) {
        const image = seededRig().images.images[key];
        expect((await view.manifest(`mirror/${image.repository}`, image.tag ?? ''))?.digest, key).toBe(image.digest);
      }
      expect(await view.tags('mirror/ferry-test/windows')).toEqual(['ltsc2022']);
    } finally {
      await view.close();
    }
  });

  it('the same export twice, from fresh stores, writes byte-identical volumes; cat of them is the unsplit tar', async () => {
    await exportTo('two', '--split', SPLIT);
    expect(await volumeNames('two')).toEqual(volumes);
    for (const v of [...volumes, 'b.tar.volumes.json', 'b.tar.volumes.json.sig']) {
      expect(sha256Hex(await readFile(work.path('two', v))), v).toBe(sha256Hex(await readFile(work.path('one', v))));
    }
    await exportTo('whole');
    const joined = Buffer.concat(await Promise.all(volumes.map((v) => readFile(work.path('one', v)))));
    expect(sha256Hex(joined)).toBe(sha256Hex(await readFile(work.path('whole', 'b.tar'))));
    await writeFile(work.path('joined.tar'), joined);
    expectOk(await ferry(['verify', work.path('joined.tar'), '--key', work.path('k.pub')]));
  });

  it('a damaged volume is named by verify and by import, and nothing is tagged', async () => {
    const damaged = volumes[2] ?? '';
    const path = work.path('one', damaged);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x04;
    await writeFile(path, bytes);
    expectRefusal(await ferry(['verify', work.path('one', 'b.tar.000'), '--key', work.path('k.pub')]), 5, `volume ${damaged}`);
    const imported = await ferry(['import', work.path('one', 'b.tar.000'), '--to', `${spare.host}/mirror`, ...registryFlags(spare), '--store', work.path('import-store')]);
    expectRefusal(imported, 5, `volume ${damaged}`);
    const view = new TargetView(spare);
    try {
      expect(await view.allTags(IMAGE_KEYS.map((k) => `mirror/${seededRig().images.images[k].repository}`))).toEqual({});
    } finally {
      await view.close();
    }
  });

  // --split fat32 under 4 GiB makes a set of one volume: that file is the whole tar, and import reads it by
  // byte ranges as it reads a single file (several blobs at once), proving each blob by its digest.
  it('a set of one volume imports from NAME.000; a changed byte in a blob is refused, its volume named by import and verify, and nothing is tagged', async () => {
    await exportTo('fat', '--split', 'fat32');
    expect(await volumeNames('fat')).toEqual(['b.tar.000']);
    const good = expectOk(await ferry(['import', work.path('fat', 'b.tar.000'), '--to', `${target.host}/fat`, '--key', work.path('k.pub'), ...registryFlags(target), '--json']));
    expect((good.json as { images: unknown[] }).images).toHaveLength(IMAGE_KEYS.length);
    const path = work.path('fat', 'b.tar.000');
    const bytes = await readFile(path);
    const layer = seededRig().images.images.appA.blobs.filter((b) => b.mediaType.includes('layer')).sort((a, b) => b.size - a.size)[0];
    expect(layer).toBeDefined();
    // The layer's data follows its 512-byte header, found by its entry name.
    const header = bytes.indexOf(Buffer.from(`blobs/sha256/${layer!.digest.slice('sha256:'.length)}\0`, 'latin1'));
    expect(header).toBeGreaterThan(0);
    bytes[header + 512 + (layer!.size >> 1)] ^= 0x04;
    await writeFile(path, bytes);
    const imported = await ferry(['import', path, '--to', `${spare.host}/fat`, ...registryFlags(spare)]);
    // The blob's digest check stops the pass; the set's list then says which volume holds the damage.
    expectRefusal(imported, 5, 'volume b.tar.000');
    expectRefusal(await ferry(['verify', path, '--key', work.path('k.pub')]), 5, 'volume b.tar.000');
    const view = new TargetView(spare);
    try {
      expect(await view.allTags(IMAGE_KEYS.map((k) => `fat/${seededRig().images.images[k].repository}`))).toEqual({});
    } finally {
      await view.close();
    }
  });
});
