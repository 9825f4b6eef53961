import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedKey } from '../../src/trust/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { errorLines, expectOk, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { entryNamed, readTarEntries } from '../helpers/tar-entries.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { testImage } from '../helpers/cosign-signer.js';
import { seedSignedImages, type Case, type SignedSource } from './signed-registry.js';

// `--require-signed-by` on export and copy, end to end: a real docker-registry
// holding images signed in this test; the real CLI. A refused image exits 5
// with one line naming it, its digest and the reason, and nothing is written.

describe.skipIf(!rigContext().available)('export and copy with --require-signed-by', () => {
  let work: WorkDir;
  let source: Registry;
  let target: Registry;
  let signed: SignedSource;

  beforeAll(async () => {
    work = await workDir('ferry-signed-export-');
    [source, target] = await Promise.all([startRegistry({}), startRegistry({})]);
    signed = await seedSignedImages(source, work.dir);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await work?.cleanup();
  });

  const exportOf = (cases: Case[], out: string, ...extra: string[]) =>
    ferry(['export', ...cases.map((c) => signed.ref(c)), '-o', work.path(out), '--plain-http', '--store', work.path(`store-${out}`), '--json', ...extra]);

  it('exports an image the trusted key signed, and records the key in bundle.json', async () => {
    const r = expectOk(await exportOf(['signed'], 'signed.tar', '--require-signed-by', signed.strangerPub, '--require-signed-by', signed.publisherPub));
    const keyId = parseTrustedKey(signed.publisher.publicPem, 'p').id;
    expect(r.json).toMatchObject({ images: [{ name: signed.ref('signed'), digest: signed.digest('signed'), signedBy: { keyId, format: 'cosign-sig' } }] });
    const entries = await readTarEntries(work.path('signed.tar'));
    const bundleJson = JSON.parse(entryNamed(entries, 'ferry/bundle.json').data.toString('utf8')) as { images: Array<{ upstreamSignature?: unknown }> };
    expect(bundleJson.images[0]?.upstreamSignature).toMatchObject({ keyId, format: 'cosign-sig', signedIdentity: `${source.host}/acme/signed` });
    expect(existsSync(work.path('store-signed.tar', 'blobs', 'sha256', testImage('trust-signed').blobs[1]!.digest.slice(7)))).toBe(true);
  });

  // The human report: who signed each image in its row, one line counting images per key, and blob
  // counts that add up to the bundle's (a rerun said "7 already in the store" of a 34-blob bundle: graph nodes).
  it('says the signer in each row and once in sum; a rerun counts every blob of the bundle as already in the store', async () => {
    const keyId = parseTrustedKey(signed.publisher.publicPem, 'p').id;
    const run = () => ferry(['export', signed.ref('signed'), signed.ref('bundled'), '-o', work.path('human.tar'), '--plain-http', '--store', work.path('store-human'), '--require-signed-by', signed.publisherPub]);
    const first = expectOk(await run()).stdout.split('\n');
    expect(first[0]).toMatch(/^IMAGE +DIGEST +REFERRERS +SIGNED BY$/);
    expect(first.find((l) => l.startsWith(`${signed.ref('signed')} `))).toMatch(new RegExp(` ${keyId} \\(cosign-sig\\)$`));
    expect(first.find((l) => l.startsWith(`${signed.ref('bundled')} `))).toMatch(new RegExp(` ${keyId} \\(sigstore-bundle\\)$`));
    expect(first.filter((l) => l.includes('signed by') || l.startsWith('publisher signatures'))).toEqual([`publisher signatures verified: 2 images, by ${keyId}`]);
    const blobs = Number(/: (\d+) blobs,/.exec(first.find((l) => l.startsWith('wrote ')) ?? '')?.[1]);
    expect(blobs).toBeGreaterThan(4);
    expect(first).toContainEqual(expect.stringMatching(new RegExp(`^pulled ${blobs} new blobs \\(.*\\), 0 already in the store$`)));
    const again = expectOk(await run()).stdout.split('\n');
    expect(again).toContain(`pulled 0 new blobs (0 B), ${blobs} already in the store`);
  });

  it('accepts a cosign 3 Sigstore bundle referrer', async () => {
    const r = expectOk(await exportOf(['bundled'], 'bundled.tar', '--require-signed-by', signed.publisherPub));
    expect(r.json).toMatchObject({ images: [{ signedBy: { format: 'sigstore-bundle' } }] });
  });

  it.each([
    ['unsigned', 'no signature by a trusted key — no cosign signature found (checked sha256-'],
    ['wrongkey', 'no signature by a trusted key — signed by an unknown key'],
    ['otherdigest', 'signature is for another manifest — a trusted key'],
    ['identity', "identity mismatch — signed as '"],
  ] as const)('refuses %s with exit 5, one line naming it, and writes nothing', async (c, reason) => {
    const r = await exportOf([c], `${c}.tar`, '--require-signed-by', signed.publisherPub);
    expect(r.code, r.stderr).toBe(5);
    const lines = errorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`ferry: error: ${signed.ref(c)} (${signed.digest(c).slice(0, 19)}…): ${reason}`);
    if (process.env.FERRY_SHOW_ERRORS) console.info(`exit ${r.code}: ${lines[0]}`);
    expect((await readdir(work.dir)).filter((f) => f.startsWith(`${c}.tar`))).toEqual([]);
    // Judged before its layers were fetched: the store never saw the layer.
    const layer = testImage(`trust-${c}`).blobs[1]!;
    expect(existsSync(work.path(`store-${c}.tar`, 'blobs', 'sha256', layer.digest.slice(7)))).toBe(false);
  });

  it('refuses the whole export when any image fails, one line per refused image', async () => {
    const r = await exportOf(['signed', 'unsigned', 'wrongkey', 'otherdigest', 'identity'], 'mixed.tar', '--require-signed-by', signed.publisherPub);
    expect(r.code).toBe(5);
    expect(errorLines(r.stderr)).toHaveLength(4);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'ERR_UNTRUSTED_IMAGE', exitCode: 5 } });
    expect((r.json as { refusals: Array<{ reason: string }> }).refusals.map((x) => x.reason).sort()).toEqual(['identity-mismatch', 'no-signature', 'other-manifest', 'unknown-key']);
    expect((await readdir(work.dir)).filter((f) => f.startsWith('mixed.tar'))).toEqual([]);
  });

  it("a spec's policy section: per-repository keys, and an image no entry covers is refused", async () => {
    const spec = (patterns: string[]) =>
      [
        'images:',
        `  - ${signed.ref('signed')}`,
        `  - ${signed.ref('tagged')}`,
        'policy:',
        ...patterns.map((p) => `  - repositories: ${p}\n    keys: [publisher.pub]`),
        '',
      ].join('\n');
    await writeFile(work.path('narrow.yaml'), spec([`${source.host}/acme/signed`]));
    const r = await ferry(['export', '-f', work.path('narrow.yaml'), '-o', work.path('narrow.tar'), '--plain-http', '--store', work.path('store-spec')]);
    expect(r.code, r.stderr).toBe(5);
    expect(errorLines(r.stderr)).toEqual([expect.stringContaining(`${signed.ref('tagged')} (${signed.digest('tagged').slice(0, 19)}…): no trusted key for this repository`)]);
    await writeFile(work.path('wide.yaml'), spec([`${source.host}/acme/**`]));
    expectOk(await ferry(['export', '-f', work.path('wide.yaml'), '-o', work.path('wide.tar'), '--plain-http', '--store', work.path('store-spec')]));
  });

  it('changes nothing without the flag', async () => {
    expectOk(await exportOf(['unsigned'], 'plain.tar'));
  });

  it('copy: the signed image crosses, the unsigned one is refused before a byte reaches the target', async () => {
    expectOk(await ferry(['copy', signed.ref('signed'), `${target.host}/mirror/signed:1.0`, '--require-signed-by', signed.publisherPub, '--plain-http']));
    const r = await ferry(['copy', signed.ref('unsigned'), `${target.host}/mirror/unsigned:1.0`, '--require-signed-by', signed.publisherPub, '--plain-http']);
    expect(r.code).toBe(5);
    expect(errorLines(r.stderr)[0]).toContain('no signature by a trusted key');
    const view = new TargetView(target);
    try {
      expect(await view.catalog()).toEqual(['mirror/signed']);
    } finally {
      await view.close();
    }
  });
});
