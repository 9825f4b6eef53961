import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, inspectBundle, openBundle, verifyBundle, writeBundle, type WriteBundleResult } from '../../src/bundle/index.js';
import { digestHex, digestOf } from '../../src/core/digest.js';
import { BlobSet } from '../rig/image-blobs.js';
import { addImage } from '../rig/image-builder.js';
import { buildLayer, pseudoRandomBytes } from '../rig/layer-tar.js';
import { requirePeer, run, runOk } from '../rig/peers.js';
import { ALL_IMAGES, OCI_IMAGES, descriptorOf, fetchFrom, fullName, imageInput, readTar, tempDir, testImages } from './fixtures.js';

// A signed bundle of every rig image, written from the rig's blobs and read
// back by ferry's reader, by real skopeo, and — after a plain `tar -x` — by
// sha256sum and openssl.

const CREATED = new Date('2024-05-01T12:00:00Z');
const keys = generateKeyPair();
let work: Awaited<ReturnType<typeof tempDir>>;
let bundlePath: string;
let written: WriteBundleResult;
let fetchCalls: Map<string, number>;

beforeAll(async () => {
  work = await tempDir();
  const { set, blobs } = await testImages();
  const source = fetchFrom(blobs);
  fetchCalls = source.calls;
  bundlePath = join(work.dir, 'all.tar');
  written = await writeBundle({
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: source.fetch,
    out: bundlePath,
    signingKey: keys.privateKeyPem,
    created: CREATED,
    toolVersion: '0.1.0-test',
  });
});

afterAll(async () => {
  await work.cleanup();
});

/** Every distinct blob of the images written (the SBOM referrer of appA included). */
async function uniqueBlobs(): Promise<Map<string, number>> {
  const { set } = await testImages();
  const all = new Map<string, number>();
  for (const key of [...ALL_IMAGES, 'sbom' as const]) {
    const image = set.images[key];
    for (const d of [...image.manifests, ...image.blobs]) all.set(d.digest, d.size);
  }
  return all;
}

