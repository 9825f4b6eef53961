import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, sourceRefs, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { blobDataPath, OCI_MANIFEST, pushTiny, revisions } from './site-kit.js';

// `ferry prune --untagged` after a retag moved tags: two real imports into a
// real docker-registry, the second landing other images
// under the same tags. Exactly the manifests the first import pushed that no
// tag, index or referrer subject reaches any more go — judged by the registry's
// own storage (its revision links), before and after. Against ferry serve,
// prune asks the server's own GC instead: prune-serve.test.ts.

type PruneJson = { repositories: Array<{ repository: string; manifests: Array<{ digest: string; deleted: boolean; origin: string }>; keptWhole?: string }>; deleted: number };

describe.skipIf(!rigContext().available)('ferry prune --untagged', () => {
  let work: WorkDir;
  let target: Registry;
  const bundleA = () => work.path('a.tar');
  const bundleB = () => work.path('b.tar');

  const retag = (host: string, pairs: Record<string, string>) => Object.entries(pairs).flatMap(([from, to]) => ['--retag', `${seededRig().source.host}/ferry-test/${from}=${host}/${to}`]);
  const importInto = async (bundle: string, host: string, store: string, pairs: Record<string, string>, extra: string[] = []) =>
    expectOk(await ferry(['import', bundle, ...retag(host, pairs), '--plain-http', '--store', store, ...extra]));

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-prune-');
    target = await startRegistry();
    const store = work.path('export-store');
    expectOk(await ferry(['export', ...sourceRefs(rig, ['appA', 'multi']), '-o', bundleA(), '--plain-http', '--store', store]));
    expectOk(await ferry(['export', ...sourceRefs(rig, ['appB', 'docker']), '-o', bundleB(), '--plain-http', '--store', store]));
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
    await work?.cleanup();
  });

  it('after a retag moved the tags: the dry run names exactly the orphans, the run deletes exactly them, and a rerun finds nothing', async () => {
    const { appA, appB, multi, docker, sbom, signature } = seededRig().images.images;
    const store = work.path('import-store');
    await importInto(bundleA(), target.host, store, { 'app-a': 'shop/app', multi: 'shop/multi' });
    // Someone tags the amd64 child of the index by hand: it must survive.
    const [amd64, arm64] = multi.manifests.slice(1);
    const http = new RegistryHttp(target);
    const child = await http.send('GET', `/v2/shop/multi/manifests/${amd64?.digest ?? ''}`, { accept: OCI_MANIFEST });
    await http.pushManifest('shop/multi', 'amd64', OCI_MANIFEST, child.body);
    await http.close();
    await importInto(bundleB(), target.host, store, { 'app-b': 'shop/app', docker: 'shop/multi' });

    const before = { app: await revisions(target.storageDir, 'shop/app'), multi: await revisions(target.storageDir, 'shop/multi') };
    const known: string[] = [appA.digest, appB.digest, sbom.digest, signature.digest];
    const referrersIndex = before.app.filter((d) => !known.includes(d));
    expect(referrersIndex, 'the tag-schema index the import wrote for the SBOM').toHaveLength(1);
    expect(before.multi).toEqual([multi.digest, amd64?.digest, arm64?.digest, docker.digest].sort());
    if (process.env.FERRY_SHOW_PRUNE) console.info('before', before);

    const orphans = [appA.digest, sbom.digest, signature.digest, ...referrersIndex, multi.digest, arm64?.digest].sort();
    const dry = expectOk(await ferry(['prune', target.host, '--untagged', '--dry-run', '--plain-http', '--store', store, '--json']));
    const planned = (dry.json as PruneJson).repositories.flatMap((r) => r.manifests.map((m) => m.digest)).sort();
    expect(planned).toEqual(orphans);
    expect(await revisions(target.storageDir, 'shop/app')).toEqual(before.app);

    const human = expectOk(await ferry(['prune', target.host, '--untagged', '--plain-http', '--store', store]));
    if (process.env.FERRY_SHOW_PRUNE) console.info(human.stdout);
    expect(human.stdout).toContain(`deleted ${target.host}/shop/app@${appA.digest}`);
    expect(human.stdout).toMatch(/registry garbage-collect/);
    const after = { app: await revisions(target.storageDir, 'shop/app'), multi: await revisions(target.storageDir, 'shop/multi') };
    if (process.env.FERRY_SHOW_PRUNE) console.info('after', after);
    expect(after.app).toEqual([appB.digest]);
    expect(after.multi).toEqual([amd64?.digest, docker.digest].sort());

    const again = expectOk(await ferry(['prune', target.host, '--untagged', '--plain-http', '--store', store, '--json']));
    expect((again.json as PruneJson).deleted).toBe(0);
  });

  it('a tag that cannot be resolved keeps its whole repository, and says so', async () => {
    const { appA } = seededRig().images.images;
    const store = work.path('guard-store');
    await importInto(bundleA(), target.host, store, { 'app-a': 'shop/guarded', multi: 'shop/guarded-multi' });
    await importInto(bundleB(), target.host, store, { 'app-b': 'shop/guarded', docker: 'shop/guarded-multi' });
    const http = new RegistryHttp(target);
    const broken = await pushTiny(http, 'shop/guarded', 'broken', ['broken']);
    await http.close();
    await rm(blobDataPath(target.storageDir, broken.digest));
    const before = await revisions(target.storageDir, 'shop/guarded');
    expect(before).toContain(appA.digest);

    const r = expectOk(await ferry(['prune', `${target.host}/shop/guarded`, '--untagged', '--plain-http', '--store', store, '--json']));
    const row = (r.json as PruneJson).repositories.find((x) => x.repository === 'shop/guarded');
    expect(row?.keptWhole).toMatch(/^tag broken could not be resolved/);
    expect(row?.manifests).toEqual([]);
    expect(await revisions(target.storageDir, 'shop/guarded')).toEqual(before);
  });
});
