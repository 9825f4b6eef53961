import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, registryFlags, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { IMAGE_KEYS, type RigImageKey } from '../rig/image-set.js';
import { runOk } from '../rig/peers.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Planning without writing (--dry-run), reading a bundle's head (inspect),
// choosing platforms at export (an index is never pushed under its digest
// unless every child came along), and delta bundles made against an inventory
// of what the far side already holds.

interface ImportJson {
  dryRun: boolean;
  images: Array<{ target: string; digest: string }>;
  blobs: { missing: number; missingBytes: number; pushed: number; mounted: number; bytes: number };
}
interface ExportJson {
  images: Array<{ name: string; digest: string; sourceDigest?: string }>;
}
interface InspectJson {
  images: Array<{ name: string; digest: string; platforms: string[] }>;
  blobs: { count: number; bytes: number };
  assumed: { count: number; bytes: number };
}

const CARRIED: readonly RigImageKey[] = [...IMAGE_KEYS, 'sbom', 'signature'];

/** Blob entries (digest → size) of a bundle, from GNU tar's listing. */
async function bundleBlobs(path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await runOk('tar', ['-tvf', path])).stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[f.length - 1] ?? '';
    if (name.startsWith('blobs/sha256/')) out.set(`sha256:${name.slice('blobs/sha256/'.length)}`, Number(f[2]));
  }
  return out;
}