describe('writeBundle + openBundle round trip', () => {
  it('writes the head in design order, then every blob exactly once, and nothing else', async () => {
    const entries = await readTar(bundlePath);
    const names = entries.map((e) => e.header.name);
    expect(names.slice(0, 6)).toEqual(['oci-layout', 'ferry/bundle.json', 'ferry/bundle.json.sig', 'index.json', 'ferry/index.db', 'ferry/SHA256SUMS']);
    const blobNames = names.slice(6);
    expect(blobNames.every((n) => /^blobs\/sha256\/[a-f0-9]{64}$/.test(n))).toBe(true);
    expect(new Set(blobNames).size).toBe(blobNames.length);
    const unique = await uniqueBlobs();
    expect(blobNames.sort()).toEqual([...unique.keys()].map((d) => `blobs/sha256/${d.slice(7)}`).sort());
    // Deterministic headers: regular files, 0644, root, the creation time, no uname/gname, no dir entries.
    for (const e of entries) {
      expect(e.header.type).toBe('file');
      expect(e.header.mode).toBe(0o644);
      expect([e.header.uid, e.header.gid, e.header.uname, e.header.gname]).toEqual([0, 0, '', '']);
      expect(e.header.mtime?.toISOString()).toBe(CREATED.toISOString());
    }
    // Every blob was fetched from the source once; manifests and configs were not fetched twice.
    expect([...fetchCalls.values()].every((n) => n === 1)).toBe(true);
  });

  it('orders blobs manifests first, then configs, then layers', async () => {
    const bundle = await openBundle(bundlePath, { key: keys.publicKeyPem });
    try {
      const kinds = bundle.db.blobs().map((b) => b.kind);
      const rank = { manifest: 0, config: 1, layer: 2 } as const;
      expect(kinds.map((k) => rank[k])).toEqual([...kinds.map((k) => rank[k])].sort());
      expect(kinds[0]).toBe('manifest');
      expect(kinds.at(-1)).toBe('layer');
    } finally {
      await bundle.close();
    }
  });

  it('reads back every blob once, verified, byte-identical to the source; shared layers appear once', async () => {
    const { set, blobs } = await testImages();
    const bundle = await openBundle(bundlePath, { key: keys.publicKeyPem });
    const seen: string[] = [];
    try {
      expect(bundle.signature).toBe('verified');
      expect(bundle.keyId).toBe(keys.keyId);
      for await (const blob of bundle.blobs()) {
        const hash = createHash('sha256');
        for await (const chunk of blob.stream) hash.update(chunk as Buffer);
        expect(`sha256:${hash.digest('hex')}`).toBe(blob.descriptor.digest);
        expect(blobs.get(blob.descriptor.digest).length).toBe(blob.descriptor.size);
        seen.push(blob.descriptor.digest);
      }
    } finally {
      await bundle.close();
    }
    expect(new Set(seen).size).toBe(seen.length);
    const unique = await uniqueBlobs();
    expect(seen.length).toBe(unique.size);
    // appA and appB share their base layer: it is in the bundle once.
    const baseA = set.images.appA.blobs.filter((b) => set.images.appB.blobs.some((c) => c.digest === b.digest));
    expect(baseA.length).toBeGreaterThan(0);
    for (const shared of baseA) expect(seen.filter((d) => d === shared.digest)).toHaveLength(1);
    // The foreign (Windows) layer is carried too, with its urls kept in the index.
    const foreign = set.foreignLayer;
    expect(seen).toContain(foreign.digest);
  });

  it('stays within unique bytes + 0.5% + a fixed metadata allowance', async () => {
    const unique = [...(await uniqueBlobs()).values()].reduce((a, b) => a + b, 0);
    const size = (await stat(bundlePath)).size;
    const entries = (await readTar(bundlePath)).length;
    // tar costs at most 512 B header + 511 B padding per entry, plus the 1 KiB end marker; index.db is the rest.
    const dbSize = written.bundleJson.entries['ferry/index.db'].size;
    const allowance = entries * 1024 + 1024 + dbSize + 16 * 1024;
    const ratio = size / unique;
    console.info(`bundle ${size} B for ${unique} B of unique blobs (${entries} entries, index.db ${dbSize} B): ratio ${ratio.toFixed(4)}`);
    expect(size).toBeLessThanOrEqual(unique * 1.005 + allowance);
    expect(written.bytes).toBe(size);
    expect(written.sha256).toBe(createHash('sha256').update(await readFile(bundlePath)).digest('hex'));
  });

  it('costs under 0.5% + 64 KiB over the unique bytes for images sharing a 6 MiB layer', async () => {
    const set = new BlobSet();
    const base = await buildLayer([{ path: 'base.bin', content: pseudoRandomBytes('ratio-base', 6 * 1024 * 1024) }]);
    const roots = [];
    for (const name of ['one', 'two', 'three']) {
      const own = await buildLayer([{ path: `${name}.bin`, content: pseudoRandomBytes(name, 2 * 1024 * 1024) }]);
      const platform = { os: 'linux', architecture: 'amd64' };
      const layers = [
        { layer: base, createdBy: 'ADD base' },
        { layer: own, createdBy: `ADD ${name}` },
      ];
      roots.push({ name: `registry.example/ratio/${name}:1`, root: descriptorOf(addImage(set, { flavour: 'oci', platform, layers, cmd: ['/bin/true'] })) });
    }
    const unique = [...set.bytes.values()].reduce((n, b) => n + b.length, 0);
    const out = join(work.dir, 'ratio.tar');
    const result = await writeBundle({ images: roots, fetch: fetchFrom(set).fetch, out, created: CREATED, toolVersion: '0.1.0-test' });
    const ratio = result.bytes / unique;
    console.info(`shared-layer bundle: ${result.bytes} B for ${unique} B unique (${(3 * 8 * 1024 * 1024 / unique).toFixed(2)}x less than three full copies): ratio ${ratio.toFixed(5)}`);
    expect(result.bytes).toBeLessThanOrEqual(unique * 1.005 + 64 * 1024);
  });

  it('writes byte-identical bundles for the same inputs, whatever the image order', async () => {
    const { set, blobs } = await testImages();
    const again = join(work.dir, 'again.tar');
    const result = await writeBundle({
      images: [...ALL_IMAGES].reverse().map((k) => imageInput(set, k)),
      fetch: fetchFrom(blobs).fetch,
      out: again,
      signingKey: keys.privateKeyPem,
      created: CREATED,
      toolVersion: '0.1.0-test',
    });
    expect(result.sha256).toBe(written.sha256);
    expect((await readFile(again)).equals(await readFile(bundlePath))).toBe(true);
    expect(result.bundleJson.id).toBe(written.bundleJson.id);
  });

  it('derives the creation time from the newest image config when none is given', async () => {
    const { set, blobs } = await testImages();
    const out = join(work.dir, 'derived.tar');
    const result = await writeBundle({ images: [imageInput(set, 'appB')], fetch: fetchFrom(blobs).fetch, out, toolVersion: '0.1.0-test' });
    // Rig configs are created 2024-01-01T00:00:00Z.
    expect(result.bundleJson.created).toBe('2024-01-01T00:00:00Z');
    expect(result.bundleJson.signer).toBeNull();
  });

  it('leaves no partial file behind and names the image list in bundle.json and index.db', async () => {
    const files = await readdir(work.dir);
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    const { set } = await testImages();
    expect(written.bundleJson.images.map((i) => i.name)).toEqual(ALL_IMAGES.map((k) => fullName(set.images[k])).sort());
    const multi = written.bundleJson.images.find((i) => i.name === fullName(set.images.multi));
    expect(multi?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    const windows = written.bundleJson.images.find((i) => i.name === fullName(set.images.windows));
    expect(windows?.platforms).toEqual(['windows/amd64:10.0.20348.1234']);
  });
});

describe('a bundle read by stock tools', () => {
  const haveSkopeo = requirePeer('skopeo', 'skopeo');

  it('passes `sha256sum -c ferry/SHA256SUMS` and `openssl pkeyutl -verify -rawin` after a plain tar -x', async () => {
    const dir = join(work.dir, 'extracted');
    await runOk('mkdir', ['-p', dir]);
    await runOk('tar', ['-xf', bundlePath, '-C', dir]);
    const sums = await runOk('sha256sum', ['-c', 'ferry/SHA256SUMS'], { cwd: dir });
    expect(sums.stdout.trim().split('\n')).toHaveLength(written.bundleJson.blobs.count);
    expect(sums.stdout).not.toContain('FAILED');
    const pub = join(work.dir, 'signer.pub');
    await writeFile(pub, keys.publicKeyPem);
    const ok = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', 'ferry/bundle.json', '-sigfile', 'ferry/bundle.json.sig'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Signature Verified Successfully');
    // index.json, index.db and SHA256SUMS hash to what bundle.json says (the chain a human can follow).
    const bundleJson = JSON.parse(await readFile(join(dir, 'ferry/bundle.json'), 'utf8')) as { entries: Record<string, { digest: string }> };
    for (const name of ['index.json', 'ferry/index.db', 'ferry/SHA256SUMS']) {
      expect(digestOf(await readFile(join(dir, name)))).toBe(bundleJson.entries[name]?.digest);
    }
    // A changed bundle.json no longer verifies with openssl either.
    await writeFile(join(dir, 'ferry/bundle.json'), (await readFile(join(dir, 'ferry/bundle.json'), 'utf8')).replace('0.1.0-test', '0.1.0-evil'));
    const bad = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', 'ferry/bundle.json', '-sigfile', 'ferry/bundle.json.sig'], { cwd: dir });
    expect(bad.code).not.toBe(0);
  });

  it.skipIf(!haveSkopeo)('is read by real skopeo as oci-archive:BUNDLE:REF (OCI images, index and single manifest)', async () => {
    const { set, blobs } = await testImages();
    for (const key of OCI_IMAGES) {
      const image = set.images[key];
      const dest = join(work.dir, `skopeo-${key}`);
      const res = await run('skopeo', ['--insecure-policy', 'copy', '--all', '--preserve-digests', `oci-archive:${bundlePath}:${fullName(image)}`, `dir:${dest}`]);
      expect(res.code, res.stderr).toBe(0);
      const manifest = await readFile(join(dest, 'manifest.json'));
      expect(digestOf(manifest)).toBe(image.digest);
      // Every layer skopeo wrote is the rig's bytes.
      for (const blob of image.blobs) {
        const path = join(dest, digestHex(blob.digest));
        if (existsSync(path)) expect((await readFile(path)).equals(blobs.get(blob.digest))).toBe(true);
      }
    }
  });
});

