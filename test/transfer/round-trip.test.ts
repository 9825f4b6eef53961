import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, registryFlags, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { foreignUrlPattern } from '../rig/foreign-server.js';
import { IMAGE_KEYS } from '../rig/image-set.js';
import { run } from '../rig/peers.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { skopeoRegistryFlags } from '../rig/skopeo.js';

// The whole trip through the real CLI: five images (OCI index, Docker schema2,
// two images sharing a layer, a Windows image whose first layer is foreign)
// and appA's referrers are exported from the rig's registry into one signed
// bundle, then imported under a prefix into fresh docker-registry instances.

interface ImportJson {
  images: Array<{ source: string; target: string; digest: string; sourceDigest?: string; tags: string[] }>;
  foreignLayerMapping: Array<{ from: string; to: string }>;
  blobs: { missing: number; pushed: number; mounted: number; bytes: number };
  bundle: { signature: string };
}

describe.skipIf(!rigContext().available)('export → import round trip through the CLI', () => {
  let work: WorkDir;
  let target: Registry;
  let preserving: Registry;
  let stock: Registry;
  const views: TargetView[] = [];
  const bundle = () => work.path('five.tar');

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-round-trip-');
    [target, preserving, stock] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ auth: 'basic', allowForeignUrls: [foreignUrlPattern(rig.foreign.url)] }),
      startRegistry({}),
    ]);
    expectOk(await ferry(['keygen', '-o', work.path('k')]));
    const exported = expectOk(
      await ferry(['export', ...sourceRefs(rig), '-o', bundle(), '--sign', work.path('k.key'), '--plain-http', '--store', work.path('export-store'), '--json']),
    );
    expect(exported.json).toMatchObject({ failed: [] });
  });

  afterAll(async () => {
    for (const v of views) await v.close();
    await Promise.all([target?.stop(), preserving?.stop(), stock?.stop()]);
    await work?.cleanup();
  });

  function view(registry: Registry): TargetView {
    const v = new TargetView(registry);
    views.push(v);
    return v;
  }

  async function importInto(registry: Registry, ...extra: string[]): Promise<ImportJson> {
    const to = extra.includes('--to') ? [] : ['--to', `${registry.host}/mirror`];
    const args = ['import', bundle(), ...to, '--key', work.path('k.pub'), ...registryFlags(registry), '--store', work.path('import-store'), '--json', ...extra];
    return expectOk(await ferry(args)).json as ImportJson;
  }

  it('localizes by default: every tag lands under the prefix with the source digests, Windows under the reported new digest', async () => {
    const rig = seededRig();
    const { images, foreignLayer } = rig.images;
    const report = await importInto(target);
    expect(report.bundle.signature).toBe('verified');
    const at = view(target);

    expect(report.images.map((i) => i.target).sort()).toEqual(IMAGE_KEYS.map((k) => `${target.host}/mirror/${images[k].reference}`).sort());
    for (const key of ['multi', 'docker', 'appA', 'appB'] as const) {
      const image = images[key];
      const landed = await at.manifest(`mirror/${image.repository}`, image.tag ?? '');
      expect(landed?.digest, `${key} at the target`).toBe(image.digest);
      expect(report.images.find((i) => i.source === `${rig.source.host}/${image.reference}`)).toMatchObject({ digest: image.digest });
    }

    // Windows: the one manifest above the foreign layer changed, and the report says from what to what.
    const windows = images.windows;
    const reported = report.images.find((i) => i.source === `${rig.source.host}/${windows.reference}`);
    expect(reported?.sourceDigest).toBe(windows.digest);
    expect(reported?.digest).not.toBe(windows.digest);
    expect(report.foreignLayerMapping).toEqual([{ from: windows.digest, to: reported?.digest }]);
    const landed = await at.manifest(`mirror/${windows.repository}`, windows.tag ?? '');
    expect(landed?.digest).toBe(reported?.digest);
    const layers = landed?.doc.layers as Array<{ mediaType: string; digest: string; urls?: string[] }>;
    const localized = layers.find((l) => l.digest === foreignLayer.digest);
    expect(localized, 'the foreign layer keeps its bytes (digest)').toBeDefined();
    expect(localized?.mediaType).toBe(MediaType.dockerLayer);
    expect(layers.every((l) => l.urls === undefined)).toBe(true);
    expect(await at.blobStatus(`mirror/${windows.repository}`, foreignLayer.digest)).toBe(200);

    // A real peer reads every image back from the target, config and all.
    for (const key of IMAGE_KEYS) {
      const ref = `docker://${target.host}/mirror/${images[key].reference}`;
      const inspected = await run('skopeo', ['inspect', ...skopeoRegistryFlags(target, ''), ref]);
      expect(inspected.code, `skopeo inspect ${ref}: ${inspected.stderr}`).toBe(0);
      const expected = key === 'windows' ? reported?.digest : images[key].digest;
      if (key !== 'multi') expect((JSON.parse(inspected.stdout) as { Digest: string }).Digest).toBe(expected);
    }
  });

  it('carries the referrers: the SBOM is listed by the sha256-<hex> tag-schema index, the cosign .sig tag has the source digest', async () => {
    const { images } = seededRig().images;
    const at = view(target);
    const repo = `mirror/${images.appA.repository}`;
    const subjectTag = `sha256-${digestHex(images.appA.digest)}`;
    const tags = await at.tags(repo);
    expect(tags).toEqual(expect.arrayContaining(['1.0', subjectTag, `${subjectTag}.sig`]));

    const listing = await at.manifest(repo, subjectTag);
    expect(listing?.mediaType).toBe(MediaType.ociIndex);
    const listed = (listing?.doc.manifests as Array<{ digest: string; artifactType?: string }>).map((m) => m.digest);
    expect(listed).toContain(images.sbom.digest);
    const sbom = await at.manifest(repo, images.sbom.digest);
    expect(sbom?.digest).toBe(images.sbom.digest);
    expect((sbom?.doc.subject as { digest: string }).digest).toBe(images.appA.digest);

    const signature = await at.manifest(repo, `${subjectTag}.sig`);
    expect(signature?.digest).toBe(images.signature.digest);
  });

  it('--foreign-layers=preserve into a registry that allows urls keeps the Windows digest and pushes the blob too', async () => {
    const rig = seededRig();
    const { windows } = rig.images.images;
    const report = await importInto(preserving, '--foreign-layers', 'preserve');
    expect(report.foreignLayerMapping).toEqual([]);
    expect(report.images.find((i) => i.source.endsWith(windows.reference))).toMatchObject({ digest: windows.digest });
    expect(report.images.every((i) => i.sourceDigest === undefined)).toBe(true);
    const at = view(preserving);
    const landed = await at.manifest(`mirror/${windows.repository}`, windows.tag ?? '');
    expect(landed?.digest).toBe(windows.digest);
    const layers = landed?.doc.layers as Array<{ mediaType: string; urls?: string[] }>;
    expect(layers[0]?.mediaType).toBe(MediaType.dockerForeignLayer);
    expect(layers[0]?.urls).toEqual([rig.images.foreignLayer.url]);
    expect(await at.blobStatus(`mirror/${windows.repository}`, rig.images.foreignLayer.digest)).toBe(200);
  });

  it('--foreign-layers=preserve into a stock registry (urls refused): exit 7, Windows untagged, the rest landed', async () => {
    const { images } = seededRig().images;
    const args = ['import', bundle(), '--to', `${stock.host}/mirror`, '--foreign-layers', 'preserve', '--retries', '0', ...registryFlags(stock), '--store', work.path('import-store'), '--json'];
    const result = await ferry(args);
    expect(result.code, result.stderr).toBe(7);
    // The report on stdout says which image failed and why; stderr names it with the way out.
    const report = result.json as { images: Array<{ source: string }>; failed: Array<{ subject: string; error: { message: string } }> };
    expect(report.images).toHaveLength(4);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.subject).toContain(images.windows.reference);
    expect(result.stderr).toMatch(/ferry: error: 1 of 5 images failed:\nferry: error: {3}.*windows.*--foreign-layers=localize/);
    expect(result.json).toMatchObject({ ok: false, error: { code: 'ERR_PARTIAL', exitCode: 7 } });
    const at = view(stock);
    expect(await at.tags(`mirror/${images.windows.repository}`)).toEqual([]);
    for (const key of ['multi', 'docker', 'appA', 'appB'] as const) {
      expect((await at.manifest(`mirror/${images[key].repository}`, images[key].tag ?? ''))?.digest, key).toBe(images[key].digest);
    }
  });

  it('--retag FROM=TO rules override --to, the longest prefix wins, referrers follow their subject', async () => {
    const rig = seededRig();
    const { appA, appB, signature } = rig.images.images;
    const rules = ['--retag', `${rig.source.host}/ferry-test=${target.host}/short`, '--retag', `${rig.source.host}/ferry-test/app-a=${target.host}/special/app-a`];
    const report = await importInto(target, '--to', `${target.host}/other`, ...rules);
    expect(report.images.find((i) => i.source.endsWith(appA.reference))?.target).toBe(`${target.host}/special/app-a:1.0`);
    expect(report.images.find((i) => i.source.endsWith(appB.reference))?.target).toBe(`${target.host}/short/app-b:1.0`);
    const at = view(target);
    expect((await at.manifest('special/app-a', '1.0'))?.digest).toBe(appA.digest);
    expect((await at.manifest('special/app-a', signature.tag ?? ''))?.digest).toBe(signature.digest);
    expect((await at.manifest('short/app-b', '1.0'))?.digest).toBe(appB.digest);
    expect(await at.tags('short/app-a')).toEqual([]);
    expect((await at.catalog()).filter((r) => r.startsWith('other/'))).toEqual([]);
  });

  it('a rerun into the same target pushes nothing and lands the same digests', async () => {
    const first = await view(target).manifest(`mirror/${seededRig().images.images.windows.repository}`, 'ltsc2022');
    const again = await importInto(target);
    expect(again.blobs).toMatchObject({ missing: 0, pushed: 0, bytes: 0 });
    expect(again.images.find((i) => i.target.endsWith('windows:ltsc2022'))?.digest).toBe(first?.digest);
  });
});
