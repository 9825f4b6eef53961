import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 13.13: `import --dry-run` shows what will land. The Windows image's first
// layer is foreign; the import localizes it, which rewrites the manifest, so the
// digest the target tags is not the bundle's. The dry run must print that digest
// (computed, nothing pushed) — for a single-file bundle and a volume set (read
// by ranges) and a tar padded after its end (one pass) — and the real import
// must then tag exactly it.

interface ImportJson {
  dryRun: boolean;
  images: Array<{ source: string; target: string; digest: string; sourceDigest?: string }>;
  foreignLayerMapping: Array<{ from: string; to: string }>;
}

describe.skipIf(!rigContext().available)('import --dry-run shows the localized digest', () => {
  let work: WorkDir;
  let target: Registry;

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-dry-run-localized-');
    target = await startRegistry({});
    const refs = sourceRefs(rig, ['windows', 'appA']);
    expectOk(await ferry(['export', ...refs, '-o', work.path('w.tar'), '--plain-http', '--store', work.path('store')]));
    expectOk(await ferry(['export', ...refs, '-o', work.path('split/w.tar'), '--split', '64K', '--plain-http', '--store', work.path('store')]));
    await writeFile(work.path('padded.tar'), Buffer.concat([await readFile(work.path('w.tar')), Buffer.alloc(10 * 1024)]));
  });
  afterAll(async () => {
    await target?.stop();
    await work?.cleanup();
  });

  const importArgs = (bundle: string, prefix: string, ...extra: string[]) => ['import', bundle, '--to', `${target.host}/${prefix}`, '--plain-http', '--store', work.path('import-store'), ...extra];

  it.each([
    ['a single file', 'w.tar', 'single'],
    ['a volume set', 'split/w.tar.000', 'volumes'],
    ['a tar read in one pass', 'padded.tar', 'padded'],
  ])('%s: the dry run prints the digest the import then tags', async (_what, file, prefix) => {
    const { windows, appA } = seededRig().images.images;
    const dry = expectOk(await ferry(importArgs(work.path(file), prefix, '--dry-run', '--json'))).json as ImportJson;
    expect(dry.dryRun).toBe(true);
    const planned = dry.images.find((i) => i.source.endsWith(windows.reference));
    expect(planned?.sourceDigest).toBe(windows.digest);
    expect(planned?.digest).not.toBe(windows.digest);
    expect(dry.foreignLayerMapping).toEqual([{ from: windows.digest, to: planned?.digest }]);
    // An image without foreign layers keeps its digest.
    expect(dry.images.find((i) => i.source.endsWith(appA.reference))?.digest).toBe(appA.digest);

    const view = new TargetView(target);
    try {
      expect(await view.tags(`${prefix}/${windows.repository}`), 'the dry run pushed nothing').toEqual([]);
      const human = expectOk(await ferry(importArgs(work.path(file), prefix, '--dry-run')));
      expect(human.stdout).toContain(`${planned?.digest} (was ${windows.digest})`);

      const real = expectOk(await ferry(importArgs(work.path(file), prefix, '--json'))).json as ImportJson;
      expect(real.images.find((i) => i.source.endsWith(windows.reference))?.digest).toBe(planned?.digest);
      const landed = await view.manifest(`${prefix}/${windows.repository}`, windows.tag ?? '');
      expect(landed?.digest, 'the tag on the registry').toBe(planned?.digest);
    } finally {
      await view.http.close();
    }
  });

  it('--foreign-layers=preserve: the dry run shows the bundle digest, as that import would tag', async () => {
    const { windows } = seededRig().images.images;
    const dry = expectOk(await ferry(importArgs(work.path('w.tar'), 'kept', '--dry-run', '--foreign-layers', 'preserve', '--json'))).json as ImportJson;
    expect(dry.images.find((i) => i.source.endsWith(windows.reference))).toMatchObject({ digest: windows.digest });
    expect(dry.foreignLayerMapping).toEqual([]);
  });
});