describe('verifyBundle and inspectBundle on a good bundle', () => {
  it('verify reads everything and reports counts', async () => {
    const report = await verifyBundle(bundlePath, { key: keys.publicKeyPem });
    expect(report.signature).toBe('verified');
    expect(report.blobs).toBe(written.bundleJson.blobs.count);
    expect(report.blobBytes).toBe(written.bundleJson.blobs.bytes);
    expect(report.bytesRead).toBe(written.bytes);
    expect(report.images).toBe(ALL_IMAGES.length);
  });

  it('verify without a key reports a signed bundle as unchecked; requireSignature without a key is a usage error', async () => {
    const report = await verifyBundle(bundlePath);
    expect(report.signature).toBe('unchecked');
    const err = await verifyBundle(bundlePath, { requireSignature: true }).catch((e: unknown) => e);
    expect((err as { exitCode: number }).exitCode).toBe(2);
  });

  it('inspect lists images, tags, platforms, sizes and referrers from the head', async () => {
    const { set } = await testImages();
    const report = await inspectBundle(bundlePath);
    const appA = report.images.find((i) => i.name === fullName(set.images.appA));
    expect(appA?.tag).toBe('1.0');
    expect(appA?.platforms).toEqual(['linux/amd64']);
    expect(appA?.bytes).toBe([...set.images.appA.manifests, ...set.images.appA.blobs].reduce((n, d) => n + d.size, 0));
    expect(appA?.referrers.map((r) => r.digest)).toEqual([set.images.sbom.digest]);
    expect(report.blobs.count).toBe(written.bundleJson.blobs.count);
    expect(report.headBytes).toBeLessThan(report.bytesRead + 1);
  });
});