describe.skipIf(!rigContext().available)('dry-run, inspect, platform filters and delta bundles', () => {
  let work: WorkDir;
  let target: Registry;
  let empty: Registry;
  let view: TargetView;
  const full = () => work.path('full.tar');
  const exportArgs = (out: string, ...extra: string[]) => ['export', '-o', work.path(out), '--plain-http', '--store', work.path('store'), '--json', ...extra];
  const importArgs = (bundle: string, registry: Registry, ...extra: string[]) => [
    'import',
    work.path(bundle),
    '--to',
    `${registry.host}/${bundle === 'arm.tar' ? 'arm' : 'mirror'}`,
    ...registryFlags(registry),
    '--store',
    work.path('import-store'),
    '--json',
    ...extra,
  ];

  beforeAll(async () => {
    work = await workDir('ferry-platforms-delta-');
    [target, empty] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({})]);
    view = new TargetView(target);
    expectOk(await ferry(exportArgs('full.tar', ...sourceRefs(seededRig()))));
  });

  afterAll(async () => {
    await view?.close();
    await Promise.all([target?.stop(), empty?.stop()]);
    await work?.cleanup();
  });

  it('--dry-run writes nothing and counts the blobs the real import then pushes', async () => {
    const { images } = seededRig().images;
    const layersAndConfigs = new Set(CARRIED.flatMap((k) => images[k].blobs.map((b) => b.digest)));
    const dry = expectOk(await ferry(importArgs('full.tar', target, '--dry-run'))).json as ImportJson;
    expect(dry.dryRun).toBe(true);
    expect(dry.blobs.missing).toBe(layersAndConfigs.size);
    expect(dry.images).toHaveLength(IMAGE_KEYS.length);
    expect(await view.catalog()).toEqual([]);

    const real = expectOk(await ferry(importArgs('full.tar', target))).json as ImportJson;
    expect(real.blobs.pushed).toBe(dry.blobs.missing);
    expect(real.blobs.bytes).toBe(dry.blobs.missingBytes);
    expect((await view.catalog()).length).toBeGreaterThanOrEqual(IMAGE_KEYS.length);
  });

  it('inspect lists the five images with their platforms from the head', async () => {
    const rig = seededRig();
    const report = expectOk(await ferry(['inspect', full(), '--json'])).json as InspectJson;
    expect(report.images.map((i) => i.name).sort()).toEqual(sourceRefs(rig).sort());
    for (const key of IMAGE_KEYS) {
      const image = rig.images.images[key];
      const listed = report.images.find((i) => i.name === `${rig.source.host}/${image.reference}`);
      expect(listed?.digest).toBe(image.digest);
      // inspect adds the Windows os.version (windows/amd64:10.0.20348.1234).
      expect(listed?.platforms.map((p) => p.split(':')[0])).toEqual(image.platforms);
    }
    const text = expectOk(await ferry(['inspect', full()])).stdout;
    expect(text).toContain('linux/amd64,linux/arm64/v8');
  });

  it('--platform linux/arm64 makes the arm64 manifest the root; both platforms keep the index digest', async () => {
    const rig = seededRig();
    const { multi } = rig.images.images;
    const arm = multi.manifests.find((m) => m.platform?.architecture === 'arm64');
    const amd = multi.manifests.find((m) => m.platform?.architecture === 'amd64');
    const [ref] = sourceRefs(rig, ['multi']) as [string];

    const one = expectOk(await ferry(exportArgs('arm.tar', ref, '--platform', 'linux/arm64'))).json as ExportJson;
    expect(one.images).toEqual([expect.objectContaining({ digest: arm?.digest, sourceDigest: multi.digest })]);
    const inspected = expectOk(await ferry(['inspect', work.path('arm.tar'), '--json'])).json as InspectJson;
    expect(inspected.images).toEqual([expect.objectContaining({ digest: arm?.digest, platforms: ['linux/arm64/v8'] })]);
    const carried = await bundleBlobs(work.path('arm.tar'));
    expect(carried.has(multi.digest), 'the original index is not carried').toBe(false);
    expect(carried.has(amd?.digest ?? ''), 'nor the amd64 manifest').toBe(false);
    const landed = expectOk(await ferry(importArgs('arm.tar', target))).json as ImportJson;
    expect(landed.images[0]?.digest).toBe(arm?.digest);
    expect((await view.manifest(`arm/${multi.repository}`, '1.0'))?.digest).toBe(arm?.digest);

    const both = expectOk(await ferry(exportArgs('both.tar', ref, '--platform', 'linux/amd64', '--platform', 'linux/arm64'))).json as ExportJson;
    expect(both.images).toHaveLength(1);
    expect(both.images[0]?.digest).toBe(multi.digest);
    expect(both.images[0]?.sourceDigest).toBeUndefined();
    expect((await bundleBlobs(work.path('both.tar'))).has(amd?.digest ?? '')).toBe(true);
  });

  it('a delta against the far side\'s inventory carries only what it lacks, and imports only where the rest is', async () => {
    const rig = seededRig();
    const { appA, appB, windows } = rig.images.images;
    const left = appB.blobs.find((b) => b.mediaType.includes('layer') && !appA.blobs.some((a) => a.digest === b.digest));
    expect(left).toBeDefined();
    // What the far side holds after the full import (dry-run test), minus appB's own layer.
    expectOk(await ferry(['inventory', target.host, '-o', work.path('held.json'), ...registryFlags(target)]));
    const held = JSON.parse(await readFile(work.path('held.json'), 'utf8')) as { images: Array<{ name: string }>; blobs: Array<{ digest: string; size: number }> };
    expect(held.blobs.some((b) => b.digest === left?.digest)).toBe(true);
    // Repositories are walked several at once; the list still reads in repository order, every image in it.
    const repositories = held.images.map((i) => i.name.slice(target.host.length + 1, i.name.lastIndexOf(':')));
    expect(repositories.length).toBeGreaterThan(2);
    expect(repositories).toEqual([...repositories].sort());
    for (const ref of sourceRefs(rig)) expect(repositories).toContain(`mirror/${ref.slice(rig.source.host.length + 1, ref.lastIndexOf(':'))}`);
    await writeFile(work.path('inventory.json'), JSON.stringify({ ...held, blobs: held.blobs.filter((b) => b.digest !== left?.digest) }));

    expectOk(await ferry(exportArgs('delta.tar', ...sourceRefs(rig), '--since', work.path('inventory.json'))));
    const first = await bundleBlobs(full());
    const carried = await bundleBlobs(work.path('delta.tar'));
    // The layer, and the one manifest the target never got: Windows was localized there (new digest).
    expect([...carried.keys()].sort()).toEqual([left?.digest, windows.digest].sort());
    const inspected = expectOk(await ferry(['inspect', work.path('delta.tar'), '--json'])).json as InspectJson;
    expect(inspected.blobs.count).toBe(2);
    expect(inspected.assumed.count).toBe(first.size - 2);
    // The export says what it left out in inspect's words.
    const said = expectOk(await ferry(exportArgs('delta-said.tar', ...sourceRefs(rig), '--since', work.path('inventory.json')).filter((a) => a !== '--json'))).stdout;
    expect(said).toMatch(new RegExp(`^wrote .*delta-said\\.tar: 2 blobs, .*, UNSIGNED; ${first.size - 2} blobs \\(.*\\) assumed on the far side$`, 'm'));

    // Make the inventory true: the far side loses appB's own layer.
    const appBRepo = `mirror/${appB.repository}`;
    expect((await view.http.send('DELETE', `/v2/${appBRepo}/blobs/${left?.digest}`)).status).toBe(202);
    expect(await view.blobStatus(appBRepo, left?.digest ?? '')).toBe(404);

    const landed = expectOk(await ferry(importArgs('delta.tar', target))).json as ImportJson;
    expect(landed.images).toHaveLength(IMAGE_KEYS.length);
    expect(landed.blobs).toMatchObject({ pushed: 1, bytes: left?.size });
    expect(await view.blobStatus(appBRepo, left?.digest ?? '')).toBe(200);
    expect((await view.manifest(appBRepo, '1.0'))?.digest).toBe(appB.digest);

    // Into an empty registry it cannot: exit 4, naming a blob it assumed; nothing tagged.
    const line = expectRefusal(await ferry(importArgs('delta.tar', empty)), 4, 'assumes');
    expect([...first.keys()].some((d) => line.includes(d))).toBe(true);
    const emptyView = new TargetView(empty);
    try {
      expect(await emptyView.allTags(IMAGE_KEYS.map((k) => `mirror/${rig.images.images[k].repository}`))).toEqual({});
    } finally {
      await emptyView.close();
    }
  });

  it('a delta imported under another namespace of the same registry mounts the assumed blobs from where the full import put them', async () => {
    const rig = seededRig();
    const { appA, appB } = rig.images.images;
    // delta.tar (previous test) carries appB's own layer and assumes the rest, which lives under mirror/.
    const args = importArgs('delta.tar', target).map((a) => (a === `${target.host}/mirror` ? `${target.host}/elsewhere` : a));
    const landed = expectOk(await ferry(args)).json as ImportJson & { blobs: { mounted: number } };
    expect(landed.images).toHaveLength(IMAGE_KEYS.length);
    expect(landed.blobs.mounted, 'assumed blobs were linked, not refused').toBeGreaterThan(0);
    for (const image of [appA, appB]) {
      const repo = `elsewhere/${image.repository}`;
      expect((await view.manifest(repo, image.tag ?? ''))?.digest).toBe(image.digest);
      for (const blob of image.blobs) expect(await view.blobStatus(repo, blob.digest), `${blob.digest} in ${repo}`).toBe(200);
    }
  });

  it('an inventory that claims more than the target holds is caught before anything is tagged', async () => {
    const rig = seededRig();
    const { windows } = rig.images.images;
    // Made from the first bundle, not from the target: it claims the original Windows manifest,
    // which the target never received (it holds the localized one).
    const first = await bundleBlobs(full());
    const blobs = [...first].map(([digest, size]) => ({ digest, size }));
    await writeFile(work.path('claims.json'), JSON.stringify({ format: 'ferry.inventory.v1', registry: target.host, created: new Date().toISOString(), images: [], blobs }));
    expectOk(await ferry(exportArgs('claims.tar', ...sourceRefs(rig, ['windows']), '--since', work.path('claims.json'))));
    expect((await bundleBlobs(work.path('claims.tar'))).size).toBe(0);
    const before = await view.manifest(`mirror/${windows.repository}`, windows.tag ?? '');
    expectRefusal(await ferry(importArgs('claims.tar', target)), 4, windows.digest, `mirror/${windows.repository}`);
    expect((await view.manifest(`mirror/${windows.repository}`, windows.tag ?? ''))?.digest).toBe(before?.digest);
    // Every missing blob, sorted, in the JSON; the text names the same count (issue 13 item 12).
    const json = await ferry([...importArgs('claims.tar', target), '--json']);
    expect(json.code, json.stderr).toBe(4);
    const doc = json.json as { ok: boolean; error: { code: string; details: { missing: Array<{ digest: string; repositories: string[] }> } } };
    expect(doc.ok).toBe(false);
    const missing = doc.error.details.missing.map((m) => m.digest);
    expect(missing).toContain(windows.digest);
    expect(missing).toEqual([...missing].sort());
    expect(new Set(missing).size).toBe(missing.length);
    expect(json.stderr).toContain(`assumes ${missing.length} blob(s) the target does not hold: ${missing[0]} in `);
  });
});
