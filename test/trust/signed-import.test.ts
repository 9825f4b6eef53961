import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedKey } from '../../src/trust/index.js';
import { testImage } from '../helpers/cosign-signer.js';
import { ferry } from '../helpers/ferry-cli.js';
import { errorLines, expectOk, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { run } from '../rig/peers.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { push, pushSig, seedSignedImages, type SignedSource } from './signed-registry.js';

// `ferry import --require-signed-by`: the far side judges every image again
// from the bundle's own bytes, offline, before anything is tagged. Two layers
// of trust, each tested alone: ferry's bundle signature (--key) says the stick
// is what the exporter wrote; the publisher's signature says the image is what
// the publisher released — even when the exporter was the attacker.

interface ImportJson {
  images: Array<{ source: string; target: string; digest: string }>;
  upstreamSignatures?: { checked: string; images: Array<{ source: string; signedBy: { keyId: string } }> };
  policyOut?: { scopes: Record<string, unknown> };
}

describe.skipIf(!rigContext().available)('import with --require-signed-by', () => {
  let work: WorkDir;
  let source: Registry;
  let evil: Registry;
  const targets: Registry[] = [];
  let signed: SignedSource;

  beforeAll(async () => {
    work = await workDir('ferry-signed-import-');
    [source, evil] = await Promise.all([startRegistry({}), startRegistry({})]);
    signed = await seedSignedImages(source, work.dir);
    for (const name of ['site', 'attacker']) expectOk(await ferry(['keygen', '-o', work.path(name)]));
    const exportArgs = (refs: string[], out: string, key: string, ...extra: string[]) => ['export', ...refs, '-o', work.path(out), '--sign', work.path(`${key}.key`), '--plain-http', '--store', work.path(`store-${out}`), ...extra];
    expectOk(await ferry(exportArgs([signed.ref('signed'), signed.ref('tagged')], 'good.tar', 'site', '--require-signed-by', signed.publisherPub)));
    // A set of volumes, several or one, is read by ranges as a single file is.
    expectOk(await ferry(exportArgs([signed.ref('signed')], 'good-split', 'site', '--require-signed-by', signed.publisherPub, '--split', '16k')));
    // A tar padded to GNU tar's 10 KiB record after its end: not ferry's layout, so read in one pass.
    await writeFile(work.path('good-padded.tar'), Buffer.concat([await readFile(work.path('good.tar')), Buffer.alloc(10 * 1024)]));
    expectOk(await ferry(exportArgs([signed.ref('signed')], 'good-one', 'site', '--require-signed-by', signed.publisherPub, '--split', '1M')));
    // The attacker: the same image, its signature swapped for one by their own key, the bundle signed with their own ferry key.
    const http = new RegistryHttp(evil);
    const image = testImage('trust-signed');
    await push(http, 'acme/signed', '1.0', image);
    await pushSig(http, 'acme/signed', image.manifest.digest, signed.stranger, image.manifest.digest, `${evil.host}/acme/signed`);
    await http.close();
    expectOk(await ferry(exportArgs([`${evil.host}/acme/signed:1.0`], 'swapped.tar', 'attacker')));
    expectOk(await ferry(exportArgs([`${evil.host}/acme/signed:1.0`], 'swapped-split', 'attacker', '--split', '16k')));
    await writeFile(work.path('swapped-padded.tar'), Buffer.concat([await readFile(work.path('swapped.tar')), Buffer.alloc(10 * 1024)]));
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), evil?.stop(), ...targets.map((t) => t.stop())]);
    await work?.cleanup();
  });

  async function freshTarget(): Promise<Registry> {
    const t = await startRegistry({});
    targets.push(t);
    return t;
  }

  async function contents(target: Registry): Promise<{ catalog: string[]; tags: Record<string, string[]> }> {
    const view = new TargetView(target);
    try {
      const catalog = await view.catalog();
      return { catalog, tags: await view.allTags(catalog) };
    } finally {
      await view.close();
    }
  }

  const importInto = (target: Registry, bundle: string, key: string, ...extra: string[]) =>
    ferry(['import', work.path(bundle), '--to', `${target.host}/site`, '--key', work.path(`${key}.pub`), '--plain-http', '--json', ...extra]);

  it('re-verifies a good bundle from its bytes before the first push, and writes policy.json for the new names', async () => {
    const target = await freshTarget();
    const r = expectOk(await importInto(target, 'good.tar', 'site', '--require-signed-by', signed.publisherPub, '--policy-out', work.path('policy')));
    const report = r.json as ImportJson;
    const keyId = parseTrustedKey(signed.publisher.publicPem, 'p').id;
    expect(report.upstreamSignatures).toMatchObject({ checked: 'before-push', images: [{ signedBy: { keyId } }, { signedBy: { keyId } }] });
    const policy = JSON.parse(await readFile(work.path('policy', 'policy.json'), 'utf8')) as { default: unknown; transports: { docker: Record<string, unknown> } };
    const keyData = Buffer.from(parseTrustedKey(signed.publisher.publicPem, 'p').pem).toString('base64');
    expect(policy).toEqual({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          [`${target.host}/site/acme/signed`]: [{ type: 'sigstoreSigned', keyData, signedIdentity: { type: 'exactRepository', dockerRepository: `${source.host}/acme/signed` } }],
          [`${target.host}/site/acme/tagged`]: [{ type: 'sigstoreSigned', keyData, signedIdentity: { type: 'remapIdentity', prefix: `${target.host}/site/acme/tagged`, signedPrefix: `${source.host}/acme/tagged` } }],
        },
      },
    });
    const yaml = await readFile(work.path('policy', 'registries.d', 'ferry-sigstore.yaml'), 'utf8');
    expect(yaml).toContain(`"${target.host}/site/acme/signed":\n    use-sigstore-attachments: true`);
    // The .sig tag went along under the new name: that is where podman / CRI-O look.
    expect((await contents(target)).tags[`site/acme/signed`]).toEqual(expect.arrayContaining(['1.0', `sha256-${signed.digest('signed').slice(7)}.sig`]));
    // A real peer reads both files: skopeo takes our policy section, finds the .sig at the new name and fetches it.
    // Debian's build then stops ("sigstore disabled", peers.md); a build with sigstore verifies and copies.
    for (const repo of ['signed', 'tagged']) {
      const args = ['copy', '--debug', '--policy', work.path('policy', 'policy.json'), '--registries.d', work.path('policy', 'registries.d'), '--src-tls-verify=false'];
      const peer = await run('skopeo', [...args, `docker://${target.host}/site/acme/${repo}:1.0`, `dir:${work.path(`peer-${repo}`)}`]);
      expect(peer.stderr).toContain(`Using transport \\"docker\\" specific policy section ${target.host}/site/acme/${repo}`);
      expect(peer.stderr).toContain('Found a sigstore attachment manifest with 1 layers');
      if (peer.code !== 0) expect(peer.stderr).toContain('Debian-local change: sigstore disabled');
    }
  });

  // A mirror of 1,000 signed images printed every name in this one line: 70 KB on a terminal.
  it('says who signed each image in its table row, and sums the signers up in one short line', async () => {
    const target = await freshTarget();
    const r = expectOk(await ferry(['import', work.path('good.tar'), '--to', `${target.host}/site`, '--key', work.path('site.pub'), '--plain-http', '--require-signed-by', signed.publisherPub]));
    const keyId = parseTrustedKey(signed.publisher.publicPem, 'p').id;
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SOURCE +TARGET +DIGEST +SIGNED BY$/);
    for (const repo of ['signed', 'tagged']) expect(lines.find((l) => l.startsWith(`${source.host}/acme/${repo}:1.0 `))).toMatch(new RegExp(` ${keyId}$`));
    expect(lines.filter((l) => l.startsWith('publisher signatures verified'))).toEqual([`publisher signatures verified from the bundle before the first push: 2 images, by ${keyId}`]);
  });

  it('judges a tar read in one pass during the blob pass, before any manifest or tag', async () => {
    const target = await freshTarget();
    const r = expectOk(await importInto(target, 'good-padded.tar', 'site', '--require-signed-by', signed.publisherPub));
    expect((r.json as ImportJson).upstreamSignatures?.checked).toBe('before-manifests');
  });

  it.each([
    ['several volumes', 'good-split.000'],
    ['one volume', 'good-one.000'],
  ])('judges a set of %s before the first push, as a single file', async (_what, file) => {
    const target = await freshTarget();
    const r = expectOk(await importInto(target, file, 'site', '--require-signed-by', signed.publisherPub));
    expect((r.json as ImportJson).upstreamSignatures?.checked).toBe('before-push');
  });

  it('layer 1: the site key refuses the attacker-made bundle (ferry bundle signature)', async () => {
    const target = await freshTarget();
    const r = await importInto(target, 'swapped.tar', 'site', '--require-signed-by', signed.publisherPub);
    expect(r.code).toBe(5);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^ferry: error: ferry\/bundle.json is signed by key sha256:[0-9a-f]{16}, not by the given key sha256:[0-9a-f]{16}$/)]);
    expect(await contents(target)).toEqual({ catalog: [], tags: {} });
  });

  it('layer 2: trusting the attacker bundle key, the publisher key still refuses the swapped signature before a byte is pushed', async () => {
    const target = await freshTarget();
    const r = await importInto(target, 'swapped.tar', 'attacker', '--require-signed-by', signed.publisherPub);
    expect(r.code).toBe(5);
    const lines = errorLines(r.stderr);
    expect(lines).toEqual([expect.stringContaining(`ferry: error: ${evil.host}/acme/signed:1.0 (${signed.digest('signed').slice(0, 19)}…): no signature by a trusted key — signed by an unknown key`)]);
    if (process.env.FERRY_SHOW_ERRORS) console.info(`exit ${r.code}: ${lines[0]}`);
    expect(await contents(target)).toEqual({ catalog: [], tags: {} });
  });

  it.each([
    ['a volume set', 'swapped-split.000'],
    ['a tar read in one pass', 'swapped-padded.tar'],
  ])('layer 2 on %s: refused before any manifest or tag', async (_what, file) => {
    const target = await freshTarget();
    const r = await importInto(target, file, 'attacker', '--require-signed-by', signed.publisherPub);
    expect(r.code).toBe(5);
    expect(errorLines(r.stderr)[0]).toContain('signed by an unknown key');
    expect((await contents(target)).tags).toEqual({});
  });

  it.each([
    ['a volume set', 'good-split.000', 'swapped-split.000', 1],
    ['a tar read in one pass', 'good-padded.tar', 'swapped-padded.tar', 2],
  ])('--dry-run judges too, %s included, and writes nothing', async (_what, goodFile, badFile, images) => {
    const target = await freshTarget();
    const good = expectOk(await importInto(target, goodFile, 'site', '--require-signed-by', signed.publisherPub, '--dry-run'));
    expect((good.json as ImportJson).upstreamSignatures?.images).toHaveLength(images);
    const bad = await importInto(target, badFile, 'attacker', '--require-signed-by', signed.publisherPub, '--dry-run');
    expect(bad.code).toBe(5);
    expect(await contents(target)).toEqual({ catalog: [], tags: {} });
  });

  it('without --require-signed-by the swapped bundle imports: only the publisher key catches it', async () => {
    const target = await freshTarget();
    expectOk(await importInto(target, 'swapped.tar', 'attacker'));
  });
});
